import { MalformedPacketError, InvalidFieldError } from '../errors';
import { need, target } from './bounds';
import type { Codec, Decoded } from './codec';
import { ARP_LENGTH, ETHERTYPE_IPV4 } from './constants';
import { formatIpv4, formatMac } from '@weft/interface';
import { readIpv4, writeIpv4 } from './ipv4-address';
import { writeMac } from './mac';

/** ARP operation: 1 = request, 2 = reply (RFC 826). */
export type ArpOp = 'request' | 'reply';

/** An ARP packet for IPv4 over Ethernet (hardware type 1, protocol 0x0800). */
export interface ArpPacket {
  /** Operation: `request` (opcode 1) or `reply` (opcode 2). */
  op: ArpOp;
  /** Sender hardware address, lowercase `aa:bb:cc:dd:ee:ff`. */
  senderMac: string;
  /** Sender protocol address, dotted quad. */
  senderIp: string;
  /** Target hardware address (`00:00:00:00:00:00` in a request). */
  targetMac: string;
  /** Target protocol address, dotted quad. */
  targetIp: string;
}

/**
 * ARP codec, IPv4 over Ethernet only (28 bytes). Decode rejects any other
 * hardware/protocol type or address length and any opcode but 1 and 2;
 * bytes after the 28 (Ethernet padding) are not consumed.
 */
export const arp: Codec<ArpPacket> = {
  encode(value: ArpPacket, buf?: Uint8Array, offset = 0): Uint8Array {
    if (value.op !== 'request' && value.op !== 'reply') {
      throw new InvalidFieldError('arp', 'op', `must be "request" or "reply", got ${JSON.stringify(value.op)}`);
    }
    const out = target('arp', ARP_LENGTH, buf, offset);
    out[offset] = 0;
    out[offset + 1] = 1; // hardware type Ethernet
    out[offset + 2] = ETHERTYPE_IPV4 >> 8;
    out[offset + 3] = ETHERTYPE_IPV4 & 0xff;
    out[offset + 4] = 6;
    out[offset + 5] = 4;
    out[offset + 6] = 0;
    out[offset + 7] = value.op === 'request' ? 1 : 2;
    writeMac(value.senderMac, out, offset + 8);
    writeIpv4(value.senderIp, out, offset + 14);
    writeMac(value.targetMac, out, offset + 18);
    writeIpv4(value.targetIp, out, offset + 24);
    return out;
  },
  decode(buf: Uint8Array, offset = 0): Decoded<ArpPacket> {
    need('arp', buf, offset, ARP_LENGTH, 'packet');
    const htype = (buf[offset]! << 8) | buf[offset + 1]!;
    const ptype = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    const hlen = buf[offset + 4]!;
    const plen = buf[offset + 5]!;
    if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || hlen !== 6 || plen !== 4) {
      throw new MalformedPacketError(
        'arp',
        `unsupported hardware/protocol: htype ${htype}, ptype 0x${ptype.toString(16)}, hlen ${hlen}, plen ${plen} (only Ethernet/IPv4)`,
      );
    }
    const opcode = (buf[offset + 6]! << 8) | buf[offset + 7]!;
    if (opcode !== 1 && opcode !== 2) throw new MalformedPacketError('arp', `unsupported opcode ${opcode}`);
    return {
      value: {
        op: opcode === 1 ? 'request' : 'reply',
        senderMac: formatMac(buf, offset + 8),
        senderIp: formatIpv4(readIpv4(buf, offset + 14)),
        targetMac: formatMac(buf, offset + 18),
        targetIp: formatIpv4(readIpv4(buf, offset + 24)),
      },
      bytes: ARP_LENGTH,
    };
  },
  encodingLength(): number {
    return ARP_LENGTH;
  },
};
