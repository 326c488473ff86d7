import { finishChecksum, IPPROTO_UDP as UDP, pseudoHeaderSum as pseudoSum } from '../codec';
import { VXLAN_HEADROOM } from '../vtep/port';
import type { FrameSlab } from './frame-slab';

// Module-local bindings for the per-packet path (see vtep/segment.ts).
const IPPROTO_UDP = UDP;
const fold = finishChecksum;
const pseudoHeaderSum = pseudoSum;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const HEADROOM = VXLAN_HEADROOM;

/** Bytes of Ethernet (14) + IPv4 (20) + UDP (8) headers before the UDP payload. */
export const UDP_FRAME_OVERHEAD = 42;

/** Fields of {@link writeUdpFrame}; addresses are unsigned 32-bit, MACs 6 bytes. */
export interface UdpFrameFields {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  srcIp: number;
  dstIp: number;
  /** IPv4 identification, 0..65535. */
  id: number;
  /** IPv4 time to live. */
  ttl: number;
  srcPort: number;
  dstPort: number;
  /** Compute the UDP checksum (false sends 0: "no checksum", allowed on IPv4). */
  checksum: boolean;
}

/**
 * Unfolded ones'-complement sum (RFC 1071) of `length` bytes at `offset`,
 * four bytes per step. A double holds the running sum exactly far beyond any
 * datagram, so there is no folding inside the loop.
 */
export function onesSum(b: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  let i = offset;
  const end4 = offset + (length & ~3);
  for (; i < end4; i += 4) sum += ((b[i]! << 8) | b[i + 1]!) + ((b[i + 2]! << 8) | b[i + 3]!);
  const end = offset + length;
  if (i + 1 < end) {
    sum += (b[i]! << 8) | b[i + 1]!;
    i += 2;
  }
  if (i < end) sum += b[i]! << 8;
  return sum;
}

let lastBuffer: ArrayBufferLike | undefined;
let lastWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/**
 * A Uint32Array over all of `buffer` (its whole 4-byte words), kept for the
 * last buffer asked for: frames come from a few large slabs, so the
 * checksum of a frame reuses one view instead of building one per packet.
 */
function wordsOf(buffer: ArrayBufferLike): Uint32Array<ArrayBufferLike> {
  if (buffer !== lastBuffer) {
    lastWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    lastBuffer = buffer;
  }
  return lastWords;
}

/**
 * The same sum as {@link onesSum}, faster for long ranges: the bulk is read as
 * little-endian 32-bit words through a `Uint32Array` view (RFC 1071 §2: the
 * ones'-complement sum is independent of byte order up to a final swap), the
 * unaligned head and the tail byte by byte. Falls back to {@link onesSum} when
 * the range starts at an odd address.
 */
export function fastOnesSum(b: Uint8Array, offset: number, length: number): number {
  const start = b.byteOffset + offset;
  if (length < 64 || (start & 1) === 1) return onesSum(b, offset, length);
  let be = 0;
  let i = offset;
  const end = offset + length;
  if ((start & 3) === 2) {
    be += (b[i]! << 8) | b[i + 1]!;
    i += 2;
  }
  const words = (end - i) >>> 2;
  const view = wordsOf(b.buffer);
  let k = (b.byteOffset + i) >>> 2;
  const kEnd = k + words;
  // Host byte order, despite the names; two sums so consecutive adds do not wait on each other.
  let le0 = 0;
  let le1 = 0;
  for (; k + 1 < kEnd; k += 2) {
    le0 += view[k]!;
    le1 += view[k + 1]!;
  }
  if (k < kEnd) le0 += view[k]!;
  let le = le0 + le1;
  i += words << 2;
  if (i + 1 < end) {
    be += (b[i]! << 8) | b[i + 1]!;
    i += 2;
  }
  if (i < end) be += b[i]! << 8;
  while (le > 0xffff) le = (le % 0x10000) + Math.floor(le / 0x10000);
  // On a little-endian host the word sum is the network-order sum with its two bytes swapped.
  return be + (LITTLE_ENDIAN ? ((le & 0xff) << 8) | (le >>> 8) : le);
}

/**
 * Builds an untagged Ethernet / IPv4 (DF, no options) / UDP frame carrying
 * `data` (copied): the endpoint's send path, written by offset so a datagram
 * costs one allocation and no address parsing (the `ethernet`/`ipv4`/`udp`
 * codecs produce the same bytes from string addresses). The returned frame is
 * a view with {@link VXLAN_HEADROOM} bytes of headroom before it in the same
 * buffer, so the VTEP can encapsulate it in place. With `slab` the bytes come
 * from it instead of Node's Buffer pool. The caller guarantees
 * `data.length <= 65507`.
 */
export function writeUdpFrame(f: UdpFrameFields, data: Uint8Array, slab?: FrameSlab): Uint8Array {
  const udpLength = 8 + data.length;
  const total = 20 + udpLength;
  let buf: Uint8Array;
  if (slab !== undefined) buf = slab.allocAfter(HEADROOM, 14 + total);
  else {
    const whole = Buffer.allocUnsafe(HEADROOM + 14 + total);
    buf = new Uint8Array(whole.buffer, whole.byteOffset + HEADROOM, 14 + total);
  }
  buf.set(f.dstMac, 0);
  buf.set(f.srcMac, 6);
  buf[12] = 0x08;
  buf[13] = 0x00;
  // IPv4 header
  buf[14] = 0x45;
  buf[15] = 0;
  buf[16] = total >>> 8;
  buf[17] = total & 0xff;
  buf[18] = (f.id >>> 8) & 0xff;
  buf[19] = f.id & 0xff;
  buf[20] = 0x40; // DF
  buf[21] = 0;
  buf[22] = f.ttl;
  buf[23] = IPPROTO_UDP;
  buf[24] = 0;
  buf[25] = 0;
  const s = f.srcIp >>> 0;
  const d = f.dstIp >>> 0;
  buf[26] = s >>> 24;
  buf[27] = s >>> 16;
  buf[28] = s >>> 8;
  buf[29] = s;
  buf[30] = d >>> 24;
  buf[31] = d >>> 16;
  buf[32] = d >>> 8;
  buf[33] = d;
  const ipSum = fold(onesSum(buf, 14, 20));
  buf[24] = ipSum >>> 8;
  buf[25] = ipSum & 0xff;
  // UDP header
  buf[34] = f.srcPort >>> 8;
  buf[35] = f.srcPort & 0xff;
  buf[36] = f.dstPort >>> 8;
  buf[37] = f.dstPort & 0xff;
  buf[38] = udpLength >>> 8;
  buf[39] = udpLength & 0xff;
  buf[40] = 0;
  buf[41] = 0;
  buf.set(data, 42);
  if (f.checksum) {
    let sum = fold(pseudoHeaderSum(s, d, IPPROTO_UDP, udpLength) + fastOnesSum(buf, 34, udpLength));
    if (sum === 0) sum = 0xffff;
    buf[40] = sum >>> 8;
    buf[41] = sum & 0xff;
  }
  return buf;
}

/** True when the IPv4 header of `ihl` bytes at `offset` has a correct checksum. */
export function ipv4HeaderChecksumOk(b: Uint8Array, offset: number, ihl: number): boolean {
  return fold(onesSum(b, offset, ihl)) === 0;
}
