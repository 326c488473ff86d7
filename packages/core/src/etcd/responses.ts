/* etcd v3 answers (int64 fields arrive as decimal strings) as store results. */
import type { DeleteResult, KeyValue, PutResult, RangeResult, TxnInput, TxnOp, TxnOpResult, TxnResult, WatchEvent } from '@weft/interface';
import type { IDeleteRangeResponse, IEvent, IKeyValue, IPutResponse, IRangeResponse, IResponseHeader, IResponseOp, ITxnResponse } from 'etcd3';
import { EtcdRevisionRangeError } from './errors';
import type { KeySpace } from './key-space';

const EMPTY = new Uint8Array(0);

/**
 * An etcd int64 (revision, version, count) as a number.
 * @throws EtcdRevisionRangeError when it is not a non-negative safe integer.
 */
export function int64(field: string, text: string | number | null | undefined): number {
  const s = text === null || text === undefined ? '0' : String(text);
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) throw new EtcdRevisionRangeError(field, s);
  return n;
}

/** The store revision a response header reports. */
export function revisionOf(header: IResponseHeader | null | undefined): number {
  return int64('header.revision', header?.revision);
}

/** A decoded bytes field as a plain Uint8Array view over the same memory (node:assert's deepEqual tells Buffer from Uint8Array). */
function bytesOf(buf: Uint8Array | null | undefined): Uint8Array {
  return buf && buf.length > 0 ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : EMPTY;
}

/** A key-value of etcd's. */
export function kvOf(space: KeySpace, kv: IKeyValue): KeyValue {
  return {
    key: space.keyOf(kv.key),
    value: bytesOf(kv.value),
    createRevision: int64('kv.create_revision', kv.create_revision),
    modRevision: int64('kv.mod_revision', kv.mod_revision),
    version: int64('kv.version', kv.version),
  };
}

/** A watch event. A delete's kv comes from etcd as the key, the deletion's mod revision, version 0 and no value — the store's shape. */
export function eventOf(space: KeySpace, event: IEvent): WatchEvent {
  const kv = kvOf(space, event.kv);
  const type = event.type === 'Delete' ? 'delete' : 'put';
  return event.prev_kv ? { type, kv, prevKv: kvOf(space, event.prev_kv), revision: kv.modRevision } : { type, kv, revision: kv.modRevision };
}

/** A range result; `revision` defaults to the response's own header. */
export function rangeResultOf(space: KeySpace, res: IRangeResponse, revision = revisionOf(res.header)): RangeResult {
  return { op: 'range', revision, kvs: (res.kvs ?? []).map((kv) => kvOf(space, kv)), count: int64('count', res.count), more: res.more === true };
}

/** A put result. */
export function putResultOf(space: KeySpace, res: IPutResponse, revision = revisionOf(res.header)): PutResult {
  return res.prev_kv ? { op: 'put', revision, prevKv: kvOf(space, res.prev_kv) } : { op: 'put', revision };
}

/** A delete result; `prevKvs` only when they were asked for. */
export function deleteResultOf(space: KeySpace, res: IDeleteRangeResponse, prevKv: boolean, revision = revisionOf(res.header)): DeleteResult {
  const r: DeleteResult = { op: 'delete', revision, deleted: int64('deleted', res.deleted) };
  return prevKv ? { ...r, prevKvs: (res.prev_kvs ?? []).map((kv) => kvOf(space, kv)) } : r;
}

function opResultOf(space: KeySpace, op: TxnOp | undefined, res: IResponseOp, revision: number): TxnOpResult {
  // Ops inside a txn report the txn's revision (etcd's inner headers carry only that, or nothing).
  if (res.response_range) return rangeResultOf(space, res.response_range, revision);
  if (res.response_put) return putResultOf(space, res.response_put, revision);
  if (res.response_delete_range) return deleteResultOf(space, res.response_delete_range, op?.op === 'delete' && op.prevKv === true, revision);
  throw new Error(`etcd store: txn answered with an op the store never sends (${Object.keys(res).join(', ')})`);
}

/** A txn result: one result per op of the branch that ran, at the txn's revision. */
export function txnResultOf(space: KeySpace, txn: TxnInput, res: ITxnResponse): TxnResult {
  const revision = revisionOf(res.header);
  const succeeded = res.succeeded === true;
  const branch = (succeeded ? txn.success : txn.failure) ?? [];
  const responses = res.responses ?? [];
  return { op: 'txn', revision, succeeded, results: responses.map((r, i) => opResultOf(space, branch[i], r, revision)) };
}
