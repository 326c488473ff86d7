/**
 * The data model of a {@link Store} — etcd v3's: string keys in order (by
 * UTF-16 code unit, JavaScript's `<`), byte values, one global revision
 * (0 when empty, +1 per request that changes something; a txn with several
 * writes counts once), and per key a create revision, a mod revision and a
 * version.
 */

/** One key's current state. An immutable snapshot; `value` must not be mutated. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created the key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the last write to the key. */
  readonly modRevision: number;
  /** Writes since creation: 1 after the first put; a deleted key has none (0). */
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
export interface RangeRequest {
  readonly op: 'range';
  readonly keys: KeySelector;
  /** At most this many key-values (0 or omitted: no limit). */
  readonly limit?: number;
}

/** Set a key's value. */
export interface PutRequest {
  readonly op: 'put';
  readonly key: string;
  readonly value: Uint8Array;
  /** Return the previous key-value in the result. */
  readonly prevKv?: boolean;
}

/** Delete keys. */
export interface DeleteRequest {
  readonly op: 'delete';
  readonly keys: KeySelector;
  /** Return the deleted key-values in the result. */
  readonly prevKv?: boolean;
}

/** How a txn condition compares the key's field with the given value. */
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
export type TxnOp = RangeRequest | PutRequest | DeleteRequest;

/** If every compare holds, run `success`, otherwise `failure`, atomically and in order (later ops see earlier writes). */
export interface TxnRequest {
  readonly op: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

/** Any request. */
export type StoreRequest = TxnOp | TxnRequest;

/** Result of a range. */
export interface RangeResult {
  readonly op: 'range';
  /** Store revision the read saw. */
  readonly revision: number;
  /** Matching key-values in key order (at most `limit`). */
  readonly kvs: readonly KeyValue[];
  /** Number of matching keys (regardless of `limit`). */
  readonly count: number;
  /** True when `limit` cut the list. */
  readonly more: boolean;
}

/** Result of a put. */
export interface PutResult {
  readonly op: 'put';
  /** Store revision after the request. */
  readonly revision: number;
  /** The key-value before the put, when asked for and the key existed. */
  readonly prevKv?: KeyValue;
}

/** Result of a delete. */
export interface DeleteResult {
  readonly op: 'delete';
  /** Store revision after the request. */
  readonly revision: number;
  /** How many keys were deleted. */
  readonly deleted: number;
  /** The deleted key-values, when asked for. */
  readonly prevKvs?: readonly KeyValue[];
}

/** Result of one op inside a txn. */
export type TxnOpResult = RangeResult | PutResult | DeleteResult;

/** Result of a txn. */
export interface TxnResult {
  readonly op: 'txn';
  /** Store revision after the request. */
  readonly revision: number;
  /** Whether every compare held (so `success` ran). */
  readonly succeeded: boolean;
  /** One result per op of the branch that ran. */
  readonly results: readonly TxnOpResult[];
}

/** One change, delivered to watchers in revision order. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** The key-value after a put; for a delete, the key with `modRevision` = the deletion's revision, an empty value and version 0. */
  readonly kv: KeyValue;
  /** The key-value before the change, when the store provides it and the key existed. */
  readonly prevKv?: KeyValue;
  /** Revision of the change (equal to `kv.modRevision`). */
  readonly revision: number;
}
