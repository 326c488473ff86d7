import { KvCommandError } from './errors';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A growable byte buffer for the KV command and snapshot encodings. */
export class ByteWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** Unsigned LEB128 of a safe non-negative integer. */
  uint(n: number): void {
    this.reserve(8);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Length-prefixed UTF-8. */
  string(s: string): void {
    this.bytes(encoder.encode(s));
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A bounds-checked reader over one encoded command or snapshot. */
export class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos === this.buf.length;
  }

  fail(message: string): never {
    throw new KvCommandError(message, this.pos);
  }

  byte(): number {
    if (this.pos >= this.buf.length) this.fail('truncated input');
    return this.buf[this.pos++] as number;
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(n)) this.fail(`integer ${n} is not safe`);
        return n;
      }
      scale *= 0x80;
    }
    return this.fail('integer longer than 8 bytes');
  }

  /** Length-prefixed bytes as a copy (the caller's buffer stays theirs). */
  bytes(): Uint8Array {
    const n = this.uint();
    if (n > this.buf.length - this.pos) this.fail(`length ${n} exceeds the ${this.buf.length - this.pos} bytes left`);
    // A real copy into a plain Uint8Array: on a Buffer, `slice` would be a view that keeps the whole frame alive.
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  string(): string {
    const at = this.pos;
    const b = this.bytes();
    try {
      return decoder.decode(b);
    } catch {
      throw new KvCommandError('invalid UTF-8 in a string', at);
    }
  }
}

/** Bytewise comparison: negative, 0 or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
