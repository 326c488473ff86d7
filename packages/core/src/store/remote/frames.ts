import { MalformedPacketError } from '@weft/interface';

/** Largest frame either side accepts (bytes of JSON). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** One frame: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME_BYTES) throw new MalformedPacketError('store-frame', `frame of ${body.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * Splits a byte stream into frames and parses each as JSON. A frame that is
 * too long or not JSON throws `MalformedPacketError`: the connection is then
 * unusable and must be closed (framing cannot be recovered).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxFrameBytes largest frame accepted: a longer one is refused as soon as its length prefix arrives (default {@link MAX_FRAME_BYTES}). */
  constructor(private readonly maxFrameBytes: number = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet part of a complete frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns the messages completed by them, in order. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.buffered < 4) return out;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) throw new MalformedPacketError('store-frame', `announced frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
      if (this.buffered < 4 + length) return out;
      const frame = this.take(4 + length).subarray(4);
      try {
        out.push(JSON.parse(frame.toString('utf8')));
      } catch (err) {
        throw new MalformedPacketError('store-frame', 'frame is not JSON', { cause: err });
      }
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
