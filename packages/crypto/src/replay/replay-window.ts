import { parseOptions } from '@weft/interface';
import { z } from 'zod';

/** Result of `ReplayWindow.check`: the sequence number may be accepted. */
export const REPLAY_OK = 0;
/** Result of `ReplayWindow.check`: the sequence number was already accepted. */
export const REPLAY_DUPLICATE = 1;
/** Result of `ReplayWindow.check`: the sequence number is below the window (or 0, never valid). */
export const REPLAY_OLD = 2;
/** One of `REPLAY_OK`, `REPLAY_DUPLICATE`, `REPLAY_OLD`. */
export type ReplayCheck = typeof REPLAY_OK | typeof REPLAY_DUPLICATE | typeof REPLAY_OLD;

/** Default window size, packets. */
export const DEFAULT_REPLAY_WINDOW = 2048;
/** Smallest window allowed (RFC 4303 §3.4.3 asks for at least 32), packets. */
export const MIN_REPLAY_WINDOW = 32;
/** Largest window allowed, packets. */
export const MAX_REPLAY_WINDOW = 65536;

const TWO_32 = 2 ** 32;

const isWindowSize = (v: number): boolean => Number.isInteger(v) && v >= MIN_REPLAY_WINDOW && v <= MAX_REPLAY_WINDOW && v % 32 === 0;

/** @internal Zod schema of a window size option (default 2048). */
export const replayWindowSchema = z
  .number()
  .int()
  .refine(isWindowSize, {
    message: `must be a multiple of 32 between ${MIN_REPLAY_WINDOW} and ${MAX_REPLAY_WINDOW} packets`,
  })
  .default(DEFAULT_REPLAY_WINDOW);

const constructorSchema = z.object({ size: replayWindowSchema });

/**
 * ESP anti-replay window over 64-bit (extended) sequence numbers, RFC 4303
 * §3.4.3 and Appendix A. A circular bitmap of `size` bits indexed by
 * `sequence % size`; sliding forward clears only the slots that leave the
 * window, so the common case (next packet in order) costs one word write.
 *
 * Protocol: `inferSequence(low)` → `check(seq)` before decrypting →
 * `accept(seq)` only after the tag verified. Sequence numbers are JS numbers
 * (exact up to 2^53 − 1); 0 is never valid (ESP starts at 1).
 */
export class ReplayWindow {
  /** Window size, packets (a multiple of 32). */
  readonly size: number;
  private readonly bits: Uint32Array;
  private highest = 0;

  /**
   * @param size - window size in packets (default 2048).
   * @throws InvalidOptionsError (`field` `size`) when `size` is not a multiple of 32 in [32, 65536].
   */
  constructor(size: number = DEFAULT_REPLAY_WINDOW) {
    this.size = parseOptions(constructorSchema, { size }, 'ReplayWindow').size;
    this.bits = new Uint32Array(this.size / 32);
  }

  /** Highest sequence number accepted so far (0 before the first). */
  get top(): number {
    return this.highest;
  }

  /**
   * Reconstructs the full 64-bit sequence number from its low 32 bits
   * (RFC 4303 Appendix A2.2, cases A and B). Returns -1 when the inferred
   * value would be negative or beyond 2^53 − 1 (no valid packet has it).
   */
  inferSequence(low: number): number {
    const top = this.highest;
    const tl = top % TWO_32;
    const th = (top - tl) / TWO_32;
    const bottom = (tl - this.size + 1) >>> 0; // Bl = Tl − W + 1 (mod 2^32)
    let high: number;
    if (tl >= this.size - 1) high = low >= bottom ? th : th + 1; // case A: window within one subspace
    else high = low >= bottom ? th - 1 : th; // case B: window spans two subspaces
    if (high < 0) return -1;
    const seq = high * TWO_32 + low;
    return seq > Number.MAX_SAFE_INTEGER ? -1 : seq;
  }

  /** Checks `seq` (a full sequence number) without changing state. */
  check(seq: number): ReplayCheck {
    const top = this.highest;
    if (seq > top) return REPLAY_OK;
    if (seq <= 0 || top - seq >= this.size) return REPLAY_OLD;
    const i = seq % this.size;
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0 ? REPLAY_DUPLICATE : REPLAY_OK;
  }

  /**
   * Records `seq` as received, sliding the window forward when it is new.
   * Call only after `check(seq) === REPLAY_OK` and after the tag verified.
   */
  accept(seq: number): void {
    const size = this.size;
    const top = this.highest;
    if (seq > top) {
      const advance = seq - top;
      if (advance >= size) this.bits.fill(0);
      else this.clear((top + 1) % size, advance);
      this.highest = seq;
    }
    const i = seq % size;
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }

  /** Clears `count` (< size) bit slots starting at slot `from`, wrapping. */
  private clear(from: number, count: number): void {
    const bits = this.bits;
    const size = this.size;
    let i = from;
    let n = count;
    while (n > 0) {
      if ((i & 31) === 0 && n >= 32) {
        bits[i >>> 5] = 0;
        i += 32;
        n -= 32;
      } else {
        bits[i >>> 5]! &= ~(1 << (i & 31));
        i += 1;
        n -= 1;
      }
      if (i === size) i = 0;
    }
  }
}
