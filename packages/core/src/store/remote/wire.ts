import {
  StoreError,
  StoreUnavailableError,
  QuorumLostError,
  WatchCompactedError,
  type Compare,
  type KeySelector,
  type KeyValue,
  type TxnInput,
  type TxnOp,
  type TxnOpResult,
  type TxnResult,
  type WatchEvent,
} from '@weft/interface';
import { z } from 'zod';
import { PermissionDeniedError } from '../../errors';

/**
 * The store protocol's JSON shapes. Bytes travel as base64; every message
 * received is validated with these schemas before use (both directions are
 * trust boundaries). Versioned by `v` in the hello exchange.
 */
export const PROTOCOL_VERSION = 1;

const b64 = z.string().max(32 * 1024 * 1024);
const rev = z.number().int().min(0);
const selector = z.union([
  z.object({ key: z.string() }).strict(),
  z.object({ prefix: z.string() }).strict(),
  z.object({ start: z.string(), end: z.string().optional() }).strict(),
]);
const compareResult = z.enum(['equal', 'notEqual', 'greater', 'less']);
const wireCompare = z.union([
  z.object({ key: z.string(), target: z.literal('value'), result: compareResult, value: b64 }).strict(),
  z.object({ key: z.string(), target: z.enum(['version', 'createRevision', 'modRevision']), result: compareResult, value: z.number().int() }).strict(),
]);
const wireOp = z.union([
  z.object({ op: z.literal('range'), keys: selector, limit: z.number().int().min(0).optional() }).strict(),
  z.object({ op: z.literal('put'), key: z.string().min(1), value: b64, prevKv: z.boolean().optional() }).strict(),
  z.object({ op: z.literal('delete'), keys: selector, prevKv: z.boolean().optional() }).strict(),
]);

/** A request from a client. */
export const clientMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.number().int() }).strict(),
  z.object({ t: z.literal('get'), id: z.number().int(), key: z.string(), serializable: z.boolean().optional() }).strict(),
  z.object({ t: z.literal('range'), id: z.number().int(), keys: selector, limit: z.number().int().min(0).optional(), serializable: z.boolean().optional() }).strict(),
  z.object({ t: z.literal('txn'), id: z.number().int(), compare: z.array(wireCompare), success: z.array(wireOp), failure: z.array(wireOp) }).strict(),
  z.object({ t: z.literal('watch'), id: z.number().int(), keys: selector, fromRevision: z.number().int().min(1).optional() }).strict(),
  z.object({ t: z.literal('cancel'), id: z.number().int() }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

const wireKv = z.object({ key: z.string(), value: b64, createRevision: rev, modRevision: rev, version: rev }).strict();
const wireEvent = z.object({ type: z.enum(['put', 'delete']), kv: wireKv, prevKv: wireKv.optional(), revision: rev }).strict();
const wireOpResult = z.union([
  z.object({ op: z.literal('range'), revision: rev, kvs: z.array(wireKv), count: z.number().int(), more: z.boolean() }).strict(),
  z.object({ op: z.literal('put'), revision: rev, prevKv: wireKv.optional() }).strict(),
  z.object({ op: z.literal('delete'), revision: rev, deleted: z.number().int(), prevKvs: z.array(wireKv).optional() }).strict(),
]);
const wireError = z
  .object({
    name: z.string(),
    code: z.string(),
    message: z.string(),
    outcomeUnknown: z.boolean().optional(),
    requestedRevision: z.number().optional(),
    compactRevision: z.number().optional(),
  })
  .strict();

/** A reply or push from a server. */
export const serverMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.number().int() }).strict(),
  z.object({ t: z.literal('kv'), id: z.number().int(), kv: wireKv.nullable() }).strict(),
  z.object({ t: z.literal('result'), id: z.number().int(), result: wireOpResult }).strict(),
  z.object({ t: z.literal('txn'), id: z.number().int(), revision: rev, succeeded: z.boolean(), results: z.array(wireOpResult) }).strict(),
  z.object({ t: z.literal('error'), id: z.number().int(), error: wireError }).strict(),
  z.object({ t: z.literal('watching'), id: z.number().int(), fromRevision: z.number().int() }).strict(),
  z.object({ t: z.literal('events'), id: z.number().int(), events: z.array(wireEvent) }).strict(),
  z.object({ t: z.literal('watch-error'), id: z.number().int(), error: wireError }).strict(),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type WireKv = z.infer<typeof wireKv>;
export type WireError = z.infer<typeof wireError>;

const enc = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const dec = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

