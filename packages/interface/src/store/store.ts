import type { Compare, DeleteResult, KeySelector, KeyValue, PutResult, RangeResult, TxnOp, TxnResult, WatchEvent } from './types';

/** A value as bytes, or text stored as its UTF-8 bytes. */
export type ValueInput = string | Uint8Array;

/** Options of reads. */
export interface ReadOptions {
  /**
   * Read a possibly stale local copy instead of a linearizable read (etcd's
   * "serializable"). Default false: every read sees every write acknowledged
   * before it started.
   */
  readonly serializable?: boolean;
}

/** Options of a range. */
export interface RangeOptions extends ReadOptions {
  /** At most this many key-values (0 or omitted: no limit). */
  readonly limit?: number;
}

/** Options of {@link Store.watch}. */
export interface WatchOptions {
  /**
   * First revision to deliver (inclusive): history from there is delivered
   * first, in order. Default: only changes after the store's current revision.
   */
  readonly fromRevision?: number;
  /**
   * Called once when the watch ends abnormally: the revision it must resume
   * from was compacted (`WatchCompactedError`: re-read the state and watch
   * again from the read's revision + 1), the store closed (`StoreClosedError`),
   * or the listener threw (that error). No event is delivered after it.
   */
  readonly onError?: (error: unknown) => void;
}

/** A watch that is delivering events. */
export interface StoreWatch {
  /** Stops delivery at once; idempotent. */
  cancel(): void;
  /** False after `cancel()` or after `onError`. */
  readonly active: boolean;
}

/** Receives the events of one or more consecutive revisions, in order. */
export type WatchListener = (events: readonly WatchEvent[]) => void;

/** The parts of a txn; omitted lists are empty. */
export interface TxnInput {
  readonly compare?: readonly Compare[];
  readonly success?: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

/**
 * The shared, linearizable key-value state of a Weft cluster: the only way
 * `@weft/core` touches shared state. Backends: `@weft/raft`'s replicated KV
 * (embedded, on managers), an in-memory store (tests), and etcd v3.
 *
 * Contract every backend meets (core's conformance suite checks it):
 * - writes are linearizable and durable once the promise resolves;
 * - reads are linearizable unless `serializable` is asked for;
 * - a txn's compares and ops happen atomically at one revision;
 * - a watch delivers every change under its selector with revision ≥ its
 *   start exactly once, in revision order, events of one revision together —
 *   across reconnects of the backend too (it resumes from the last delivered
 *   revision + 1); when it cannot (history compacted), it ends with `onError`
 *   and delivers nothing more;
 * - a request that could not be served rejects with `StoreUnavailableError`
 *   (whose `outcomeUnknown` says whether a write may still have happened),
 *   after `close()` with `StoreClosedError`.
 */
export interface Store {
  /** The key's current key-value, or undefined. */
  get(key: string, options?: ReadOptions): Promise<KeyValue | undefined>;
  /** Key-values a selector covers, in key order, with the revision the read saw. */
  range(keys: KeySelector, options?: RangeOptions): Promise<RangeResult>;
  /** Sets a key (text becomes UTF-8). */
  put(key: string, value: ValueInput, options?: { readonly prevKv?: boolean }): Promise<PutResult>;
  /** Deletes one key (a string) or every key a selector covers. */
  delete(keys: string | KeySelector, options?: { readonly prevKv?: boolean }): Promise<DeleteResult>;
  /** An atomic compare → then/else. */
  txn(request: TxnInput): Promise<TxnResult>;
  /**
   * Watches every key under `prefix` (a string) or a selector. Resolves once
   * the watch is established: every change from `fromRevision` (default: the
   * current revision + 1) on will be delivered.
   * @throws WatchCompactedError (rejects) when `fromRevision` is already compacted.
   */
  watch(keys: string | KeySelector, listener: WatchListener, options?: WatchOptions): Promise<StoreWatch>;
  /** Ends every watch (their `onError` is not called) and releases connections. Idempotent. */
  close(): Promise<void>;
}
