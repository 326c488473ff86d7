/**
 * The framing between the kernel plane's node process and its DNS helper
 * (one per network with a DNS address, running inside the network's
 * namespace): a stream of frames over the Unix socket pair the helper
 * inherits as fd 3. A frame is a 32-bit big-endian length (of what follows),
 * a type byte and a body. Dependency-free: the helper bundles it.
 */

/** The largest frame length (type byte and body): a 65 535-byte DNS message and its header, with room to spare. */
export const MAX_FRAME = 65_535 + 64;
/** The smallest DNS message (its header). */
export const DNS_HEADER_BYTES = 12;
/** The largest DNS message over TCP (its 2-byte length prefix). */
export const MAX_DNS_MESSAGE = 65_535;

/** Frame types. */
export const FrameType = {
  /** helper → node: id u32, transport u8 (0 UDP, 1 TCP), source IPv4 (4 bytes), source port u16, the DNS message. */
  query: 1,
  /** node → helper: id u32, the answer (empty: none). */
  answer: 2,
  /** node → helper: id u32. */
  statusRequest: 3,
  /** helper → node: id u32, UTF-8 JSON of {@link HelperStatus}. */
  status: 4,
  /** helper → node, once its sockets are bound: UTF-8 JSON `{ pid }`. */
  ready: 5,
  /** helper → node before it exits: UTF-8 reason. */
  fail: 6,
} as const;

/** What a helper reports about itself. */
export interface HelperStatus {
  readonly pid: number;
  /** Its DNS address is on an interface of its namespace now. */
  readonly addressPresent: boolean;
  /** Its counters: `udp.queries`, `tcp.queries`, `answers`, `drops.<reason>`. */
  readonly counters: Readonly<Record<string, number>>;
}

/** One frame. */
export function encodeFrame(type: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(1 + body.length, 0);
  out[4] = type;
  out.set(body, 5);
  return out;
}

/**
 * Splits a byte stream into frames. `push` returns the complete frames so far;
 * a length of 0 or over {@link MAX_FRAME} cannot be resynchronised past and
 * makes it throw (the stream must then be closed).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: number; body: Buffer }[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: { type: number; body: Buffer }[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len < 1 || len > MAX_FRAME) throw new RangeError(`frame length ${len} out of range 1..${MAX_FRAME}`);
      if (this.buf.length < 4 + len) break;
      out.push({ type: this.buf[4]!, body: Buffer.from(this.buf.subarray(5, 4 + len)) });
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}
