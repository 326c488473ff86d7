/**
 * @packageDocumentation
 * @weft/ipam — IPv4/IPv6 CIDR math and serial, deterministic, replicable
 * address allocation with Docker-compatible defaults. IP text parsing is
 * `@weft/interface`'s; the names an ipam user needs are re-exported here.
 */
export * from './errors';
export { InvalidAddressError, InvalidOptionsError, parseIp, formatIp, isValidIp, type IpAddress, type IpFamily } from '@weft/interface';
export {
  parseCidr,
  isValidCidr,
  formatCidr,
  cidrSize,
  hostMask,
  networkOf,
  firstAddress,
  lastAddress,
  broadcastAddress,
  reservesNetworkAddress,
  firstUsable,
  lastUsable,
  contains,
  overlaps,
  subnetCount,
  subnetAt,
  splitCidr,
  type Cidr,
  type ParseCidrOptions,
} from './cidr/cidr';
export { createState, resolveOptions, ipamOptionsSchema, DOCKER_DEFAULT_POOLS, type IpamOptions } from './state/options';
export {
  commandSchema,
  requestPoolSchema,
  releasePoolSchema,
  allocateSchema,
  releaseSchema,
  type Command,
  type RequestPoolCommand,
  type ReleasePoolCommand,
  type AllocateCommand,
  type ReleaseCommand,
  type CommandResult,
  type PoolResult,
  type ReleasePoolResult,
  type AllocateResult,
  type ReleaseResult,
} from './state/commands';
export { execute, DEFAULT_SPACE } from './state/execute';
export { apply, parseCommand, type ApplyOutcome, type ApplyError } from './state/apply';
export type { IpamState, Pool, PoolState, V4Pool, V6Pool, DefaultPool, QuarantineSettings, ResolvedOptions, QuarantineQueue } from './state/types';
export type { Runs } from './alloc/runs';
export { encodeSnapshot, SNAPSHOT_FORMAT } from './snapshot/encode';
export { decodeSnapshot } from './snapshot/decode';
export { Ipam, type IpamDeps, type PoolRequest, type PoolInfo } from './ipam';
export { IpamStateMachine, encodeCommand } from './state-machine';
