import { need, target, checkUint } from './bounds';
import type { Codec, Decoded } from './codec';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_VLAN, VLAN_TAG_LENGTH } from './constants';
import { formatMac } from '@weft/interface';
import { writeMac } from './mac';

/** An IEEE 802.1Q tag (TPID 0x8100). */
export interface VlanTag {
  /** Priority code point, 0..7. */
  pcp: number;
  /** Drop eligible indicator. */
  dei: boolean;
  /** VLAN identifier, 0..4095. */
  vid: number;
}

/** An Ethernet II frame (no preamble, no FCS), optionally 802.1Q-tagged. */
export interface EthernetFrame {
  /** Destination MAC, lowercase `aa:bb:cc:dd:ee:ff`. */
  dst: string;
  /** Source MAC, lowercase `aa:bb:cc:dd:ee:ff`. */
  src: string;
  /** The 802.1Q tag, when the frame carries one. */
  vlan?: VlanTag;
  /** EtherType of the payload (after the tag), 0..65535. */
  etherType: number;
  /**
   * Everything after the header up to the end of the input, padding included
   * (the upper layer's own length field decides what is real). On decode a view of the input.
   */
  payload: Uint8Array;
}

function headerLength(value: EthernetFrame): number {
  return ETHERNET_HEADER_LENGTH + (value.vlan ? VLAN_TAG_LENGTH : 0);
}

/**
 * Ethernet II codec. Encode writes no padding to the 60-byte minimum (VXLAN
 * inner frames need none); decode takes the payload to the end of `buf`.
 * Only one 802.1Q tag (0x8100) is understood; any other EtherType is returned as is.
 */
export const ethernet: Codec<EthernetFrame> = {
  encode(value: EthernetFrame, buf?: Uint8Array, offset = 0): Uint8Array {
    checkUint('ethernet', 'etherType', value.etherType, 0xffff);
    if (value.vlan) {
      checkUint('ethernet', 'vlan.pcp', value.vlan.pcp, 7);
      checkUint('ethernet', 'vlan.vid', value.vlan.vid, 4095);
    }
    const hl = headerLength(value);
    const out = target('ethernet', hl + value.payload.length, buf, offset);
    writeMac(value.dst, out, offset);
    writeMac(value.src, out, offset + 6);
    let p = offset + 12;
    if (value.vlan) {
      const tci = (value.vlan.pcp << 13) | (value.vlan.dei ? 0x1000 : 0) | value.vlan.vid;
      out[p] = ETHERTYPE_VLAN >> 8;
      out[p + 1] = ETHERTYPE_VLAN & 0xff;
      out[p + 2] = tci >> 8;
      out[p + 3] = tci & 0xff;
      p += 4;
    }
    out[p] = value.etherType >> 8;
    out[p + 1] = value.etherType & 0xff;
    out.set(value.payload, p + 2);
    return out;
  },
  decode(buf: Uint8Array, offset = 0): Decoded<EthernetFrame> {
    need('ethernet', buf, offset, ETHERNET_HEADER_LENGTH, 'header');
    const dst = formatMac(buf, offset);
    const src = formatMac(buf, offset + 6);
    let etherType = (buf[offset + 12]! << 8) | buf[offset + 13]!;
    let p = offset + 14;
    let vlan: VlanTag | undefined;
    if (etherType === ETHERTYPE_VLAN) {
      need('ethernet', buf, offset, ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH, '802.1Q tag');
      const tci = (buf[p]! << 8) | buf[p + 1]!;
      vlan = { pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff };
      etherType = (buf[p + 2]! << 8) | buf[p + 3]!;
      p += 4;
    }
    const payload = buf.subarray(p);
    const value: EthernetFrame = vlan ? { dst, src, vlan, etherType, payload } : { dst, src, etherType, payload };
    return { value, bytes: buf.length - offset };
  },
  encodingLength(value: EthernetFrame): number {
    return headerLength(value) + value.payload.length;
  },
};
