import type { Compare, CompareResult, KeySelector, StoreRequest, TxnOp } from '@weft/interface';
import { ByteReader, ByteWriter } from './bytes';
import { InvalidKvRequestError } from './errors';

/**
 * Binary encoding of KV requests (the Raft command bytes). Binary rather than
 * JSON because values are bytes (no base64 detour), encoding is canonical
 * (one request has exactly one encoding), and it is a few times smaller.
 *
 * Layout (integers are unsigned LEB128, strings UTF-8 and bytes are
 * length-prefixed):
 * ```
 * command   = version(1) request
 * request   = 1 range | 2 put | 3 delete | 4 txn
 * range     = selector limit
 * put       = key value flags          (flags bit 0: prevKv)
 * delete    = selector flags
 * txn       = n compare{n} n op{n} n op{n}   (success, then failure; ops are range/put/delete)
 * selector  = 0 key | 1 prefix | 2 start hasEnd(0|1) [end]
 * compare   = key target(0 value,1 version,2 createRevision,3 modRevision)
 *             result(0 equal,1 notEqual,2 greater,3 less) (bytes | uint)
 * ```
 */
const VERSION = 1;
const OP_TAGS = { range: 1, put: 2, delete: 3, txn: 4 } as const;
const TARGETS = ['value', 'version', 'createRevision', 'modRevision'] as const;
const RESULTS: readonly CompareResult[] = ['equal', 'notEqual', 'greater', 'less'];

function count(field: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new InvalidKvRequestError(field, `must be a non-negative safe integer, got ${String(n)}`);
  }
  return n;
}

function str(field: string, s: unknown): string {
  if (typeof s !== 'string') throw new InvalidKvRequestError(field, `must be a string, got ${typeof s}`);
  return s;
}

/** A key: a non-empty string (as etcd, an empty key is refused; an empty prefix is fine). */
function key(field: string, s: unknown): string {
  const k = str(field, s);
  if (k.length === 0) throw new InvalidKvRequestError(field, 'must not be empty');
  return k;
}

function bin(field: string, b: unknown): Uint8Array {
  if (!(b instanceof Uint8Array)) throw new InvalidKvRequestError(field, `must be a Uint8Array, got ${typeof b}`);
  return b;
}

function writeSelector(w: ByteWriter, s: KeySelector, field: string): void {
  if ('key' in s) {
    w.byte(0);
    w.string(key(`${field}.key`, s.key));
  } else if ('prefix' in s) {
    w.byte(1);
    w.string(str(`${field}.prefix`, s.prefix));
  } else if ('start' in s) {
    w.byte(2);
    w.string(str(`${field}.start`, s.start));
    if (s.end === undefined) w.byte(0);
    else {
      w.byte(1);
      w.string(str(`${field}.end`, s.end));
    }
  } else throw new InvalidKvRequestError(field, 'must have key, prefix or start');
}

