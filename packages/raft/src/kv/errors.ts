import { RaftError } from '../errors';

/**
 * Base class of every error the KV layer (`KvStore`, `RaftKv`, the command
 * codec) throws; thrown itself when a replica returns a result that does not
 * match the request (a bug). A watch from a compacted revision rejects with
 * `@weft/interface`'s `WatchCompactedError`, bad options with its
 * `InvalidOptionsError`.
 */
export class KvError extends RaftError {
  override name = 'KvError';
  override readonly code: string = 'ERR_RAFT_KV';
}

/**
 * Command or snapshot bytes that cannot be decoded: truncated, an unknown tag
 * or version, trailing bytes. `offset` is where decoding stopped (bytes).
 * `KvStore.apply` never throws it: it returns an `error` result instead.
 */
export class KvCommandError extends KvError {
  override name = 'KvCommandError';
  override readonly code = 'ERR_RAFT_KV_COMMAND';
  constructor(
    message: string,
    /** Byte offset where decoding stopped. */
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
  override readonly code = 'ERR_RAFT_KV_INVALID_REQUEST';
  constructor(
    /** Path of the offending field (`request.key`, `success[0].value`, ...). */
    readonly field: string,
    message: string,
  ) {
    super(`kv: ${field} ${message}`);
  }
}
