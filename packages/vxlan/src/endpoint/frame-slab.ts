import { parseOptions } from '@weft/interface';
import { z } from 'zod';

const slabSchema = z.object({ slabBytes: z.number().int().min(64).max(2 ** 30) });

/**
 * Hands out fresh, never-reused byte ranges carved from large slabs, so a
 * frame costs a view instead of an allocation (Node's own Buffer pool is
 * 8 KiB: a new pool every five 1.4 KB frames). A slab is garbage once every
 * frame carved from it is; ranges are 8-byte aligned. Contents are not zeroed.
 */
export class FrameSlab {
  private slab: ArrayBuffer | undefined;
  private base = 0;
  private offset = 0;
  private readonly slabBytes: number;

  /**
   * @param slabBytes - size of each slab in bytes (default 64 KiB; 64 .. 2^30); the first is allocated on first use.
   * @throws InvalidOptionsError (field `slabBytes`) when out of range.
   */
  constructor(slabBytes = 64 * 1024) {
    this.slabBytes = parseOptions(slabSchema, { slabBytes }, 'FrameSlab').slabBytes;
  }

  /** A new `bytes`-long range as a Buffer; larger than a quarter slab gets its own buffer. */
  alloc(bytes: number): Buffer {
    if (bytes > this.slabBytes >>> 2) return Buffer.allocUnsafeSlow(bytes);
    const start = this.take(bytes);
    return Buffer.from(this.slab!, start, bytes);
  }

  /**
   * A new range of `headroom + bytes` bytes, returned as a plain Uint8Array
   * view of its last `bytes` (the headroom sits right before it in the same
   * buffer, free for the caller to prepend into). Cheaper than {@link alloc}:
   * one typed-array view, no Buffer.
   */
  allocAfter(headroom: number, bytes: number): Uint8Array {
    const total = headroom + bytes;
    if (total > this.slabBytes >>> 2) {
      const own = Buffer.allocUnsafeSlow(total);
      return new Uint8Array(own.buffer, own.byteOffset + headroom, bytes);
    }
    const start = this.take(total);
    return new Uint8Array(this.slab!, start + headroom, bytes);
  }

  /** Reserves `bytes` in the current slab (starting a new one when it is full); returns the byte offset in `this.slab`. */
  private take(bytes: number): number {
    if (this.slab === undefined || this.offset + bytes > this.slabBytes) {
      // allocUnsafeSlow: an ArrayBuffer of its own, not zero-filled (new ArrayBuffer would memset it).
      const b = Buffer.allocUnsafeSlow(this.slabBytes);
      this.slab = b.buffer as ArrayBuffer;
      this.base = b.byteOffset;
      this.offset = 0;
    }
    const start = this.offset;
    this.offset = (start + bytes + 7) & ~7;
    return this.base + start;
  }
}
