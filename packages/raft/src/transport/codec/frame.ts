import { MalformedPacketError, parseOptions } from '@weft/interface';
import { z } from 'zod';

/** Bytes of the big-endian length prefix before every frame. */
export const FRAME_HEADER_BYTES = 4;

/** Default largest accepted frame payload (bytes): 64 MiB, room for a snapshot chunk. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

const frameOptions = z.object({ maxFrameBytes: z.number().int().min(0).max(0xffff_ffff) });

/**
 * Splits a byte stream into length-prefixed frames (u32 big-endian payload
 * length, then the payload). Feed it chunks as they arrive; complete payloads
 * are passed to `onFrame` as views into a chunk or into a buffer the decoder
 * never writes again, so they stay valid as long as the caller does not
 * mutate the chunks it pushed (node:net hands out a fresh Buffer per 'data').
 * A declared length above `maxFrameBytes` throws MalformedPacketError and the
 * decoder must be discarded (the stream is out of sync).
 */
export class FrameDecoder {
  /** Received bytes not yet consumed, as the chunks they came in (joined only once a frame is complete). */
  private chunks: Uint8Array[] = [];
  private size = 0;

  private readonly maxFrameBytes: number;

  /**
   * @param maxFrameBytes - largest accepted payload in bytes (default 64 MiB).
   * @throws InvalidOptionsError (from `@weft/interface`) when it is not an integer in [0, 2^32 - 1].
   */
  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = parseOptions(frameOptions, { maxFrameBytes }, 'FrameDecoder').maxFrameBytes;
  }

  /** Bytes buffered waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.size;
  }

  /** Consumes `chunk` (not retained beyond views handed to `onFrame`). */
  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < FRAME_HEADER_BYTES) return;
    if (this.chunks[0]!.length < FRAME_HEADER_BYTES) this.join();
    const len = this.declared(this.chunks[0]!, 0);
    // A large frame arrives in many chunks: wait for all of it before joining (one copy, not one per chunk).
    if (this.size < FRAME_HEADER_BYTES + len) return;
    if (this.chunks.length > 1) this.join();
    const buf = this.chunks[0]!;
    let off = 0;
    while (buf.length - off >= FRAME_HEADER_BYTES) {
      const n = this.declared(buf, off);
      if (buf.length - off - FRAME_HEADER_BYTES < n) break;
      const begin = off + FRAME_HEADER_BYTES;
      off = begin + n;
      onFrame(buf.subarray(begin, off));
    }
    // Keep the tail as a copy so later frames never alias a chunk the socket may reuse.
    const rest = off === buf.length ? undefined : buf.slice(off);
    this.chunks = rest ? [rest] : [];
    this.size = rest ? rest.length : 0;
  }

  private declared(buf: Uint8Array, off: number): number {
    const len = ((buf[off]! << 24) >>> 0) + (buf[off + 1]! << 16) + (buf[off + 2]! << 8) + buf[off + 3]!;
    if (len > this.maxFrameBytes) {
      this.chunks = [];
      this.size = 0;
      throw new MalformedPacketError('raft-frame', `declared length ${len} exceeds the limit of ${this.maxFrameBytes} bytes`);
    }
    return len;
  }

  private join(): void {
    const all = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      all.set(c, off);
      off += c.length;
    }
    this.chunks = [all];
  }
}

/** Writes the 4-byte length header for a payload of `len` bytes into `buf` at `offset`. */
export function writeFrameHeader(buf: Uint8Array, offset: number, len: number): void {
  buf[offset] = len >>> 24;
  buf[offset + 1] = (len >>> 16) & 0xff;
  buf[offset + 2] = (len >>> 8) & 0xff;
  buf[offset + 3] = len & 0xff;
}
