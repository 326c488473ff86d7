/** Base class of every error the KV layer (`KvStore`, `RaftKv`, the command codec) throws. */
export class KvError extends Error {
  override name = 'KvError';
}

/**
 * Command or snapshot bytes that cannot be decoded: truncated, an unknown tag
 * or version, trailing bytes. `offset` is where decoding stopped (bytes).
 * `KvStore.apply` never throws it: it returns an `error` result instead.
 */
export class KvCommandError extends KvError {
  override name = 'KvCommandError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`kv: ${message} (at byte ${offset})`);
  }
}

/**
 * A request object that cannot be encoded: a negative or fractional number, a
 * value that is not a Uint8Array, an unknown op. `field` names the field.
 */
export class InvalidKvRequestError extends KvError {
  override name = 'InvalidKvRequestError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`kv: ${field} ${message}`);
  }
}

/**
 * A watch asked for events from a revision the store no longer holds in its
 * bounded history (or lost after a snapshot restore). Watch again from
 * `compactRevision + 1` after re-reading the current state.
 */
export class WatchCompactedError extends KvError {
  override name = 'WatchCompactedError';
  constructor(
    readonly requestedRevision: number,
    readonly compactRevision: number,
  ) {
    super(`kv: watch from revision ${requestedRevision} is compacted (events up to revision ${compactRevision} are gone)`);
  }
}
