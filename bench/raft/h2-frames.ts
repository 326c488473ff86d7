/**
 * The slice of HTTP/2 (RFC 9113) and HPACK (RFC 7541) that a unary gRPC
 * client needs, for bench/raft/etcd-put-client.ts: frame headers, the client
 * connection preface, SETTINGS / WINDOW_UPDATE / PING frames, and a request
 * header block written once per path with static-table indices and literals
 * (no Huffman, no dynamic table, so it never changes between requests).
 */

/** Frame types (RFC 9113 §6). */
export const FRAME = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
/** Flags: END_STREAM (DATA, HEADERS) and ACK (SETTINGS, PING) share bit 0. */
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
/** SETTINGS parameters (RFC 9113 §6.5.2). */
export const SETTING = { ENABLE_PUSH: 0x2, MAX_CONCURRENT_STREAMS: 0x3, INITIAL_WINDOW_SIZE: 0x4 } as const;

/** Bytes of a frame header. */
export const FRAME_HEADER = 9;
/** Largest flow-control window (2^31 − 1). */
export const MAX_WINDOW = 0x7fffffff;
/** Initial window of every connection and stream before SETTINGS change it. */
export const DEFAULT_WINDOW = 65_535;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Writes a 9-byte frame header for a `length`-byte payload into `buf` at `off`. */
export function writeFrameHeader(buf: Buffer, off: number, length: number, type: number, flags: number, streamId: number): void {
  buf[off] = length >>> 16;
  buf[off + 1] = (length >>> 8) & 0xff;
  buf[off + 2] = length & 0xff;
  buf[off + 3] = type;
  buf[off + 4] = flags;
  buf.writeUInt32BE(streamId & MAX_WINDOW, off + 5);
}

/** One frame with `payload`. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** SETTINGS frame with `params` (id → value). */
export function settingsFrame(params: readonly (readonly [number, number])[]): Buffer {
  const p = Buffer.allocUnsafe(6 * params.length);
  params.forEach(([id, value], i) => {
    p.writeUInt16BE(id, 6 * i);
    p.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, p);
}

/** WINDOW_UPDATE of `increment` bytes on `streamId` (0: the connection). */
export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, p);
}

/**
 * What a client sends first: the preface, its SETTINGS (no server push, the
 * largest stream window) and a connection WINDOW_UPDATE to the largest window,
 * so responses never wait for flow control.
 */
export function clientPreface(): Buffer {
  return Buffer.concat([
    PREFACE,
    settingsFrame([
      [SETTING.ENABLE_PUSH, 0],
      [SETTING.INITIAL_WINDOW_SIZE, MAX_WINDOW],
    ]),
    windowUpdateFrame(0, MAX_WINDOW - DEFAULT_WINDOW),
  ]);
}

function hpackLength(prefixBits: number, first: number, n: number, out: number[]): void {
  const max = (1 << prefixBits) - 1;
  if (n < max) {
    out.push(first | n);
    return;
  }
  out.push(first | max);
  n -= max;
  while (n >= 128) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function hpackString(s: string, out: number[]): void {
  const b = Buffer.from(s, 'latin1');
  hpackLength(7, 0x00, b.length, out); // H = 0: no Huffman
  for (const x of b) out.push(x);
}

/**
 * The HPACK header block of a gRPC unary request: `:method POST` and
 * `:scheme http` (or `https` with `secure`) from the static table (indices 3 and 6, or 7); `:path`,
 * `:authority` and `content-type: application/grpc` as literals without
 * indexing with static-table names (4, 1, 31); `te: trailers` as a literal
 * with a literal name.
 */
export function grpcRequestHeaderBlock(path: string, authority: string, secure = false): Buffer {
  const out: number[] = [0x83, secure ? 0x87 : 0x86];
  hpackLength(4, 0x00, 4, out);
  hpackString(path, out);
  hpackLength(4, 0x00, 1, out);
  hpackString(authority, out);
  hpackLength(4, 0x00, 31, out);
  hpackString('application/grpc', out);
  out.push(0x00);
  hpackString('te', out);
  hpackString('trailers', out);
  return Buffer.from(out);
}
