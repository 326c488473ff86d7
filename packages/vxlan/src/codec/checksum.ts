/**
 * Adds `length` bytes at `offset` to a running ones'-complement sum (RFC 1071),
 * big-endian 16-bit words, an odd last byte padded with zero. Returns the
 * unfolded sum; pass it back as `sum` to continue, then `finishChecksum`.
 * The caller guarantees the range is inside `buf`.
 */
export function addChecksum(sum: number, buf: Uint8Array, offset: number, length: number): number {
  const end = offset + length - 1;
  let i = offset;
  for (; i < end; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    // Fold periodically so the sum stays a small integer.
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i === end) sum += buf[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it: the value to put in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/**
 * The Internet checksum (RFC 1071) of `length` bytes at `offset`.
 * Computing it over data that already contains a correct checksum gives 0.
 */
export function internetChecksum(buf: Uint8Array, offset = 0, length = buf.length - offset): number {
  return finishChecksum(addChecksum(0, buf, offset, length));
}

/**
 * Running sum of the IPv4 pseudo-header used by UDP/TCP checksums (RFC 768):
 * source, destination, protocol, and the transport length in bytes.
 */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
