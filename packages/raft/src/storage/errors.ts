import { RaftError } from '../errors';

/** A store was misused (gap in the log, use after close) or holds data it cannot decode. */
export class StorageError extends RaftError {
  override name = 'StorageError';
  override readonly code: string = 'ERR_RAFT_STORAGE';
}
