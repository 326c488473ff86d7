import { describeValue } from './errors/parse-options';
import { InvalidOptionsError } from './errors/shared-errors';

/** A source of uniformly distributed numbers in [0, 1), injectable for replayable runs (`Math.random` fits). */
export type Random = () => number;

/**
 * A small deterministic PRNG (mulberry32): the same `seed` always gives the
 * same sequence on every platform. For simulations and tests; not cryptographic.
 * @param seed - any finite number; its low 32 bits (after truncation) select the stream.
 * @throws InvalidOptionsError (`field` `seed`) when `seed` is not a finite number.
 */
export function seededRandom(seed: number): Random {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new InvalidOptionsError('seed', `seededRandom: option "seed" must be a finite number (got ${describeValue(seed)})`);
  }
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
