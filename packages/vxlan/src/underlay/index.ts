export { UdpUnderlay, DEFAULT_UNDERLAY_PORT } from './udp-underlay';
export type { UdpUnderlayOptions, UdpUnderlayCounters } from './udp-underlay';
export { MemoryNetwork, MemoryUnderlay } from './memory-network';
export type { MemoryNetworkOptions, MemoryNetworkCounters, LinkConditions } from './memory-network';
