import { describeValue } from './errors/parse-options';
import { InvalidOptionsError } from './errors/shared-errors';

/** A monotonic millisecond clock, injected wherever logic must be replayable. */
export interface Clock {
  /** Current time in milliseconds (monotonic; the origin is arbitrary). */
  now(): number;
}

/**
 * Wall-clock time: milliseconds since the Unix epoch (`Date.now()`), for
 * values that are compared across machines or stored (record timestamps,
 * command time in replicated state). Not monotonic.
 */
export const wallClock: Clock = { now: () => Date.now() };

/** The process's monotonic clock (`performance.now()`). */
export const systemClock: Clock = { now: () => globalThis.performance.now() };

/** A clock that only moves when told to; for deterministic tests. */
export class ManualClock implements Clock {
  private time: number;
  /**
   * @param start - initial reading in ms (default 0).
   * @throws InvalidOptionsError (`field` `start`) when `start` is not a finite number.
   */
  constructor(start = 0) {
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new InvalidOptionsError('start', `ManualClock: option "start" must be a finite number of ms (got ${describeValue(start)})`);
    }
    this.time = start;
  }
  /** Current reading in ms. */
  now(): number {
    return this.time;
  }
  /** Moves the clock forward by `ms` milliseconds (negative values are ignored). */
  advance(ms: number): void {
    if (ms > 0) this.time += ms;
  }
}
