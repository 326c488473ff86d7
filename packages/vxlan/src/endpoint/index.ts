export { Endpoint } from './endpoint';
export type { EndpointOptions, EndpointCounters, EndpointDnsCounters, EndpointDropReason, PingOptions, ResolveOptions } from './endpoint-options';
export { ArpResolver } from './arp-resolver';
export type { CachedNeighbour, ArpResolverSettings } from './arp-resolver';
export { EndpointUdpSocket } from './udp-socket';
export type { RemoteInfo } from './udp-socket';
export { writeUdpFrame, UDP_FRAME_OVERHEAD } from './udp-frame';
export type { UdpFrameFields } from './udp-frame';
export { FrameSlab } from './frame-slab';
export { EndpointError, HostUnreachableError, PingTimeoutError, EndpointClosedError, PortInUseError, MessageTooLongError } from './errors';
export {
  NameResolutionError,
  NoNameserverError,
  NameNotFoundError,
  DnsTimeoutError,
  DnsServerFailureError,
  DnsTruncatedError,
  TooManyLookupsError,
} from './dns/errors';
