import { InvalidFieldError, MalformedPacketError } from '../errors';
import { need, target } from './bounds';
import type { Codec, Decoded } from './codec';
import { VXLAN_FLAG_I as FLAG_I, VXLAN_HEADER_LENGTH as HEADER_LENGTH, VXLAN_MAX_VNI } from './constants';

// Module-local constants for readVni/writeVxlanHeader, which run per packet: under CJS
// transpilation every use of an imported name is a property read through a getter.
const VXLAN_FLAG_I = FLAG_I;
const VXLAN_HEADER_LENGTH = HEADER_LENGTH;

/** The VXLAN header (RFC 7348 §5): only the 24-bit VXLAN Network Identifier carries information. */
export interface VxlanHeader {
  /** VXLAN Network Identifier, 0..16777215. */
  vni: number;
}

/**
 * Reads the VNI of the VXLAN header at `offset` for the receive hot path,
 * without allocating and without throwing.
 * Returns -1 when fewer than 8 bytes are readable or the I flag is clear
 * (RFC 7348: such packets are dropped); reserved bits are ignored.
 */
export function readVni(buf: Uint8Array, offset = 0): number {
  if (offset < 0 || offset + VXLAN_HEADER_LENGTH > buf.length) return -1;
  if ((buf[offset]! & VXLAN_FLAG_I) === 0) return -1;
  return (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!;
}

/**
 * Writes an 8-byte VXLAN header with the I flag and `vni` at `offset`, all
 * reserved bits zero. No validation: the hot-path twin of `vxlanHeader.encode`;
 * the caller guarantees 0 <= vni <= 0xffffff and 8 writable bytes.
 */
export function writeVxlanHeader(vni: number, buf: Uint8Array, offset = 0): void {
  buf[offset] = VXLAN_FLAG_I;
  buf[offset + 1] = 0;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = vni >>> 16;
  buf[offset + 5] = vni >>> 8;
  buf[offset + 6] = vni;
  buf[offset + 7] = 0;
}

/**
 * VXLAN header codec (RFC 7348 §5): flags `0x08` (I), 24 reserved bits, 24-bit
 * VNI, 8 reserved bits. Encode sets reserved bits to zero; decode requires the
 * I flag and ignores every reserved bit (including the other flag bits).
 * Decode consumes exactly 8 bytes; the inner Ethernet frame follows.
 */
export const vxlanHeader: Codec<VxlanHeader> = {
  encode(value: VxlanHeader, buf?: Uint8Array, offset = 0): Uint8Array {
    const vni = value.vni;
    if (!Number.isInteger(vni) || vni < 0 || vni > VXLAN_MAX_VNI) {
      throw new InvalidFieldError('vxlan', 'vni', `must be an integer in 0..${VXLAN_MAX_VNI}, got ${String(vni)}`);
    }
    const out = target('vxlan', VXLAN_HEADER_LENGTH, buf, offset);
    writeVxlanHeader(vni, out, offset);
    return out;
  },
  decode(buf: Uint8Array, offset = 0): Decoded<VxlanHeader> {
    need('vxlan', buf, offset, VXLAN_HEADER_LENGTH, 'header');
    const flags = buf[offset]!;
    if ((flags & VXLAN_FLAG_I) === 0) {
      throw new MalformedPacketError('vxlan', `I flag (0x08) not set in flags 0x${flags.toString(16).padStart(2, '0')}`);
    }
    const vni = (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!;
    return { value: { vni }, bytes: VXLAN_HEADER_LENGTH };
  },
  encodingLength(): number {
    return VXLAN_HEADER_LENGTH;
  },
};
