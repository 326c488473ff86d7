import { parseOptions, type Clock } from '@weft/interface';
import { z } from 'zod';
import { InvalidCommandError, UnknownPoolError } from './errors';
import { apply as applyCommand, parseCommand, validateCommand, type ApplyOutcome } from './state/apply';
import { requestPoolSchema, type Command, type CommandResult } from './state/commands';
import { allocate, execute, release, releasePool, requestPool } from './state/execute';
import { V4_OPS, V6_OPS, type FamilyOps } from './state/family';
import { newState, type IpamOptions } from './state/options';
import { offsetOf, quarantinedCount } from './state/pool';
import type { IpamState, Pool, PoolState } from './state/types';
import { encodeSnapshot } from './snapshot/encode';
import { decodeSnapshot } from './snapshot/decode';

/**
 * Collaborators of an {@link Ipam}; never part of the replicated state. Other
 * keys are ignored, so a shared components object may be passed as is.
 */
export interface IpamDeps {
  /**
   * Time for time-based quarantine: `clock.now()` (ms) is stamped as `now` on
   * the commands of `requestPool`, `releasePool`, `allocate`, `release`, and of
   * `execute` when the command carries none (`apply` takes commands as given).
   * The value is kept in the state and in snapshots and compared with the
   * stamps of later commands, so every proposer must share one origin: use
   * wall-clock time (`{ now: Date.now }`), not the process-local `systemClock`.
   * Default: `Date.now` when `quarantine.ms` is set, otherwise no time at all.
   * Inject a `ManualClock` in tests.
   */
  clock?: Clock;
}

const isClock = (v: unknown): v is Clock => typeof v === 'object' && v !== null && typeof (v as { now?: unknown }).now === 'function';

const depsSchema = z.object(
  { clock: z.custom<Clock>(isClock, { message: 'must be a Clock: an object whose now() returns milliseconds' }).optional() },
  { message: 'must be an object { clock? }' },
);

/** Validates {@link IpamDeps}. @throws {InvalidOptionsError} naming the field. */
function parseDeps(deps: unknown, what: string): IpamDeps {
  return parseOptions(depsSchema, deps, what);
}

/** Arguments of {@link Ipam.requestPool}; see `RequestPoolCommand`. */
export interface PoolRequest {
  /** Address space; pools overlap-check only within one. Default `default`. */
  space?: string;
  /** Explicit subnet (no host bits); absent → next free block of the default pools. */
  subnet?: string;
  /** Family of an automatic subnet (default 4). */
  family?: 4 | 6;
  /** Gateway address; `null` for none; absent → first usable address. */
  gateway?: string | null;
  /** Name → address reserved in the subnet (like Docker's `--aux-address`). */
  auxAddresses?: Record<string, string>;
}

/** A pool as seen by {@link Ipam.pool}. */
export interface PoolInfo {
  poolId: string;
  space: string;
  family: 4 | 6;
  /** Canonical CIDR text. */
  subnet: string;
  gateway: string | null;
  auxAddresses: Record<string, string>;
  /** Addresses handed out by `allocate` and not released (gateway and auxiliary excluded). */
  allocated: number;
  /** Released addresses still in quarantine. */
  quarantined: number;
  /** Free addresses (quarantined ones are not free), as of the last command on this pool. */
  free: bigint;
}

/**
 * The ergonomic allocator: one {@link IpamState} plus methods that throw
 * typed errors. Every method is a command (`execute`), so an `Ipam` fed the
 * same calls as another produces the same addresses and a byte-identical
 * {@link Ipam.snapshot | snapshot()}. Not safe for concurrent writers across processes by itself:
 * replicate the commands (Raft) or the snapshot (compare-and-swap).
 */
export class Ipam {
  #state: IpamState;
  #clock: Clock | undefined;

  /**
   * @param options - default pools and quarantine; see {@link IpamOptions}.
   * @param deps - the clock; see {@link IpamDeps}.
   * @throws {InvalidOptionsError} (from `@weft/interface`) whose `field` names the first bad option.
   */
  constructor(options?: IpamOptions, deps?: IpamDeps) {
    const d = parseDeps(deps, 'Ipam');
    this.#state = newState(options, 'Ipam');
    this.#clock = clockFor(this.#state, d);
  }

  /**
   * Rebuilds an allocator from {@link Ipam.snapshot | snapshot()} text.
   * @param deps - the clock; see {@link IpamDeps}.
   * @throws {InvalidSnapshotError} when the text is malformed.
   * @throws {InvalidOptionsError} (from `@weft/interface`) for bad `deps`.
   */
  static restore(snapshot: string, deps?: IpamDeps): Ipam {
    const d = parseDeps(deps, 'Ipam.restore');
    const state = decodeSnapshot(snapshot);
    const ipam = new Ipam(undefined, d);
    ipam.#state = state;
    ipam.#clock = clockFor(state, d);
    return ipam;
  }

  /** The live state (owned by this object; mutate it only through commands). */
  get state(): IpamState {
    return this.#state;
  }

