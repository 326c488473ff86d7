/**
 * @packageDocumentation
 * @weft/ipam — IPv4/IPv6 CIDR math and serial, deterministic, replicable
 * address allocation with Docker-compatible defaults.
 */
export const VERSION = '0.1.0';

export * from './errors';
export { tryParseIpv4, parseIpv4, formatIpv4 } from './address/ipv4';
export { tryParseIpv6, parseIpv6, formatIpv6 } from './address/ipv6';
export { parseIp, tryParseIp, formatIp, isValidIp, isValidIpv4, isValidIpv6, familyBits, type IpAddress, type IpFamily } from './address/ip';
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
