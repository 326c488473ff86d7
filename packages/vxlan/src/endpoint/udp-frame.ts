import { finishChecksum, IPPROTO_UDP as UDP, pseudoHeaderSum as pseudoSum } from '../codec';
import { VXLAN_HEADROOM } from '../vtep/port';
import type { FrameSlab } from './frame-slab';
import { simdOnesSum } from './simd-sum';

// Module-local bindings for the per-packet path (see vtep/segment.ts).
const IPPROTO_UDP = UDP;
const fold = finishChecksum;
const pseudoHeaderSum = pseudoSum;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const HEADROOM = VXLAN_HEADROOM;
const simdSum = simdOnesSum;

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

/** Words per chunk of {@link fastOnesSum}: 2^20 words below 2^32 sum to less than 2^52, exact in a double. */
const CHUNK_WORDS = 1 << 20;

/**
 * Folds an unfolded ones'-complement sum (any integer in 0 .. 2^53) to 16
 * bits, without complementing it. Float division and subtraction instead of
 * `%`, which V8 compiles to a call to fmod.
 */
function fold16(sum: number): number {
  while (sum > 0xffff) {
    const hi = Math.floor(sum / 0x10000);
    sum = sum - hi * 0x10000 + hi;
  }
  return sum;
}

/**
 * Sum of the 32-bit words `view[k .. kEnd)` as unsigned numbers, in four
 * independent accumulators so consecutive adds do not wait on each other.
 * Exact while the sum stays below 2^53 (2^21 words).
 */
function sumWords(view: Uint32Array<ArrayBufferLike>, k: number, kEnd: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = kEnd - 3;
  for (; k < end4; k += 4) {
    s0 += view[k]!;
    s1 += view[k + 1]!;
    s2 += view[k + 2]!;
    s3 += view[k + 3]!;
  }
  for (; k < kEnd; k++) s0 += view[k]!;
  return s0 + s1 + s2 + s3;
}

/**
 * The same sum as {@link onesSum}, faster for long ranges: the bulk is read as
 * 32-bit words in host byte order through a `Uint32Array` view (RFC 1071 §2:
 * the ones'-complement sum is independent of byte order up to a final swap),
 * folded to 16 bits once per chunk of {@link CHUNK_WORDS} words (a datagram is
 * one chunk); the unaligned head and the tail are read byte by byte. Falls back to
 * {@link onesSum} for short ranges and ranges at an odd address. Returns an
 * unfolded sum, like {@link onesSum}.
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
  let le = 0;
  while (k < kEnd) {
    const stop = kEnd - k > CHUNK_WORDS ? k + CHUNK_WORDS : kEnd;
    le = fold16(le + sumWords(view, k, stop));
    k = stop;
  }
  i += words << 2;
  if (i + 1 < end) {
    be += (b[i]! << 8) | b[i + 1]!;
    i += 2;
  }
  if (i < end) be += b[i]! << 8;
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
 * from it instead of Node's Buffer pool. With `reuse`, a frame this function
 * returned earlier whose bytes are the caller's again, the frame is written
 * into it when the length matches (and returned). The caller guarantees
 * `data.length <= 65507`.
 */
export function writeUdpFrame(f: UdpFrameFields, data: Uint8Array, slab?: FrameSlab, reuse?: Uint8Array): Uint8Array {
  const udpLength = 8 + data.length;
  const total = 20 + udpLength;
  let buf: Uint8Array;
  if (reuse !== undefined && reuse.length === 14 + total) buf = reuse;
  else if (slab !== undefined) buf = slab.allocAfter(HEADROOM, 14 + total);
  else {
    const whole = Buffer.allocUnsafe(HEADROOM + 14 + total);
    buf = new Uint8Array(whole.buffer, whole.byteOffset + HEADROOM, 14 + total);
  }
  // Byte stores, not two TypedArray#set calls: a builtin call costs more than six stores.
  const dm = f.dstMac;
  const sm = f.srcMac;
  buf[0] = dm[0]!;
  buf[1] = dm[1]!;
  buf[2] = dm[2]!;
  buf[3] = dm[3]!;
  buf[4] = dm[4]!;
  buf[5] = dm[5]!;
  buf[6] = sm[0]!;
  buf[7] = sm[1]!;
  buf[8] = sm[2]!;
  buf[9] = sm[3]!;
  buf[10] = sm[4]!;
  buf[11] = sm[5]!;
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
  // The header checksum from the field values: nothing to read back.
  const ipSum = fold(0x4500 + total + (f.id & 0xffff) + 0x4000 + (((f.ttl & 0xff) << 8) | IPPROTO_UDP) + (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff));
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
    // Pseudo-header and UDP header from the field values; the data with SIMD where the engine has it.
    const header = pseudoHeaderSum(s, d, IPPROTO_UDP, udpLength) + (f.srcPort & 0xffff) + (f.dstPort & 0xffff) + udpLength;
    let payload = simdSum(data, 0, data.length);
    if (payload < 0) payload = fastOnesSum(buf, 42, data.length);
    let sum = fold(header + payload);
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
