import { MalformedPacketError } from '@weft/interface';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Sequential big-endian reader that checks bounds before every read and throws
 * {@link MalformedPacketError} (never RangeError) on short input. Byte fields
 * are returned as `subarray` views of the input: the caller owns the input and
 * must not reuse it while decoded values are alive.
 */
export class ByteReader {
  private readonly view: DataView;
  offset: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
    /** Exclusive end of the readable region. */
    readonly end = buf.length,
    /** The `layer` of the MalformedPacketError thrown on bad input (`raft-message`, `raft-entry`, ...). */
    readonly layer = 'raft-message',
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.offset = offset;
  }

  private need(n: number, field: string): void {
    if (this.offset + n > this.end) {
      throw new MalformedPacketError(this.layer, `truncated at ${field}: need ${n} bytes at offset ${this.offset}, have ${this.end - this.offset}`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    const v = this.view.getUint8(this.offset);
    this.offset += 1;
    return v;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  /** 8 bytes that must hold a safe integer (high word below 2^21). */
  u64(field: string): number {
    this.need(8, field);
    const hi = this.view.getUint32(this.offset);
    const lo = this.view.getUint32(this.offset + 4);
    if (hi >= 0x20_0000) throw new MalformedPacketError(this.layer, `${field} ${hi} * 2^32 + ${lo} is not a safe integer`);
    this.offset += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** `n` bytes as a view. */
  raw(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  bytes32(field: string): Uint8Array {
    return this.raw(this.u32(`${field} length`), field);
  }

  /** A u16-length UTF-8 string; invalid UTF-8 is malformed. */
  str16(field: string): string {
    const bytes = this.raw(this.u16(`${field} length`), field);
    try {
      return decoder.decode(bytes);
    } catch (cause) {
      throw new MalformedPacketError(this.layer, `${field} is not valid UTF-8`, { cause });
    }
  }
}
