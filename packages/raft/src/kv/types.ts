/**
 * Request, result and event types of the replicated key-value store. Keys are
 * non-empty strings ordered by UTF-16 code unit (JavaScript's `<`); values are
 * bytes.
 * Revisions follow etcd: the store has one global revision, 0 when empty,
 * incremented once per request that changes something (a txn with several
 * writes counts once).
 */

/** One key's current state. Objects are immutable snapshots; `value` must not be mutated. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created the key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the last write to the key. */
  readonly modRevision: number;
  /** Number of writes since creation: 1 after the first put; a deleted key has none. */
  readonly version: number;
}

/** Which keys a range or delete covers. */
export type KeySelector =
  /** Exactly this key. */
  | { readonly key: string }
  /** Every key starting with `prefix` (`''` selects all keys). */
  | { readonly prefix: string }
  /** Keys k with start ≤ k < end; every key from `start` on when `end` is omitted. */
  | { readonly start: string; readonly end?: string };

/** Read keys. */
export interface KvRangeRequest {
  readonly op: 'range';
  readonly keys: KeySelector;
  /** At most this many key-values (0 or omitted: no limit). */
  readonly limit?: number;
}

/** Set a key's value. */
export interface KvPutRequest {
  readonly op: 'put';
  readonly key: string;
  readonly value: Uint8Array;
  /** Return the previous key-value in the result. */
  readonly prevKv?: boolean;
}

/** Delete keys. */
export interface KvDeleteRequest {
  readonly op: 'delete';
  readonly keys: KeySelector;
  /** Return the deleted key-values in the result. */
  readonly prevKv?: boolean;
}

export type CompareResult = 'equal' | 'notEqual' | 'greater' | 'less';

/**
 * One condition of a txn on a single key. A missing key has version,
 * createRevision and modRevision 0; a `value` comparison on a missing key is
 * false whatever the operator. Values compare bytewise.
 */
export type Compare =
  | { readonly key: string; readonly target: 'value'; readonly result: CompareResult; readonly value: Uint8Array }
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly result: CompareResult;
      readonly value: number;
    };

/** A request that can appear inside a txn. */
export type KvOp = KvRangeRequest | KvPutRequest | KvDeleteRequest;

/** If every compare holds, run `success`, otherwise `failure`, atomically, in order (later ops see earlier writes). */
export interface KvTxnRequest {
  readonly op: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly KvOp[];
  readonly failure: readonly KvOp[];
}

/** Any request; encoded with `encodeKvRequest` to become a Raft command. */
export type KvRequest = KvOp | KvTxnRequest;

/** Result of a range. */
export interface KvRangeResult {
  readonly op: 'range';
  /** Store revision after the request. */
  readonly revision: number;
  /** Matching key-values in key order (at most `limit`). */
  readonly kvs: readonly KeyValue[];
  /** Number of matching keys (regardless of `limit`). */
  readonly count: number;
  /** True when `limit` cut the list. */
  readonly more: boolean;
}

export interface KvPutResult {
  readonly op: 'put';
  readonly revision: number;
  /** The key-value before the put, when asked for and the key existed. */
  readonly prevKv?: KeyValue;
}

export interface KvDeleteResult {
  readonly op: 'delete';
  readonly revision: number;
  readonly deleted: number;
  /** The deleted key-values, when asked for. */
  readonly prevKvs?: readonly KeyValue[];
}

export type KvOpResult = KvRangeResult | KvPutResult | KvDeleteResult;

export interface KvTxnResult {
  readonly op: 'txn';
  readonly revision: number;
  /** Whether every compare held (so `success` ran). */
  readonly succeeded: boolean;
  /** One result per op of the branch that ran. */
  readonly results: readonly KvOpResult[];
}

/** A command that could not be decoded; the store is unchanged. */
export interface KvErrorResult {
  readonly op: 'error';
  readonly revision: number;
  readonly error: { readonly name: string; readonly message: string };
}

/** What `KvStore.apply` returns (and `RaftNode.propose` resolves with). */
export type KvResult = KvOpResult | KvTxnResult | KvErrorResult;

/** One change, delivered to watchers in revision order. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** The key-value after a put; for a delete, the key with `modRevision` = the deletion's revision, empty value, version 0. */
  readonly kv: KeyValue;
  /** The key-value before the change, if the key existed. */
  readonly prevKv?: KeyValue;
  /** Revision of the change (equal to `kv.modRevision`). */
  readonly revision: number;
}
