/** The result of a decode: the value and how many bytes of input it consumed. */
export interface Decoded<T> {
  /** The decoded value; its `Uint8Array` fields are views into the input (no copy). */
  value: T;
  /** Bytes consumed from the decode offset. */
  bytes: number;
}

/**
 * An encode / decode / encodingLength triple over `Uint8Array`.
 * Every codec in this package is an exported const object of this shape.
 */
export interface Codec<T> {
  /**
   * Writes `value` at `offset` into `buf` (or into a new `Uint8Array` of
   * `encodingLength(value)` bytes when `buf` is omitted) and returns that buffer.
   * @throws InvalidFieldError when a field is out of range or `buf` is too small.
   */
  encode(value: T, buf?: Uint8Array, offset?: number): Uint8Array;
  /**
   * Reads a value at `offset`. Payload fields are `subarray` views of `buf`:
   * the caller keeps ownership and must not reuse `buf` while holding them.
   * @throws MalformedPacketError naming the layer and what is wrong; never a RangeError.
   */
  decode(buf: Uint8Array, offset?: number): Decoded<T>;
  /** Bytes `encode(value)` writes. */
  encodingLength(value: T): number;
}