  #now(): number | undefined {
    return this.#clock === undefined ? undefined : Math.max(0, Math.floor(this.#clock.now()));
  }

  /**
   * Reserves a subnet and its gateway; returns the pool id to allocate from.
   * @throws {InvalidCommandError} for a malformed request, and the errors of `requestPool` (OverlapError, PoolExhaustedError, InvalidCidrError, ...).
   */
  requestPool(request: PoolRequest = {}): { poolId: string; subnet: string; gateway: string | null } {
    const cmd = validateCommand(requestPoolSchema, { op: 'requestPool', ...request });
    const now = this.#now();
    const { poolId, subnet, gateway } = requestPool(this.#state, now === undefined ? cmd : { ...cmd, now });
    return { poolId, subnet, gateway };
  }

  /**
   * Releases a pool with every address in it.
   * @throws {UnknownPoolError}
   */
  releasePool(poolId: string): void {
    checkString('poolId', poolId);
    releasePool(this.#state, poolId, this.#now());
  }

  /**
   * Allocates the next address (serial next-fit) or, with `address`, exactly that one.
   * @returns canonical address text.
   * @throws {PoolExhaustedError} naming the pool; {UnknownPoolError}; for a static request
   *   {AddressInUseError}, {AddressOutOfRangeError}, {InvalidAddressError}.
   */
  allocate(poolId: string, address?: string): string {
    checkString('poolId', poolId);
    if (address !== undefined) checkString('address', address);
    return allocate(this.#state, poolId, address, this.#now());
  }

  /**
   * Releases an allocated address (into quarantine when configured).
   * @throws {NotAllocatedError} on a double release or for the gateway/auxiliary addresses;
   *   {UnknownPoolError}; {AddressOutOfRangeError}; {InvalidAddressError}.
   */
  release(poolId: string, address: string): void {
    checkString('poolId', poolId);
    checkString('address', address);
    release(this.#state, poolId, address, this.#now());
  }

  /** Applies a typed command; throws the operation's typed errors. */
  execute(command: Command): CommandResult {
    const now = this.#now();
    const cmd = parseCommand(now === undefined || command.now !== undefined ? command : { ...command, now });
    return execute(this.#state, cmd);
  }

  /** Validates and applies an untrusted command as given (its own `now`; the clock is not read); never throws for bad input (see `apply`). */
  apply(command: unknown): ApplyOutcome {
    return applyCommand(this.#state, command);
  }

  /** True when `address` is allocated in the pool (gateway and auxiliary included, quarantined not). */
  isAllocated(poolId: string, address: string): boolean {
    const pool = this.#pool(poolId);
    return pool.family === 4 ? allocatedIn(pool, V4_OPS, address) : allocatedIn(pool, V6_OPS, address);
  }

  /** The pool's subnet, gateway and counts. @throws {UnknownPoolError} */
  pool(poolId: string): PoolInfo {
    const p = this.#pool(poolId);
    const q = quarantinedCount(p);
    const capacity = BigInt(p.hi) - BigInt(p.lo) + 1n;
    return {
      poolId: p.id,
      space: p.space,
      family: p.family,
      subnet: p.subnet,
      gateway: p.gateway,
      auxAddresses: { ...p.aux },
      allocated: p.usedCount - p.reserved.length - q,
      quarantined: q,
      free: capacity - BigInt(p.usedCount),
    };
  }

  /**
   * The addresses handed out by `allocate` and not yet released, in address
   * order, lazily (gateway, auxiliary and quarantined addresses are skipped).
   * Use it to reconcile: release what no endpoint owns any more. Do not
   * allocate or release while iterating.
   * @throws {UnknownPoolError} from the first `next()`.
   */
  *allocatedAddresses(poolId: string): Generator<string, void, undefined> {
    const p = this.#pool(poolId);
    if (p.family === 4) yield* listAllocated(p, V4_OPS);
    else yield* listAllocated(p, V6_OPS);
  }

  /** Ids of every pool, sorted. */
  poolIds(): string[] {
    return Object.keys(this.#state.pools).sort();
  }

  /** Canonical snapshot text (ASCII JSON); identical for identical histories. See `encodeSnapshot`. */
  snapshot(): string {
    return encodeSnapshot(this.#state);
  }

  #pool(poolId: string): Pool {
    const p = this.#state.pools[poolId];
    if (p === undefined) throw new UnknownPoolError(poolId);
    return p;
  }
}

function allocatedIn<T>(pool: PoolState<T>, ops: FamilyOps<T>, address: string): boolean {
  const off = offsetOf(pool, ops, address);
  return ops.runs.has(pool.used, off) && !ops.runs.has(pool.quarantined, off);
}

function* listAllocated<T>(pool: PoolState<T>, ops: FamilyOps<T>): Generator<string, void, undefined> {
  const runs = ops.runs;
  for (let i = 0; i < pool.used.starts.length; i++) {
    const end = pool.used.ends[i] as T;
    for (let off = pool.used.starts[i] as T; off <= end; off = runs.inc(off)) {
      if (pool.reserved.includes(off) || runs.has(pool.quarantined, off)) continue;
      yield ops.format(ops.add(pool.base, off));
    }
  }
}

const wallClock: Clock = { now: () => Date.now() };

/** The injected clock, else wall-clock time when time-based quarantine is on, else none. */
function clockFor(state: IpamState, deps: IpamDeps): Clock | undefined {
  return deps.clock ?? (state.options.quarantine.ms > 0 ? wallClock : undefined);
}

function checkString(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    const got = typeof value === 'string' ? '""' : value === null ? 'null' : typeof value === 'object' || typeof value === 'function' ? `a ${typeof value}` : String(value);
    throw new InvalidCommandError(field, `must be a non-empty string, got ${got}`);
  }
}

