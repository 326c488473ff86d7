/**
 * The IPAM benchmark's baseline: a plain bitmap allocator over one IPv4
 * subnet, written as well as we know how. One bit per address in a
 * Uint32Array; next-fit from the last address handed out (the same serial
 * order as `Ipam.allocate`: a released address is not reused at once),
 * finding a free bit a word at a time with `clz32`. Same API shape as Ipam:
 * `allocate()` returns dotted-quad text, `release(text)` parses it.
 */

/** Thrown when every address of the subnet is in use. */
export class BitmapExhaustedError extends Error {
  override name = 'BitmapExhaustedError';
}

/** Thrown by `release` for text that is not an allocated address of the subnet. */
export class BitmapReleaseError extends Error {
  override name = 'BitmapReleaseError';
}

/** Formats a 32-bit IPv4 address as dotted-quad text. */
export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Parses dotted-quad text into a 32-bit unsigned integer; NaN when it is not one. */
export function parseIpv4(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return NaN;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return NaN;
    } else return NaN;
  }
  if (digits === 0 || dots !== 3) return NaN;
  return value * 256 + octet;
}

export class BitmapAllocator {
  private readonly words: Uint32Array;
  /** Offset of the address handed out last (next-fit starts after it). */
  private cursor = 1;

  /**
   * @param base network address as a 32-bit integer (e.g. 0xac100000 for 172.16.0.0)
   * @param size addresses in the subnet, a power of two ≥ 32 (65536 for a /16)
   */
  constructor(
    private readonly base: number,
    private readonly size: number,
  ) {
    this.words = new Uint32Array(size >>> 5);
    // Network address, gateway (.1) and broadcast are never handed out.
    this.mark(0);
    this.mark(1);
    this.mark(size - 1);
  }

  /** Bytes of the bitmap: what a snapshot of this allocator's used set is, before any text encoding. */
  get bitmapBytes(): number {
    return this.words.byteLength;
  }

  /** Next free address after the last one handed out, wrapping once; dotted-quad text. */
  allocate(): string {
    const off = this.findFree(this.cursor + 1 === this.size ? 0 : this.cursor + 1);
    this.mark(off);
    this.cursor = off;
    return formatIpv4(this.base + off);
  }

  /** Frees `address` (dotted-quad text of an allocated address). */
  release(address: string): void {
    const off = parseIpv4(address) - this.base;
    if (!(off > 1 && off < this.size - 1)) throw new BitmapReleaseError(`bitmap: ${address} is not an address of the subnet`);
    const w = off >>> 5;
    const bit = 1 << (off & 31);
    if ((this.words[w]! & bit) === 0) throw new BitmapReleaseError(`bitmap: ${address} is not allocated`);
    this.words[w] = this.words[w]! & ~bit;
  }

  private mark(off: number): void {
    this.words[off >>> 5] = this.words[off >>> 5]! | (1 << (off & 31));
  }

  private findFree(from: number): number {
    const words = this.words;
    const n = words.length;
    let w = from >>> 5;
    // In the first word, only bits at or after `from`; the wrap back to it (i === n) takes the rest.
    let free = ~words[w]! & (-1 << (from & 31));
    for (let i = 0; i <= n; i++) {
      if (free !== 0) return (w << 5) | (31 - Math.clz32(free & -free));
      w = w + 1 === n ? 0 : w + 1;
      free = ~words[w]!;
    }
    throw new BitmapExhaustedError(`bitmap: all ${this.size - 3} addresses are in use`);
  }
}
