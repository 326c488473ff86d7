import { InvalidFieldError, MalformedPacketError } from '../errors';
import { checkUint, need, target } from './bounds';
import { internetChecksum } from './checksum';
import type { Codec, Decoded } from './codec';
import { IPV4_HEADER_LENGTH } from './constants';
import { formatIpv4 } from '@weft/interface';
import { readIpv4, writeIpv4 } from './ipv4-address';

/** An IPv4 packet (RFC 791). The header checksum is not a field: it is computed and verified. */
export interface Ipv4Packet {
  /** Type of service / DSCP+ECN byte, 0..255. */
  tos: number;
  /** Identification, 0..65535. */
  id: number;
  /** Don't Fragment flag. */
  df: boolean;
  /** More Fragments flag. */
  mf: boolean;
  /** Fragment offset in 8-byte units, as on the wire, 0..8191. */
  fragmentOffset: number;
  /** Time to live, 0..255. */
  ttl: number;
  /** Protocol number of the payload (`IPPROTO_ICMP`, `IPPROTO_UDP`, ...), 0..255. */
  protocol: number;
  /** Source address, dotted quad. */
  src: string;
  /** Destination address, dotted quad. */
  dst: string;
  /** Raw header options (a multiple of 4 bytes, at most 40); absent when there are none. */
  options?: Uint8Array;
  /** The payload, `totalLength - headerLength` bytes; on decode a view of the input. */
  payload: Uint8Array;
}

function optionsLength(value: Ipv4Packet): number {
  return value.options ? value.options.length : 0;
}

/**
 * IPv4 codec. Encode computes the header checksum; decode verifies it, checks
 * version 4 and the header/total lengths, tolerates options (returned raw) and
 * honours the total length, so Ethernet padding after the packet is not part
 * of `payload` and not consumed (`bytes` = total length).
 */
export const ipv4: Codec<Ipv4Packet> = {
  encode(value: Ipv4Packet, buf?: Uint8Array, offset = 0): Uint8Array {
    const optLen = optionsLength(value);
    if (optLen % 4 !== 0 || optLen > 40) {
      throw new InvalidFieldError('ipv4', 'options', `length must be a multiple of 4 up to 40 bytes, got ${optLen}`);
    }
    checkUint('ipv4', 'tos', value.tos, 0xff);
    checkUint('ipv4', 'id', value.id, 0xffff);
    checkUint('ipv4', 'fragmentOffset', value.fragmentOffset, 0x1fff);
    checkUint('ipv4', 'ttl', value.ttl, 0xff);
    checkUint('ipv4', 'protocol', value.protocol, 0xff);
    const hl = IPV4_HEADER_LENGTH + optLen;
    const total = hl + value.payload.length;
    if (total > 0xffff) {
      throw new InvalidFieldError('ipv4', 'payload', `too long: total length ${total} bytes exceeds 65535`);
    }
    const out = target('ipv4', total, buf, offset);
    const o = offset;
    out[o] = 0x40 | (hl >> 2);
    out[o + 1] = value.tos;
    out[o + 2] = total >> 8;
    out[o + 3] = total & 0xff;
    out[o + 4] = value.id >> 8;
    out[o + 5] = value.id & 0xff;
    const frag = (value.df ? 0x4000 : 0) | (value.mf ? 0x2000 : 0) | value.fragmentOffset;
    out[o + 6] = frag >> 8;
    out[o + 7] = frag & 0xff;
    out[o + 8] = value.ttl;
    out[o + 9] = value.protocol;
    out[o + 10] = 0;
    out[o + 11] = 0;
    writeIpv4(value.src, out, o + 12);
    writeIpv4(value.dst, out, o + 16);
    if (value.options) out.set(value.options, o + 20);
    const sum = internetChecksum(out, o, hl);
    out[o + 10] = sum >> 8;
    out[o + 11] = sum & 0xff;
    out.set(value.payload, o + hl);
    return out;
  },
  decode(buf: Uint8Array, offset = 0): Decoded<Ipv4Packet> {
    need('ipv4', buf, offset, IPV4_HEADER_LENGTH, 'header');
    const o = offset;
    const version = buf[o]! >> 4;
    if (version !== 4) throw new MalformedPacketError('ipv4', `version is ${version}, expected 4`);
    const hl = (buf[o]! & 0x0f) * 4;
    if (hl < IPV4_HEADER_LENGTH) throw new MalformedPacketError('ipv4', `header length ${hl} bytes is below 20`);
    const total = (buf[o + 2]! << 8) | buf[o + 3]!;
    if (total < hl) throw new MalformedPacketError('ipv4', `total length ${total} is smaller than header length ${hl}`);
    need('ipv4', buf, o, total, `packet (total length ${total})`);
    const stored = (buf[o + 10]! << 8) | buf[o + 11]!;
    if (internetChecksum(buf, o, hl) !== 0) {
      const expected = expectedChecksum(buf, o, hl);
      throw new MalformedPacketError(
        'ipv4',
        `header checksum mismatch: stored 0x${stored.toString(16).padStart(4, '0')}, computed 0x${expected.toString(16).padStart(4, '0')}`,
      );
    }
    const frag = (buf[o + 6]! << 8) | buf[o + 7]!;
    const value: Ipv4Packet = {
      tos: buf[o + 1]!,
      id: (buf[o + 4]! << 8) | buf[o + 5]!,
      df: (frag & 0x4000) !== 0,
      mf: (frag & 0x2000) !== 0,
      fragmentOffset: frag & 0x1fff,
      ttl: buf[o + 8]!,
      protocol: buf[o + 9]!,
      src: formatIpv4(readIpv4(buf, o + 12)),
      dst: formatIpv4(readIpv4(buf, o + 16)),
      payload: buf.subarray(o + hl, o + total),
    };
    if (hl > IPV4_HEADER_LENGTH) value.options = buf.subarray(o + IPV4_HEADER_LENGTH, o + hl);
    return { value, bytes: total };
  },
  encodingLength(value: Ipv4Packet): number {
    return IPV4_HEADER_LENGTH + optionsLength(value) + value.payload.length;
  },
};

/** The checksum the header at `o` should carry: the sum with the checksum field taken as zero. */
function expectedChecksum(buf: Uint8Array, o: number, hl: number): number {
  const copy = buf.slice(o, o + hl);
  copy[10] = 0;
  copy[11] = 0;
  return internetChecksum(copy, 0, hl);
}
