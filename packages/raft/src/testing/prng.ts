import { InvalidOptionsError, type Random } from '@weft/interface';
import { RaftTestingError } from './errors';

/**
 * A small seeded pseudo-random generator for replayable tests and simulations.
 *
 * The state is a 32-bit Weyl sequence (step 0x9e3779b9, the golden ratio)
 * whose every value goes through a 32-bit integer finalizer (the SplitMix
 * construction at 32 bits). It is fast, has no bad seeds, and the same seed
 * gives the same stream on every platform. Not for cryptography.
 *
 * Where only a `() => number` is needed, `seededRandom(seed)` from
 * `@weft/interface` is the shared one; `Prng` adds the integer, choice,
 * shuffle and fork helpers the simulations use (its stream is its own, so
 * recorded seeds stay reproducible).
 */
export class Prng {
  private state: number;

  /**
   * @param seed - any finite number; only its low 32 bits (after truncation
   * toward zero) select the stream.
   * @throws InvalidOptionsError (from `@weft/interface`, field `seed`) when `seed` is not a finite number.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new InvalidOptionsError('seed', `Prng: option "seed" must be a finite number (got ${String(seed)})`);
    }
    this.state = Math.trunc(seed) >>> 0;
  }

  /** The next value as an unsigned 32-bit integer in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A float in [0, 1) with 32 bits of randomness (usable as a `random: () => number` source). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * An integer in [min, max] (both inclusive).
   * @throws RaftTestingError when the bounds are not safe integers or `max < min`.
   */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RaftTestingError(`Prng.int: invalid range [${min}, ${max}]`);
    }
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p` (0 ≤ p ≤ 1; values outside are clamped by the comparison). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * A uniformly chosen element.
   * @throws RaftTestingError when `items` is empty.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RaftTestingError('Prng.pick: empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }

  /** A new generator seeded from this one's stream (an independent sub-stream, e.g. one per node). */
  fork(): Prng {
    return new Prng(this.nextUint32());
  }

  /** A `() => number` in [0, 1) bound to this generator (a `Random` for `RawNode`, `RaftNode`, `MemoryTransportNetwork`). */
  asFunction(): Random {
    return () => this.next();
  }
}
