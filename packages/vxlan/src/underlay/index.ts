export type { Underlay, UnderlayAddress } from './underlay';
export { formatAddress, sameAddress } from './underlay';
export { UnderlayClosedError } from './underlay-closed-error';

export { UdpUnderlay, DEFAULT_UNDERLAY_PORT } from './udp-underlay';
export type { UdpUnderlayOptions, UdpUnderlayCounters } from './udp-underlay';
export { MemoryNetwork, MemoryUnderlay } from './memory-network';
export type { MemoryNetworkOptions, MemoryNetworkCounters, LinkConditions } from './memory-network';
export { seededRandom } from './seeded-random';
export type { Random } from './seeded-random';
export { systemClock, ManualClock } from './clock';
export type { Clock } from './clock';
