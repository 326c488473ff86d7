import { utf8 } from './bytes';
import type {
  Compare,
  CompareResult,
  KeySelector,
  KvDeleteRequest,
  KvOp,
  KvPutRequest,
  KvRangeRequest,
  KvTxnRequest,
} from './types';

/** A value given as text is stored as its UTF-8 bytes. */
export type ValueInput = string | Uint8Array;

const bytesOf = (v: ValueInput): Uint8Array => (typeof v === 'string' ? utf8(v) : v);
const selectorOf = (keys: string | KeySelector): KeySelector => (typeof keys === 'string' ? { key: keys } : keys);

/**
 * Builders for KV requests; pass the result to `encodeKvRequest` (or to
 * `RaftKv`). A `string` where a selector is expected means that single key.
 *
 * @example
 * kv.txn({ compare: [cmp.version('ip/10.0.0.2', 'equal', 0)], success: [kv.put('ip/10.0.0.2', 'c1')] })
 */
export const kv = {
  /** Read one key. */
  get(key: string): KvRangeRequest {
    return { op: 'range', keys: { key } };
  },
  /** Read keys: a single key (string) or a selector; `limit` 0 = all. */
  range(keys: string | KeySelector, options: { limit?: number } = {}): KvRangeRequest {
    return options.limit ? { op: 'range', keys: selectorOf(keys), limit: options.limit } : { op: 'range', keys: selectorOf(keys) };
  },
  /** Every key under a prefix. */
  prefix(prefix: string, options: { limit?: number } = {}): KvRangeRequest {
    return kv.range({ prefix }, options);
  },
  /** Set a key; text values become UTF-8. The value buffer is referenced, not copied. */
  put(key: string, value: ValueInput, options: { prevKv?: boolean } = {}): KvPutRequest {
    const req: KvPutRequest = { op: 'put', key, value: bytesOf(value) };
    return options.prevKv ? { ...req, prevKv: true } : req;
  },
  /** Delete a key (string) or a selection of keys. */
  delete(keys: string | KeySelector, options: { prevKv?: boolean } = {}): KvDeleteRequest {
    const req: KvDeleteRequest = { op: 'delete', keys: selectorOf(keys) };
    return options.prevKv ? { ...req, prevKv: true } : req;
  },
  /** An atomic compare → then/else. */
  txn(parts: { compare?: readonly Compare[]; success?: readonly KvOp[]; failure?: readonly KvOp[] }): KvTxnRequest {
    return { op: 'txn', compare: parts.compare ?? [], success: parts.success ?? [], failure: parts.failure ?? [] };
  },
};

/** Builders for txn conditions. */
export const cmp = {
  /** Compare the key's value bytewise (false on a missing key). */
  value(key: string, result: CompareResult, value: ValueInput): Compare {
    return { key, target: 'value', result, value: bytesOf(value) };
  },
  /** Compare the key's version (0 when missing: `version(k, 'equal', 0)` means "k does not exist"). */
  version(key: string, result: CompareResult, value: number): Compare {
    return { key, target: 'version', result, value };
  },
  createRevision(key: string, result: CompareResult, value: number): Compare {
    return { key, target: 'createRevision', result, value };
  },
  modRevision(key: string, result: CompareResult, value: number): Compare {
    return { key, target: 'modRevision', result, value };
  },
};
