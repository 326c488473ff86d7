import type { ValueInput } from './store';
import type { Compare, CompareResult, DeleteRequest, KeySelector, PutRequest, RangeRequest, TxnOp, TxnRequest } from './types';
import { valueBytes } from './values';

const selectorOf = (keys: string | KeySelector): KeySelector => (typeof keys === 'string' ? { key: keys } : keys);

/**
 * Builders for store requests (txn ops). A `string` where a selector is
 * expected means that single key; text values become UTF-8.
 *
 * @example
 * store.txn({ compare: [cmp.version('ip/10.0.0.2', 'equal', 0)], success: [kv.put('ip/10.0.0.2', 'c1')] })
 */
export const kv = {
  /** Read one key. */
  get(key: string): RangeRequest {
    return { op: 'range', keys: { key } };
  },
  /** Read keys: a single key (string) or a selector; `limit` 0 = all. */
  range(keys: string | KeySelector, options: { limit?: number } = {}): RangeRequest {
    return options.limit ? { op: 'range', keys: selectorOf(keys), limit: options.limit } : { op: 'range', keys: selectorOf(keys) };
  },
  /** Every key under a prefix. */
  prefix(prefix: string, options: { limit?: number } = {}): RangeRequest {
    return kv.range({ prefix }, options);
  },
  /** Set a key. The value buffer is referenced, not copied. */
  put(key: string, value: ValueInput, options: { prevKv?: boolean } = {}): PutRequest {
    const req: PutRequest = { op: 'put', key, value: valueBytes(value) };
    return options.prevKv ? { ...req, prevKv: true } : req;
  },
  /** Set a key to `value` as UTF-8 JSON. */
  putJson(key: string, value: unknown, options: { prevKv?: boolean } = {}): PutRequest {
    return kv.put(key, JSON.stringify(value), options);
  },
  /** Delete a key (string) or a selection of keys. */
  delete(keys: string | KeySelector, options: { prevKv?: boolean } = {}): DeleteRequest {
    const req: DeleteRequest = { op: 'delete', keys: selectorOf(keys) };
    return options.prevKv ? { ...req, prevKv: true } : req;
  },
  /** An atomic compare → then/else. */
  txn(parts: { compare?: readonly Compare[]; success?: readonly TxnOp[]; failure?: readonly TxnOp[] }): TxnRequest {
    return { op: 'txn', compare: parts.compare ?? [], success: parts.success ?? [], failure: parts.failure ?? [] };
  },
};

/** Builders for txn conditions. */
export const cmp = {
  /** Compare the key's value bytewise (false on a missing key). */
  value(key: string, result: CompareResult, value: ValueInput): Compare {
    return { key, target: 'value', result, value: valueBytes(value) };
  },
  /** Compare the key's version (0 when missing: `version(k, 'equal', 0)` means "k does not exist"). */
  version(key: string, result: CompareResult, value: number): Compare {
    return { key, target: 'version', result, value };
  },
  /** Compare the revision that created the key (0 when missing). */
  createRevision(key: string, result: CompareResult, value: number): Compare {
    return { key, target: 'createRevision', result, value };
  },
  /** Compare the revision of the key's last write (0 when missing). */
  modRevision(key: string, result: CompareResult, value: number): Compare {
    return { key, target: 'modRevision', result, value };
  },
  /** True when the key does not exist (`version == 0`). */
  missing(key: string): Compare {
    return { key, target: 'version', result: 'equal', value: 0 };
  },
};