export function kvToWire(kv: KeyValue): WireKv {
  return { key: kv.key, value: enc(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version };
}
export function kvFromWire(w: WireKv): KeyValue {
  return { key: w.key, value: dec(w.value), createRevision: w.createRevision, modRevision: w.modRevision, version: w.version };
}

export function compareToWire(c: Compare): z.infer<typeof wireCompare> {
  return c.target === 'value' ? { key: c.key, target: 'value', result: c.result, value: enc(c.value) } : { ...c };
}
export function compareFromWire(c: z.infer<typeof wireCompare>): Compare {
  return c.target === 'value' ? { key: c.key, target: 'value', result: c.result, value: dec(c.value) } : { ...c };
}

export function opToWire(op: TxnOp): z.infer<typeof wireOp> {
  if (op.op === 'put') return { op: 'put', key: op.key, value: enc(op.value), ...(op.prevKv ? { prevKv: true } : {}) };
  if (op.op === 'range') return { op: 'range', keys: { ...op.keys } as KeySelector, ...(op.limit ? { limit: op.limit } : {}) };
  return { op: 'delete', keys: { ...op.keys } as KeySelector, ...(op.prevKv ? { prevKv: true } : {}) };
}
export function opFromWire(op: z.infer<typeof wireOp>): TxnOp {
  if (op.op === 'put') return { op: 'put', key: op.key, value: dec(op.value), ...(op.prevKv ? { prevKv: true } : {}) };
  return op as TxnOp;
}

export function txnToWire(t: TxnInput): { compare: z.infer<typeof wireCompare>[]; success: z.infer<typeof wireOp>[]; failure: z.infer<typeof wireOp>[] } {
  return {
    compare: (t.compare ?? []).map(compareToWire),
    success: (t.success ?? []).map(opToWire),
    failure: (t.failure ?? []).map(opToWire),
  };
}

export function opResultToWire(r: TxnOpResult): z.infer<typeof wireOpResult> {
  switch (r.op) {
    case 'range':
      return { op: 'range', revision: r.revision, kvs: r.kvs.map(kvToWire), count: r.count, more: r.more };
    case 'put':
      return { op: 'put', revision: r.revision, ...(r.prevKv ? { prevKv: kvToWire(r.prevKv) } : {}) };
    case 'delete':
      return { op: 'delete', revision: r.revision, deleted: r.deleted, ...(r.prevKvs ? { prevKvs: r.prevKvs.map(kvToWire) } : {}) };
  }
}
export function opResultFromWire(r: z.infer<typeof wireOpResult>): TxnOpResult {
  switch (r.op) {
    case 'range':
      return { op: 'range', revision: r.revision, kvs: r.kvs.map(kvFromWire), count: r.count, more: r.more };
    case 'put':
      return { op: 'put', revision: r.revision, ...(r.prevKv ? { prevKv: kvFromWire(r.prevKv) } : {}) };
    case 'delete':
      return { op: 'delete', revision: r.revision, deleted: r.deleted, ...(r.prevKvs ? { prevKvs: r.prevKvs.map(kvFromWire) } : {}) };
  }
}
export function txnResultFromWire(m: { revision: number; succeeded: boolean; results: z.infer<typeof wireOpResult>[] }): TxnResult {
  return { op: 'txn', revision: m.revision, succeeded: m.succeeded, results: m.results.map(opResultFromWire) };
}

export function eventToWire(e: WatchEvent): z.infer<typeof wireEvent> {
  return { type: e.type, kv: kvToWire(e.kv), revision: e.revision, ...(e.prevKv ? { prevKv: kvToWire(e.prevKv) } : {}) };
}
export function eventFromWire(e: z.infer<typeof wireEvent>): WatchEvent {
  return { type: e.type, kv: kvFromWire(e.kv), revision: e.revision, ...(e.prevKv ? { prevKv: kvFromWire(e.prevKv) } : {}) };
}

/** An error as it travels: name, code, message, and the fields the shared store errors carry. */
export function errorToWire(err: unknown): WireError {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; outcomeUnknown?: unknown; requestedRevision?: unknown; compactRevision?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    code: typeof e?.code === 'string' ? e.code : 'ERR_STORE',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.outcomeUnknown === 'boolean' ? { outcomeUnknown: e.outcomeUnknown } : {}),
    ...(typeof e?.requestedRevision === 'number' ? { requestedRevision: e.requestedRevision } : {}),
    ...(typeof e?.compactRevision === 'number' ? { compactRevision: e.compactRevision } : {}),
  };
}

/** A store error from the server, as a typed error of this side. */
export class RemoteStoreError extends StoreError {
  override name = 'RemoteStoreError';
  override readonly code = 'ERR_REMOTE_STORE';
  constructor(
    /** The error's name on the server. */
    readonly remoteName: string,
    /** Its code on the server. */
    readonly remoteCode: string,
    message: string,
  ) {
    super(`store server: ${remoteName}: ${message}`);
  }
}

/** Rebuilds the shared store errors by name; anything else becomes a {@link RemoteStoreError}. */
export function errorFromWire(w: WireError): Error {
  switch (w.name) {
    case 'WatchCompactedError':
      return new WatchCompactedError(w.requestedRevision ?? 0, w.compactRevision ?? 0);
    case 'StoreUnavailableError':
      return new StoreUnavailableError(`store server: ${w.message}`, w.outcomeUnknown ?? true);
    case 'PermissionDeniedError':
      return new PermissionDeniedError('', '', `store server: ${w.message}`);
    case 'QuorumLostError':
      return new QuorumLostError(`store server: ${w.message}`, w.outcomeUnknown ?? true);
    case 'StoreClosedError':
      return new StoreUnavailableError(`store server closed: ${w.message}`, false);
    default:
      return new RemoteStoreError(w.name, w.code, w.message);
  }
}

