/* Store requests as etcd v3 gRPC requests (`etcdserverpb`), keys mapped through a `KeySpace`. */
import type { Compare, CompareResult, KeySelector, TxnInput, TxnOp } from '@weft/interface';
import type { ICompare, IDeleteRangeRequest, IPutRequest, IRangeRequest, IRequestOp, ITxnRequest } from 'etcd3';
import type { EtcdRange, KeySpace } from './key-space';

const RESULTS: Readonly<Record<CompareResult, NonNullable<ICompare['result']>>> = {
  equal: 'Equal',
  notEqual: 'NotEqual',
  greater: 'Greater',
  less: 'Less',
};

/** The bytes as a Buffer over the same memory (no copy). */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function withRange<T extends object>(range: EtcdRange, rest: T): T & { key: Buffer; range_end?: Buffer } {
  return range.rangeEnd === undefined ? { key: range.key, ...rest } : { key: range.key, range_end: range.rangeEnd, ...rest };
}

/** A range; `limit` 0 = all; `serializable` = a member-local read. */
export function rangeRequest(space: KeySpace, keys: KeySelector, limit = 0, serializable = false): IRangeRequest {
  return withRange(space.range(keys), { ...(limit > 0 ? { limit: String(limit) } : {}), ...(serializable ? { serializable: true } : {}) });
}

/** A put; the value buffer is referenced, not copied. */
export function putRequest(space: KeySpace, key: string, value: Uint8Array, prevKv = false): IPutRequest {
  return { key: space.key(key), value: bufferOf(value), ...(prevKv ? { prev_kv: true } : {}) };
}

/** A delete of one key or a selection. */
export function deleteRequest(space: KeySpace, keys: KeySelector, prevKv = false): IDeleteRangeRequest {
  return withRange(space.range(keys), prevKv ? { prev_kv: true } : {});
}

/**
 * One txn condition. etcd's semantics are the store's: a missing key has
 * version / create / mod revision 0, and a value comparison on a missing key
 * is false whatever the operator (etcd's `applyCompare`; checked against a
 * real server by the tests).
 */
export function compareOf(space: KeySpace, c: Compare): ICompare {
  const base = { key: space.key(c.key), result: RESULTS[c.result] };
  switch (c.target) {
    case 'value':
      return { ...base, target: 'Value', value: bufferOf(c.value) };
    case 'version':
      return { ...base, target: 'Version', version: String(c.value) };
    case 'createRevision':
      return { ...base, target: 'Create', create_revision: String(c.value) };
    case 'modRevision':
      return { ...base, target: 'Mod', mod_revision: String(c.value) };
  }
}

/** One op of a txn branch. */
export function requestOpOf(space: KeySpace, op: TxnOp): IRequestOp {
  switch (op.op) {
    case 'range':
      return { request_range: rangeRequest(space, op.keys, op.limit ?? 0) };
    case 'put':
      return { request_put: putRequest(space, op.key, op.value, op.prevKv === true) };
    case 'delete':
      return { request_delete_range: deleteRequest(space, op.keys, op.prevKv === true) };
  }
}

/** A whole txn. */
export function txnRequest(space: KeySpace, txn: TxnInput): ITxnRequest {
  return {
    compare: (txn.compare ?? []).map((c) => compareOf(space, c)),
    success: (txn.success ?? []).map((op) => requestOpOf(space, op)),
    failure: (txn.failure ?? []).map((op) => requestOpOf(space, op)),
  };
}
