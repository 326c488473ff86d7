/**
 * In-place IPv4 address rewriting for the service shim (VIP load balancing):
 * one address of a frame's IPv4 header replaced, the header checksum and the
 * UDP checksum updated incrementally (RFC 1624 eqn. 3) instead of summed
 * again. Allocation-free; the caller has checked the offsets are inside the frame.
 */

/** Ones'-complement sum of the complemented old 32-bit value and the new one (`~m + m'` over both 16-bit words). */
function addressDelta(old: number, to: number): number {
  return (~(old >>> 16) & 0xffff) + (~old & 0xffff) + (to >>> 16) + (to & 0xffff);
}

/**
 * Applies `delta` (a sum of `~m + m'` terms) to the 16-bit checksum at
 * `b[at]`: `HC' = ~(~HC + delta)` (RFC 1624 eqn. 3). With `udp`, a zero
 * checksum ("none", RFC 768) stays zero and a result of zero is sent as
 * 0xffff, zero's other ones'-complement form.
 */
export function patchChecksum(b: Uint8Array, at: number, delta: number, udp: boolean): void {
  const hc = (b[at]! << 8) | b[at + 1]!;
  if (udp && hc === 0) return;
  let sum = (~hc & 0xffff) + delta;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  let out = ~sum & 0xffff;
  if (udp && out === 0) out = 0xffff;
  b[at] = out >>> 8;
  b[at + 1] = out & 0xff;
}

/**
 * Replaces the IPv4 address at `frame[at, at + 4)` — the source (`ip + 12`)
 * or destination (`ip + 16`) of the IPv4 header at `ip` — with `to`
 * (unsigned 32-bit), updating the header checksum and, when `udp` ≥ 0 (the
 * UDP header's offset), the UDP checksum, whose pseudo-header holds both
 * addresses (a zero UDP checksum stays zero).
 */
export function rewriteIpv4Address(frame: Uint8Array, ip: number, at: number, to: number, udp: number): void {
  const old = ((frame[at]! << 24) | (frame[at + 1]! << 16) | (frame[at + 2]! << 8) | frame[at + 3]!) >>> 0;
  if (old === to) return;
  const delta = addressDelta(old, to);
  frame[at] = to >>> 24;
  frame[at + 1] = (to >>> 16) & 0xff;
  frame[at + 2] = (to >>> 8) & 0xff;
  frame[at + 3] = to & 0xff;
  patchChecksum(frame, ip + 10, delta, false);
  if (udp >= 0) patchChecksum(frame, udp + 6, delta, true);
}

/** Reads 4 bytes at `at` as an unsigned 32-bit address (no bounds check: the caller checked). */
export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
