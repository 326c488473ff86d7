/**
 * Result types specific to `@weft/raft`'s replicated key-value store. The
 * data model, requests and the other results (`KeyValue`, `KeySelector`,
 * `StoreRequest`, `RangeResult`, `TxnResult`, `WatchEvent`, ...) are
 * `@weft/interface`'s `Store` types: `KvStore` executes them and `RaftKv`
 * implements `Store`.
 */
import type { TxnOpResult, TxnResult } from '@weft/interface';

/** A command that could not be decoded; the store is unchanged. */
export interface KvErrorResult {
  readonly op: 'error';
  /** The store's revision (unchanged). */
  readonly revision: number;
  /** What was wrong with the command (`name` is `KvCommandError`). */
  readonly error: { readonly name: string; readonly message: string };
}

/** What `KvStore.apply` returns (and `RaftNode.propose` resolves with). */
export type KvResult = TxnOpResult | TxnResult | KvErrorResult;
