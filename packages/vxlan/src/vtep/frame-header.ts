import { ETHERNET_HEADER_LENGTH as ETH, ETHERTYPE_VLAN as VLAN, VLAN_TAG_LENGTH as TAG } from '../codec';

// Module-local constants for the per-packet path (see segment.ts).
const ETHERNET_HEADER_LENGTH = ETH;
const ETHERTYPE_VLAN = VLAN;
const VLAN_TAG_LENGTH = TAG;

/**
 * Length of the Ethernet header of `frame` (14, or 18 with one 802.1Q tag),
 * or -1 when the frame is too short for it. Allocation-free.
 */
export function l2HeaderLength(frame: Uint8Array): number {
  return l2HeaderLengthAt(frame, 0);
}

/** {@link l2HeaderLength} of the frame `buf[offset, buf.length)`. Allocation-free. */
export function l2HeaderLengthAt(buf: Uint8Array, offset: number): number {
  const length = buf.length - offset;
  if (length < ETHERNET_HEADER_LENGTH) return -1;
  if (((buf[offset + 12]! << 8) | buf[offset + 13]!) !== ETHERTYPE_VLAN) return ETHERNET_HEADER_LENGTH;
  return length < ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH ? -1 : ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
}

/** The EtherType after the (optional) tag; `headerLength` from {@link l2HeaderLength}. */
export function innerEtherType(frame: Uint8Array, headerLength: number): number {
  return (frame[headerLength - 2]! << 8) | frame[headerLength - 1]!;
}
