import { WeftError, type WeftErrorOptions } from '../errors/weft-error';

/** Base class of the errors every {@link Store} backend shares. */
export class StoreError extends WeftError {
  override name = 'StoreError';
  override readonly code: string = 'ERR_STORE';
}

/**
 * A watch (or a resume after a reconnect) asked for events from a revision
 * the store no longer holds. Re-read the state, then watch from the read's
 * revision + 1.
 */
export class WatchCompactedError extends StoreError {
  override name = 'WatchCompactedError';
  override readonly code = 'ERR_WATCH_COMPACTED';
  constructor(
    /** The revision the watch asked to start from. */
    readonly requestedRevision: number,
    /** Events of revisions ≤ this are gone. */
    readonly compactRevision: number,
    options?: WeftErrorOptions,
  ) {
    super(`watch from revision ${requestedRevision} is compacted (events up to revision ${compactRevision} are gone)`, options);
  }
}

/**
 * The store could not serve the request now: no quorum, no leader reachable,
 * or the connection failed. `outcomeUnknown` is true for a write that may
 * still have been applied (retry only idempotent writes, or check first).
 */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  override readonly code: string = 'ERR_STORE_UNAVAILABLE';
  constructor(
    message: string,
    /** True when a write may have happened despite the error. */
    readonly outcomeUnknown: boolean,
    options?: WeftErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The store's replicas cannot form a quorum now (a majority of managers is
 * down or cut off), so the request was refused at once instead of waiting
 * for a timeout: control operations fail fast while the data plane keeps
 * forwarding on what it has. A `StoreUnavailableError` (`instanceof`), but
 * with a name of its own, so loops that retry `StoreUnavailableError` by name
 * do not spin on it. Retry once managers are back (writes with
 * `outcomeUnknown` only if idempotent).
 */
export class QuorumLostError extends StoreUnavailableError {
  override name = 'QuorumLostError';
  override readonly code: string = 'ERR_STORE_QUORUM_LOST';
}

/** A request to a store after `close()`. */
export class StoreClosedError extends StoreError {
  override name = 'StoreClosedError';
  override readonly code = 'ERR_STORE_CLOSED';
}
