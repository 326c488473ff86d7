import { tryParseIpv4 } from '@weft/interface';
import { InvalidFieldError, MalformedPacketError } from '../errors';
import { checkUint, need, target } from './bounds';
import { addChecksum, finishChecksum, pseudoHeaderSum } from './checksum';
import type { Codec, Decoded } from './codec';
import { IPPROTO_UDP, UDP_HEADER_LENGTH } from './constants';

/** A UDP datagram (RFC 768). Length and checksum are not fields: they are derived. */
export interface UdpDatagram {
  /** Source port, 0..65535. */
  srcPort: number;
  /** Destination port, 0..65535. */
  dstPort: number;
  /** Data after the 8-byte header; on decode a view of the input. */
  payload: Uint8Array;
}

/** The IPv4 addresses of the enclosing packet, for the UDP checksum's pseudo-header. */
export interface Ipv4PseudoHeader {
  /** Source address, dotted quad or unsigned 32-bit number. */
  src: string | number;
  /** Destination address, dotted quad or unsigned 32-bit number. */
  dst: string | number;
}

function addr(field: string, a: string | number): number {
  if (typeof a === 'number') {
    if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) {
      throw new InvalidFieldError('udp', field, `must be an IPv4 address as 0..4294967295, got ${a}`);
    }
    return a;
  }
  const n = tryParseIpv4(String(a));
  if (n < 0) throw new InvalidFieldError('udp', field, `must be a dotted quad like "192.0.2.1", got ${JSON.stringify(a)}`);
  return n;
}

/** The UDP checksum of `length` bytes at `offset` (checksum field read as is). */
function udpSum(buf: Uint8Array, offset: number, length: number, pseudo: Ipv4PseudoHeader): number {
  const s = pseudoHeaderSum(addr('pseudo.src', pseudo.src), addr('pseudo.dst', pseudo.dst), IPPROTO_UDP, length);
  return finishChecksum(addChecksum(s, buf, offset, length));
}

/**
 * UDP codec over IPv4. With a `pseudo` header, encode computes the checksum
 * (0 computed is sent as 0xffff) and decode verifies a non-zero one; without
 * it encode sends checksum 0 ("none", allowed on IPv4) and decode does not verify.
 * Decode honours the length field: bytes after it are not part of `payload`.
 */
export const udp: Codec<UdpDatagram> & {
  encode(value: UdpDatagram, buf?: Uint8Array, offset?: number, pseudo?: Ipv4PseudoHeader): Uint8Array;
  decode(buf: Uint8Array, offset?: number, pseudo?: Ipv4PseudoHeader): Decoded<UdpDatagram>;
} = {
  encode(value: UdpDatagram, buf?: Uint8Array, offset = 0, pseudo?: Ipv4PseudoHeader): Uint8Array {
    checkUint('udp', 'srcPort', value.srcPort, 0xffff);
    checkUint('udp', 'dstPort', value.dstPort, 0xffff);
    const length = UDP_HEADER_LENGTH + value.payload.length;
    if (length > 0xffff) throw new InvalidFieldError('udp', 'payload', `too long: length ${length} bytes exceeds 65535`);
    const out = target('udp', length, buf, offset);
    out[offset] = value.srcPort >> 8;
    out[offset + 1] = value.srcPort & 0xff;
    out[offset + 2] = value.dstPort >> 8;
    out[offset + 3] = value.dstPort & 0xff;
    out[offset + 4] = length >> 8;
    out[offset + 5] = length & 0xff;
    out[offset + 6] = 0;
    out[offset + 7] = 0;
    out.set(value.payload, offset + UDP_HEADER_LENGTH);
    if (pseudo) {
      const sum = udpSum(out, offset, length, pseudo) || 0xffff;
      out[offset + 6] = sum >> 8;
      out[offset + 7] = sum & 0xff;
    }
    return out;
  },
  decode(buf: Uint8Array, offset = 0, pseudo?: Ipv4PseudoHeader): Decoded<UdpDatagram> {
    need('udp', buf, offset, UDP_HEADER_LENGTH, 'header');
    const length = (buf[offset + 4]! << 8) | buf[offset + 5]!;
    if (length < UDP_HEADER_LENGTH) throw new MalformedPacketError('udp', `length field ${length} is below 8`);
    need('udp', buf, offset, length, `datagram (length field ${length})`);
    const stored = (buf[offset + 6]! << 8) | buf[offset + 7]!;
    if (pseudo && stored !== 0 && udpSum(buf, offset, length, pseudo) !== 0) {
      // Expected value: the sum with the checksum field read as zero (0 is sent as 0xffff).
      const copy = buf.slice(offset, offset + length);
      copy[6] = 0;
      copy[7] = 0;
      const expected = udpSum(copy, 0, length, pseudo) || 0xffff;
      throw new MalformedPacketError(
        'udp',
        `checksum mismatch: stored 0x${stored.toString(16).padStart(4, '0')}, computed 0x${expected.toString(16).padStart(4, '0')}`,
      );
    }
    return {
      value: {
        srcPort: (buf[offset]! << 8) | buf[offset + 1]!,
        dstPort: (buf[offset + 2]! << 8) | buf[offset + 3]!,
        payload: buf.subarray(offset + UDP_HEADER_LENGTH, offset + length),
      },
      bytes: length,
    };
  },
  encodingLength(value: UdpDatagram): number {
    return UDP_HEADER_LENGTH + value.payload.length;
  },
};

/** Reads the UDP checksum field at `offset` (0 means "no checksum" on IPv4). */
export function readUdpChecksum(buf: Uint8Array, offset = 0): number {
  need('udp', buf, offset, UDP_HEADER_LENGTH, 'header');
  return (buf[offset + 6]! << 8) | buf[offset + 7]!;
}
