/**
 * Sequential big-endian writer over a caller-sized buffer. Callers compute the
 * exact length first (`encodingLength`), so no bounds growth is needed; a write
 * past the end is a bug in the length computation and throws RangeError.
 */
export class ByteWriter {
  private readonly view: DataView;
  /** Next write position in `buf`. */
  offset: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.offset = offset;
  }

  u8(v: number): void {
    this.view.setUint8(this.offset, v);
    this.offset += 1;
  }

  u16(v: number): void {
    this.view.setUint16(this.offset, v);
    this.offset += 2;
  }

  u32(v: number): void {
    this.view.setUint32(this.offset, v);
    this.offset += 4;
  }

  /** A non-negative safe integer as 8 bytes (high 32 bits, low 32 bits). */
  u64(v: number): void {
    this.view.setUint32(this.offset, Math.floor(v / 0x1_0000_0000));
    this.view.setUint32(this.offset + 4, v >>> 0);
    this.offset += 8;
  }

  /** Raw bytes, no length prefix. */
  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** u32 length then bytes. */
  bytes32(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.raw(bytes);
  }

  /** u16 length then the already UTF-8 encoded string. */
  str16(utf8: Uint8Array): void {
    this.u16(utf8.length);
    this.raw(utf8);
  }
}