function writeOp(w: ByteWriter, op: TxnOp, field: string): void {
  switch (op.op) {
    case 'range':
      w.byte(OP_TAGS.range);
      writeSelector(w, op.keys, `${field}.keys`);
      w.uint(count(`${field}.limit`, op.limit ?? 0));
      return;
    case 'put':
      w.byte(OP_TAGS.put);
      w.string(key(`${field}.key`, op.key));
      w.bytes(bin(`${field}.value`, op.value));
      w.byte(op.prevKv ? 1 : 0);
      return;
    case 'delete':
      w.byte(OP_TAGS.delete);
      writeSelector(w, op.keys, `${field}.keys`);
      w.byte(op.prevKv ? 1 : 0);
      return;
    default:
      throw new InvalidKvRequestError(`${field}.op`, `must be range, put or delete, got ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

function writeCompare(w: ByteWriter, c: Compare, field: string): void {
  w.string(key(`${field}.key`, c.key));
  const t = TARGETS.indexOf(c.target);
  if (t < 0) throw new InvalidKvRequestError(`${field}.target`, `is unknown: ${JSON.stringify(c.target)}`);
  const r = RESULTS.indexOf(c.result);
  if (r < 0) throw new InvalidKvRequestError(`${field}.result`, `is unknown: ${JSON.stringify(c.result)}`);
  w.byte(t);
  w.byte(r);
  if (c.target === 'value') w.bytes(bin(`${field}.value`, c.value));
  else w.uint(count(`${field}.value`, c.value));
}

/**
 * Encodes a request as command bytes for `RaftNode.propose` / `KvStore.apply`.
 * @returns a new buffer owned by the caller.
 * @throws InvalidKvRequestError naming the first bad field.
 */
export function encodeKvRequest(request: StoreRequest): Uint8Array {
  const w = new ByteWriter();
  w.byte(VERSION);
  if (request.op === 'txn') {
    w.byte(OP_TAGS.txn);
    w.uint(request.compare.length);
    request.compare.forEach((c, i) => writeCompare(w, c, `compare[${i}]`));
    w.uint(request.success.length);
    request.success.forEach((op, i) => writeOp(w, op, `success[${i}]`));
    w.uint(request.failure.length);
    request.failure.forEach((op, i) => writeOp(w, op, `failure[${i}]`));
  } else writeOp(w, request, 'request');
  return w.finish();
}

function readKey(r: ByteReader): string {
  const k = r.string();
  if (k.length === 0) r.fail('empty key');
  return k;
}

function readSelector(r: ByteReader): KeySelector {
  const tag = r.byte();
  if (tag === 0) return { key: readKey(r) };
  if (tag === 1) return { prefix: r.string() };
  if (tag === 2) {
    const start = r.string();
    const hasEnd = r.byte();
    if (hasEnd === 0) return { start };
    if (hasEnd === 1) return { start, end: r.string() };
    return r.fail(`bad end flag ${hasEnd}`);
  }
  return r.fail(`unknown key selector tag ${tag}`);
}

function readFlag(r: ByteReader): boolean {
  const f = r.byte();
  if (f > 1) r.fail(`bad flags ${f}`);
  return f === 1;
}

function readOp(r: ByteReader, tag: number): TxnOp {
  switch (tag) {
    case OP_TAGS.range: {
      const keys = readSelector(r);
      const limit = r.uint();
      return limit === 0 ? { op: 'range', keys } : { op: 'range', keys, limit };
    }
    case OP_TAGS.put: {
      const key = readKey(r);
      const value = r.bytes();
      return readFlag(r) ? { op: 'put', key, value, prevKv: true } : { op: 'put', key, value };
    }
    case OP_TAGS.delete: {
      const keys = readSelector(r);
      return readFlag(r) ? { op: 'delete', keys, prevKv: true } : { op: 'delete', keys };
    }
    default:
      return r.fail(`unknown op tag ${tag}`);
  }
}

function readCompare(r: ByteReader): Compare {
  const key = readKey(r);
  const target = TARGETS[r.byte()] ?? r.fail('unknown compare target');
  const result = RESULTS[r.byte()] ?? r.fail('unknown compare result');
  if (target === 'value') return { key, target, result, value: r.bytes() };
  return { key, target, result, value: r.uint() };
}

function readList<T>(r: ByteReader, read: () => T): T[] {
  const n = r.uint();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read());
  return out;
}

/**
 * Decodes command bytes made by {@link encodeKvRequest}. Values in the result
 * are copies: `bytes` stays the caller's.
 * @throws KvCommandError on a truncated, unknown or trailing-garbage input.
 */
export function decodeKvRequest(bytes: Uint8Array): StoreRequest {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== VERSION) r.fail(`unsupported command version ${version}`);
  const tag = r.byte();
  let request: StoreRequest;
  if (tag === OP_TAGS.txn) {
    const compare = readList(r, () => readCompare(r));
    const success = readList(r, () => readOp(r, r.byte()));
    const failure = readList(r, () => readOp(r, r.byte()));
    request = { op: 'txn', compare, success, failure };
  } else request = readOp(r, tag);
  if (!r.done) r.fail('trailing bytes after the command');
  return request;
}
