/**
 * Wire codecs: VXLAN header (RFC 7348), Ethernet II (+802.1Q), ARP, IPv4,
 * ICMPv4, UDP, plus allocation-free helpers for the forwarding hot path.
 * IP and MAC text (`parseIpv4`, `formatMac`, ...) comes from `@weft/interface`.
 */
export type { Codec, Decoded } from './codec';
export * from './constants';
export { addChecksum, finishChecksum, internetChecksum, pseudoHeaderSum } from './checksum';
export { writeMac, macKey, macKeyOf, formatMacKey, isMulticastMac, isBroadcastMac } from './mac';
export { readIpv4, writeIpv4 } from './ipv4-address';
export { vxlanHeader, readVni, writeVxlanHeader, type VxlanHeader } from './vxlan-header';
export { ethernet, type EthernetFrame, type VlanTag } from './ethernet';
export { arp, type ArpPacket, type ArpOp } from './arp';
export { ipv4, type Ipv4Packet } from './ipv4';
export { icmpv4, isIcmpEcho, type Icmpv4Message } from './icmpv4';
export { udp, readUdpChecksum, type UdpDatagram, type Ipv4PseudoHeader } from './udp';
