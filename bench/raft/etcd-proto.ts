/**
 * The few etcd v3 gRPC messages the raft benchmark speaks, encoded by hand
 * (protobuf wire format, field numbers from etcd's `etcdserverpb/rpc.proto`
 * and `mvccpb/kv.proto`), and gRPC's length-prefixed message framing. Enough
 * for Put, Range of one key and Maintenance.Status; nothing else.
 */

/** Thrown for bytes that are not the protobuf or gRPC frame expected. */
export class EtcdProtoError extends Error {
  override name = 'EtcdProtoError';
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Uint8Array, off: number, n: number): number {
  while (n >= 0x80) {
    buf[off++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

/**
 * One gRPC message frame: 1-byte compressed flag (0), 4-byte big-endian length,
 * then a message of length-delimited `bytes` fields (`[fieldNumber, bytes]`, in order).
 */
function grpcFrameOfBytesFields(fields: readonly (readonly [number, Uint8Array])[]): Uint8Array {
  let body = 0;
  for (const [num, b] of fields) body += varintLength(num << 3) + varintLength(b.length) + b.length;
  const out = new Uint8Array(5 + body);
  out[0] = 0;
  new DataView(out.buffer).setUint32(1, body);
  let off = 5;
  for (const [num, b] of fields) {
    off = writeVarint(out, off, (num << 3) | WIRE_LEN);
    off = writeVarint(out, off, b.length);
    out.set(b, off);
    off += b.length;
  }
  return out;
}

/** `PutRequest { bytes key = 1; bytes value = 2; }` (lease 0, no prev_kv), gRPC-framed. */
export function encodePutRequest(key: Uint8Array, value: Uint8Array): Uint8Array {
  return grpcFrameOfBytesFields([
    [1, key],
    [2, value],
  ]);
}

/** `RangeRequest { bytes key = 1; }` (one key, latest revision, linearizable), gRPC-framed. */
export function encodeRangeRequest(key: Uint8Array): Uint8Array {
  return grpcFrameOfBytesFields([[1, key]]);
}

/** `StatusRequest {}`, gRPC-framed. */
export function encodeStatusRequest(): Uint8Array {
  return new Uint8Array(5);
}

/** One decoded field: a bigint for varint fields (uint64 ids need all 64 bits), a view for length-delimited ones. */
type Field = { num: number; value: bigint | Uint8Array };

function readFields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let off = 0;
  const varint = (): bigint => {
    let n = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (off >= buf.length) throw new EtcdProtoError('protobuf: truncated varint');
      const b = buf[off++]!;
      n |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) return n;
    }
    throw new EtcdProtoError('protobuf: varint longer than 10 bytes');
  };
  while (off < buf.length) {
    const tag = Number(varint());
    const num = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === WIRE_VARINT) out.push({ num, value: varint() });
    else if (wire === WIRE_LEN) {
      const len = Number(varint());
      if (off + len > buf.length) throw new EtcdProtoError(`protobuf: field ${num} declares ${len} bytes, ${buf.length - off} left`);
      out.push({ num, value: buf.subarray(off, off + len) });
      off += len;
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const len = wire === WIRE_I64 ? 8 : 4;
      if (off + len > buf.length) throw new EtcdProtoError(`protobuf: truncated fixed field ${num}`);
      off += len;
    } else throw new EtcdProtoError(`protobuf: unsupported wire type ${wire} (field ${num})`);
  }
  return out;
}

function uint(fields: Field[], n: number): bigint {
  const f = fields.find((x) => x.num === n);
  return typeof f?.value === 'bigint' ? f.value : 0n;
}

function bytesField(fields: Field[], n: number): Uint8Array | undefined {
  const f = fields.find((x) => x.num === n);
  return f?.value instanceof Uint8Array ? f.value : undefined;
}

/** `ResponseHeader { uint64 cluster_id = 1; uint64 member_id = 2; int64 revision = 3; uint64 raft_term = 4; }` */
export interface ResponseHeader {
  memberId: bigint;
  revision: number;
}

function header(fields: Field[]): ResponseHeader {
  const h = readFields(bytesField(fields, 1) ?? new Uint8Array(0));
  return { memberId: uint(h, 2), revision: Number(uint(h, 3)) };
}

/** Strips the 5-byte gRPC prefix of the single (uncompressed) message in `body`. */
export function unframe(body: Uint8Array): Uint8Array {
  if (body.length < 5) throw new EtcdProtoError(`grpc: ${body.length} bytes, shorter than a frame header`);
  if (body[0] !== 0) throw new EtcdProtoError('grpc: compressed message (not negotiated)');
  const len = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
  if (5 + len !== body.length) throw new EtcdProtoError(`grpc: frame declares ${len} bytes, body has ${body.length - 5}`);
  return body.subarray(5);
}

/** `PutResponse { ResponseHeader header = 1; ... }`: the revision the put created. */
export function decodePutResponse(message: Uint8Array): ResponseHeader {
  return header(readFields(message));
}

/** `RangeResponse { header = 1; repeated KeyValue kvs = 2; }` with `KeyValue { key = 1; ...; value = 5 }`: the first value, if any. */
export function decodeRangeResponse(message: Uint8Array): Uint8Array | undefined {
  const kv = bytesField(readFields(message), 2);
  return kv === undefined ? undefined : (bytesField(readFields(kv), 5) ?? new Uint8Array(0));
}

/** `StatusResponse { header = 1; string version = 2; int64 dbSize = 3; uint64 leader = 4; ... }` */
export function decodeStatusResponse(message: Uint8Array): { memberId: bigint; leader: bigint } {
  const fields = readFields(message);
  return { memberId: header(fields).memberId, leader: uint(fields, 4) };
}
