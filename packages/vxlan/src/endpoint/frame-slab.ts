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
  private slab: Buffer | undefined;
  private offset = 0;
  private readonly slabBytes: number;

  /**
   * @param slabBytes - size of each slab in bytes (default 64 KiB; 64 .. 2^30); the first is allocated on first use.
   * @throws InvalidOptionsError (field `slabBytes`) when out of range.
   */
  constructor(slabBytes = 64 * 1024) {
    this.slabBytes = parseOptions(slabSchema, { slabBytes }, 'FrameSlab').slabBytes;
  }

  /** A new `bytes`-long range; larger than a quarter slab gets its own buffer. */
  alloc(bytes: number): Buffer {
    if (bytes > this.slabBytes >>> 2) return Buffer.allocUnsafeSlow(bytes);
    if (this.slab === undefined || this.offset + bytes > this.slabBytes) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.offset = 0;
    }
    const start = this.offset;
    this.offset = (start + bytes + 7) & ~7;
    return this.slab.subarray(start, start + bytes);
  }
}
