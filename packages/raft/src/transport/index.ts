export type { Transport, MessageHandler } from './transport';
export { TransportError, MalformedMessageError, TransportClosedError } from './errors';
export { MemoryNetwork, MemoryTransport, type NetworkFaults, type NetworkStats, type NetworkScheduler } from './memory-network';
export { TcpTransport, type TcpStats, type TcpTransportOptions } from './tcp-transport';
export * from './codec';
