/** A store was misused (gap in the log, use after close) or holds data it cannot decode. */
export class StorageError extends Error {
  override name = 'StorageError';
}
