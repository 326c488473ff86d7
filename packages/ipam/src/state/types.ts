import type { Runs } from '../alloc/runs';

/** One entry of the default pool list: `base` is carved into blocks of prefix length `size`. */
export interface DefaultPool {
  /** Canonical CIDR text, e.g. `10.0.0.0/8`. */
  base: string;
  /** Prefix length of each carved subnet, e.g. 24. */
  size: number;
}

/** Quarantine of released addresses; both bounds must have passed before an address is handed out again. */
export interface QuarantineSettings {
  /** Number of successful commands (on the whole state) that must be applied after a release. 0 = off. */
  operations: number;
  /** Milliseconds of command time (`now` carried by commands) that must pass after a release. 0 = off. */
  ms: number;
}

/** Options after validation and defaults, as stored in the state and in snapshots. */
export interface ResolvedOptions {
  defaultPools: DefaultPool[];
  quarantine: QuarantineSettings;
}

/** Released addresses waiting out the quarantine, oldest first (parallel arrays from `head`). */
export interface QuarantineQueue<T> {
  offsets: T[];
  /** `state.seq` right after the release. */
  seqs: number[];
  /** `state.clock` (ms) at the release. */
  times: number[];
  /** Index of the oldest live entry; entries before it are spent. */
  head: number;
}

/**
 * One subnet and its allocations. Offsets are relative to the network address:
 * numbers for IPv4, bigints for IPv6. Plain data only.
 */
export interface PoolState<T> {
  /** `${space}/${subnet}`, e.g. `default/10.0.0.0/24`. */
  id: string;
  space: string;
  /** Canonical CIDR text. */
  subnet: string;
  prefix: number;
  /** Network address as an integer. */
  base: T;
  /** First and last offset handed out (network/broadcast excluded). */
  lo: T;
  hi: T;
  /** Last offset of the subnet (size − 1). */
  last: T;
  /** Offsets of the gateway and auxiliary addresses, sorted (derived from `gateway`/`aux`). */
  reserved: T[];
  gateway: string | null;
  /** Auxiliary (reserved) addresses by name, keys in sorted order. */
  aux: Record<string, string>;
  /** Next offset serial allocation tries (next-fit). */
  cursor: T;
  /** Offsets not free: allocated, gateway, auxiliary and quarantined. */
  used: Runs<T>;
  usedCount: number;
  /** Subset of `used` that is quarantined. */
  quarantined: Runs<T>;
  queue: QuarantineQueue<T>;
}

export type V4Pool = PoolState<number> & { family: 4 };
export type V6Pool = PoolState<bigint> & { family: 6 };
/** A pool of either family. */
export type Pool = V4Pool | V6Pool;

/**
 * The whole allocator state: a plain, structured-cloneable value (objects,
 * arrays, strings, numbers, bigints). Mutated in place by `execute`/`apply`;
 * encode it with `encodeSnapshot` for a canonical byte-identical form.
 */
export interface IpamState {
  format: 1;
  options: ResolvedOptions;
  /** Number of successful commands applied. */
  seq: number;
  /** Largest `now` (ms) carried by a successful command; 0 before any. */
  clock: number;
  /** Pools by id. */
  pools: Record<string, Pool>;
}

