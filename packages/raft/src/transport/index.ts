export type { Transport, MessageHandler } from './transport';
export { TransportError, TransportClosedError, MessageEncodeError } from './errors';
export {
  MemoryTransportNetwork,
  MemoryTransport,
  type MemoryTransportNetworkOptions,
  type MemoryTransportFaults,
  type MemoryTransportNetworkStats,
  type MemoryTransportScheduler,
} from './memory-transport-network';
export { TcpTransport, type TcpStats, type TcpTransportOptions, type TransportTls } from './tcp-transport';
export * from './codec';
