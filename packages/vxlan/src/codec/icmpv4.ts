import { InvalidFieldError, MalformedPacketError } from '../errors';
import { checkUint, need, target } from './bounds';
import { addChecksum, finishChecksum, internetChecksum } from './checksum';
import type { Codec, Decoded } from './codec';
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from './constants';

/**
 * An ICMPv4 message (RFC 792). The checksum is not a field: computed on encode, verified on decode.
 * For echo request (8) and echo reply (0) the header is 8 bytes and carries `id` and `seq`;
 * for every other type the header is 4 bytes and `payload` starts with the
 * type-specific "rest of header" word (e.g. the unused word and original datagram of a
 * destination-unreachable message).
 */
export interface Icmpv4Message {
  /** ICMP type, 0..255. */
  type: number;
  /** ICMP code, 0..255. */
  code: number;
  /** Echo identifier, 0..65535 (echo types only; 0 when omitted on encode). */
  id?: number;
  /** Echo sequence number, 0..65535 (echo types only; 0 when omitted on encode). */
  seq?: number;
  /** Data after the header; on decode a view of the input. */
  payload: Uint8Array;
}

/** True for the types whose header carries identifier and sequence number. */
export function isIcmpEcho(type: number): boolean {
  return type === ICMP_ECHO_REQUEST || type === ICMP_ECHO_REPLY;
}

function headerLength(type: number): number {
  return isIcmpEcho(type) ? 8 : 4;
}

/**
 * ICMPv4 codec. The message extends to the end of `buf` (pass the IPv4
 * payload, which honours the IPv4 total length); the checksum covers all of it.
 */
export const icmpv4: Codec<Icmpv4Message> = {
  encode(value: Icmpv4Message, buf?: Uint8Array, offset = 0): Uint8Array {
    checkUint('icmpv4', 'type', value.type, 0xff);
    checkUint('icmpv4', 'code', value.code, 0xff);
    const echo = isIcmpEcho(value.type);
    if (!echo && (value.id !== undefined || value.seq !== undefined)) {
      throw new InvalidFieldError('icmpv4', 'id/seq', `only belong to echo messages (type 0 or 8), got type ${value.type}`);
    }
    const id = value.id ?? 0;
    const seq = value.seq ?? 0;
    if (echo) {
      checkUint('icmpv4', 'id', id, 0xffff);
      checkUint('icmpv4', 'seq', seq, 0xffff);
    }
    const hl = headerLength(value.type);
    const length = hl + value.payload.length;
    const out = target('icmpv4', length, buf, offset);
    out[offset] = value.type;
    out[offset + 1] = value.code;
    out[offset + 2] = 0;
    out[offset + 3] = 0;
    if (echo) {
      out[offset + 4] = id >> 8;
      out[offset + 5] = id & 0xff;
      out[offset + 6] = seq >> 8;
      out[offset + 7] = seq & 0xff;
    }
    out.set(value.payload, offset + hl);
    const sum = internetChecksum(out, offset, length);
    out[offset + 2] = sum >> 8;
    out[offset + 3] = sum & 0xff;
    return out;
  },
  decode(buf: Uint8Array, offset = 0): Decoded<Icmpv4Message> {
    need('icmpv4', buf, offset, 4, 'header');
    const type = buf[offset]!;
    const code = buf[offset + 1]!;
    const hl = headerLength(type);
    need('icmpv4', buf, offset, hl, type === ICMP_ECHO_REQUEST ? 'echo request header' : 'echo reply header');
    const length = buf.length - offset;
    if (internetChecksum(buf, offset, length) !== 0) {
      const stored = (buf[offset + 2]! << 8) | buf[offset + 3]!;
      // Expected value: the sum with the checksum field read as zero.
      const expected = finishChecksum(addChecksum(addChecksum(0, buf, offset, 2), buf, offset + 4, length - 4));
      throw new MalformedPacketError(
        'icmpv4',
        `checksum mismatch: stored 0x${stored.toString(16).padStart(4, '0')}, computed 0x${expected.toString(16).padStart(4, '0')}`,
      );
    }
    const payload = buf.subarray(offset + hl);
    const value: Icmpv4Message = isIcmpEcho(type)
      ? { type, code, id: (buf[offset + 4]! << 8) | buf[offset + 5]!, seq: (buf[offset + 6]! << 8) | buf[offset + 7]!, payload }
      : { type, code, payload };
    return { value, bytes: length };
  },
  encodingLength(value: Icmpv4Message): number {
    return headerLength(value.type) + value.payload.length;
  },
};
