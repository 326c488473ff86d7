/**
 * Hands out packet buffers as views into shared 64 KiB slabs.
 *
 * Why: a fresh `new Uint8Array(1482)` per sealed packet gets its own backing
 * store, and that allocation plus the garbage collection it drives cost about
 * 15% of a seal+open at 1450 B (measured with bench/suites/crypto.ts).
 * `subarray` views of a large slab are cheap to create and to collect.
 *
 * Cost: a live packet keeps its whole slab alive (at most 64 KiB), the same
 * trade Node's own `Buffer.allocUnsafe` pool makes with 8 KiB. Packets larger
 * than a quarter slab get a buffer of their own. Each byte range is handed out
 * once: a full slab is replaced by a new (zeroed) one, never recycled, so a view
 * stays valid for as long as its holder keeps it. Views share their `.buffer`
 * with other packets and usually have a non-zero `byteOffset`.
 * @internal
 */
export class PacketSlab {
  private slab: Uint8Array;
  private used = 0;

  constructor(private readonly slabSize = 64 * 1024) {
    this.slab = new Uint8Array(slabSize);
  }

  /** A view of `length` bytes nobody else holds. */
  alloc(length: number): Uint8Array {
    if (length > this.slabSize >>> 2) return new Uint8Array(length);
    if (this.used + length > this.slabSize) {
      this.slab = new Uint8Array(this.slabSize);
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + length);
    // Keep the next view 8-byte aligned.
    this.used += (length + 7) & ~7;
    return view;
  }
}
