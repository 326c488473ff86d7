/**
 * @packageDocumentation
 * @weft/vxlan — VXLAN wire codecs (RFC 7348 and the inner Ethernet/ARP/IPv4/
 * ICMP/UDP layers), a userspace VTEP with per-VNI segments, userspace
 * endpoints, underlays (UDP and in-memory) and a pcap writer. Built on the
 * shared contracts of `@weft/interface` (`Underlay`, `SocketAddress`, `Clock`,
 * the shared errors, IP and MAC text), whose types and errors are re-exported here.
 */
export type { Underlay, SocketAddress, Clock, Random } from '@weft/interface';
export * from './errors';
export * from './codec';
export * from './pcap';
export * from './underlay';
export * from './vtep';
export * from './endpoint';
