import { WeftError } from '@weft/interface';

/**
 * The root of every error `@weft/raft` throws on purpose. Its subclasses group
 * by part: {@link RaftCoreError} (the pure core), `RaftNodeError` (the
 * driver), `StorageError`, `TransportError`, `KvError`, and `RaftTestingError`
 * (in `@weft/raft/testing`). Bad options throw `@weft/interface`'s
 * `InvalidOptionsError`, malformed wire bytes its `MalformedPacketError`, and a
 * compacted watch its `WatchCompactedError` instead.
 *
 * Branch on `code` (stable, `ERR_RAFT_…`) or use `isWeftError(err, code)`.
 */
export class RaftError extends WeftError {
  override name = 'RaftError';
  override readonly code: string = 'ERR_RAFT';
}
