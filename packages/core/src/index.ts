/**
 * @packageDocumentation
 * @weft/core — the overlay control plane: a cluster of nodes sharing state in
 * a `Store` (embedded Raft, memory, or etcd via `@weft/core/etcd`), overlay
 * networks with serial VNIs and IPAM in the store, endpoints attached exactly
 * once cluster-wide, lazy activation, encrypted networks with key rotation,
 * and each node's data plane reconciled from the store (desired state +
 * reconcile loop), and service discovery: services with VIPs balanced
 * client-side, and an embedded DNS server per node whose answers are a pure
 * function of the records. Testing helpers live in `@weft/core/testing`.
 */
export { WeftNode, type NodeStats } from './node/weft-node';
export type { NodeInfo } from './node/node-status';
export type { DesiredRole, Availability } from './node/node-lifecycle';
export type { WeftNodeOptions } from './node/node-options';
export { Attachment } from './endpoint/attachment';
export type { AttachOptions } from './endpoint/attach-options';
export type { CreateNetworkOptions } from './network/network-options';
export type { NetworkInfo, NetworkInspect } from './network/inspect-network';
export { overlayMtu, VXLAN_OVERHEAD_IPV4, VXLAN_OVERHEAD_IPV6, ENCRYPTION_OVERHEAD, type OverlayMtuInput } from './network/mtu';
export {
  CoreError,
  NetworkNotFoundError,
  NameConflictError,
  NetworkInUseError,
  AttachRefusedError,
  EndpointNotFoundError,
  WeftNodeClosedError,
  OperationTimeoutError,
  CorruptStateError,
  ContentionError,
  ServiceNotFoundError,
  BackendRefusedError,
  NodeNotFoundError,
  NodeRemovalRefusedError,
  NodeRemovedError,
  PermissionDeniedError,
  ManagerRemovalRefusedError,
  RoleChangeRefusedError,
} from './errors';
export {
  Services,
  type CreateServiceOptions,
  type ServiceInfo,
  type ServiceBackendInfo,
  type BackendRef,
} from './service/services';
export type { DnsScope, DnsNameRecords, DnsScopeOf } from './discovery/dns-scope';
export { dnsScopeOf, serviceVipsOf, type DiscoveryRecords } from './discovery/dns-view';
export { DnsServer, type DnsListenerInfo } from './discovery/dns-server';
export {
  DEFAULT_DNS_UPSTREAM_TIMEOUT_MS,
  DEFAULT_DNS_TTL_SECONDS,
  DEFAULT_DNS_MAX_TCP_CONNECTIONS,
  DEFAULT_DNS_TCP_IDLE_TIMEOUT_MS,
  type DnsServerOptions,
  type DnsTimers,
  type UdpSocketFactory,
} from './discovery/dns-server-options';
export { DnsServerError, DnsBindError, DnsServerClosedError } from './discovery/dns-errors';
export type { DnsServerCounters } from './discovery/dns-counters';
export {
  UserspaceDataPlane,
  udpUnderlayFactory,
  memoryUnderlayFactory,
  DEFAULT_VXLAN_PORT,
  DEFAULT_ENCRYPTED_PORT,
  DEFAULT_UNDERLAY_MTU,
  type UserspaceDataPlaneOptions,
  type UnderlayFactory,
} from './data-plane';
export { UnknownNetworkError, KeyTransitionError, AddressConflictError, DataPlaneClosedError } from './data-plane';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store';
export { RaftStore, type RaftStoreOptions, type RaftStoreStats, type ManagerAddress } from './store/raft-store';
export type { ManagerInfo, AddManagerOptions, RemoveManagerOptions, RegistryStats } from './store/manager-registry';
export { RemoteStore, type RemoteStoreOptions, type RemoteStoreStats } from './store/remote/remote-store';
export { StoreServer, type StoreServerOptions, type StoreServerStats } from './store/remote/store-server';
export type { ControlTls, ControlPeer } from './store/remote/control-tls';
export { workerStorePolicy, type StoreAuthorizer } from './store/remote/store-policy';
export { RemoteStoreError } from './store/remote/wire';
export { WeftClient, type WeftClientOptions } from './client/weft-client';
export { NodeUnreachableError, RemoteNodeError, LocalEndpointNotFoundError, NotAManagerError, DataDirError, ControlSocketInUseError, UnknownMethodError } from './daemon/errors';
export { KeyLayout } from './records/keys';
export type { ClusterRecord, NodeRecord, NetworkRecord, EndpointRecord, KeysRecord, ServiceRecord, ServiceBackendRecord } from './records/schemas';
export { desiredState, type ClusterView, type DesiredState, type PeerEndpointRecord } from './reconcile/desired-state';
export { planReconcile, type DataPlaneOp } from './reconcile/plan';
export type { ReconcileStats } from './reconcile/reconciler';
// Shared errors core's calls throw, re-exported from the contracts package. (Address errors —
// PoolExhaustedError, OverlapError, AddressInUseError — are @weft/ipam's; match them with isWeftError.)
export { InvalidOptionsError, StoreUnavailableError, WatchCompactedError, isWeftError } from '@weft/interface';
// The seams, re-exported so a user of @weft/core needs no direct dependency on @weft/interface for them.
export type {
  Store,
  DataPlane,
  StoreWatch,
  WatchEvent,
  KeyValue,
  ProgrammedState,
  NetworkSpec,
  LocalEndpointSpec,
  RemoteEndpointSpec,
  PeerNode,
  ServiceVip,
  ServiceBackend,
  DnsQuery,
  DnsQueryHandler,
} from '@weft/interface';
