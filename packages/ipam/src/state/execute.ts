import { parseCidr, formatCidr, overlaps, type Cidr } from '../cidr/cidr';
import { InvalidCommandError, OverlapError, UnknownPoolError } from '../errors';
import type { AllocateResult, Command, CommandResult, PoolResult, ReleaseResult, RequestPoolCommand } from './commands';
import { buildPool } from './create-pool';
import { V4_OPS, V6_OPS } from './family';
import { pickDefaultSubnet } from './pick-subnet';
import { allocateNext, allocateStatic, expireQuarantine, releaseAddress } from './pool';
import type { IpamState, Pool } from './types';

/** Address space used when a command names none. */
export const DEFAULT_SPACE = 'default';

function commandClock(state: IpamState, now: number | undefined): number {
  return now !== undefined && now > state.clock ? now : state.clock;
}

function poolOf(state: IpamState, poolId: string): Pool {
  const pool = state.pools[poolId];
  if (pool === undefined) throw new UnknownPoolError(poolId);
  return pool;
}

function commit(state: IpamState, clock: number): void {
  state.seq++;
  state.clock = clock;
}

/**
 * Reserves a subnet. See {@link RequestPoolCommand}.
 * @throws {InvalidCidrError} for a malformed subnet or one with host bits set.
 * @throws {InvalidCommandError} when `family` disagrees with `subnet`.
 * @throws {OverlapError} when the subnet overlaps a pool of the same space.
 * @throws {PoolExhaustedError} when no default-pool block is free.
 * @throws {AddressOutOfRangeError} / {AddressInUseError} / {InvalidAddressError} for gateway and auxiliary addresses.
 */
export function requestPool(state: IpamState, cmd: Omit<RequestPoolCommand, 'op'>): PoolResult {
  const space = cmd.space ?? DEFAULT_SPACE;
  let subnet: Cidr;
  if (cmd.subnet !== undefined) {
    subnet = parseCidr(cmd.subnet, { strict: true });
    if (cmd.family !== undefined && cmd.family !== subnet.family) {
      throw new InvalidCommandError('family', `is ${cmd.family} but subnet ${cmd.subnet} is IPv${subnet.family}`);
    }
    for (const id in state.pools) {
      const p = state.pools[id] as Pool;
      if (p.space !== space || p.family !== subnet.family) continue;
      if (overlaps(subnet, parseCidr(p.subnet))) throw new OverlapError(formatCidr(subnet), p.subnet, space);
    }
  } else {
    subnet = pickDefaultSubnet(state, space, cmd.family ?? 4);
  }
  const pool = buildPool(space, subnet, cmd.gateway, cmd.auxAddresses);
  state.pools[pool.id] = pool;
  commit(state, commandClock(state, cmd.now));
  return { op: 'requestPool', poolId: pool.id, subnet: pool.subnet, gateway: pool.gateway };
}

/**
 * Releases a pool and every address in it (allocated, reserved, quarantined).
 * @throws {UnknownPoolError}
 */
export function releasePool(state: IpamState, poolId: string, now?: number): void {
  poolOf(state, poolId);
  delete state.pools[poolId];
  commit(state, commandClock(state, now));
}

/**
 * Allocates the next address serially, or `address` (static request).
 * @throws {UnknownPoolError}, {PoolExhaustedError} (nothing allocated),
 *   {AddressInUseError}, {AddressOutOfRangeError}, {InvalidAddressError} for a static request.
 */
export function allocate(state: IpamState, poolId: string, address?: string, now?: number): string {
  const pool = poolOf(state, poolId);
  const clock = commandClock(state, now);
  const q = state.options.quarantine;
  let out: string;
  if (pool.family === 4) {
    if (pool.queue.head < pool.queue.offsets.length) expireQuarantine(pool, V4_OPS, state.seq, clock, q);
    out = address === undefined ? allocateNext(pool, V4_OPS) : allocateStatic(pool, V4_OPS, address);
  } else {
    if (pool.queue.head < pool.queue.offsets.length) expireQuarantine(pool, V6_OPS, state.seq, clock, q);
    out = address === undefined ? allocateNext(pool, V6_OPS) : allocateStatic(pool, V6_OPS, address);
  }
  commit(state, clock);
  return out;
}

/**
 * Releases an allocated address (into quarantine when configured).
 * @returns the canonical address text.
 * @throws {UnknownPoolError}, {NotAllocatedError} (double release, gateway, auxiliary),
 *   {AddressOutOfRangeError}, {InvalidAddressError}.
 */
export function release(state: IpamState, poolId: string, address: string, now?: number): string {
  const pool = poolOf(state, poolId);
  const clock = commandClock(state, now);
  const q = state.options.quarantine;
  let out: string;
  if (pool.family === 4) {
    if (pool.queue.head < pool.queue.offsets.length) expireQuarantine(pool, V4_OPS, state.seq, clock, q);
    out = releaseAddress(pool, V4_OPS, address, state.seq + 1, clock, q);
  } else {
    if (pool.queue.head < pool.queue.offsets.length) expireQuarantine(pool, V6_OPS, state.seq, clock, q);
    out = releaseAddress(pool, V6_OPS, address, state.seq + 1, clock, q);
  }
  commit(state, clock);
  return out;
}

/**
 * Applies a typed command to `state` in place and returns its result. Does not
 * validate the command's shape (use {@link apply} for untrusted input). A
 * command that throws allocates and releases nothing and leaves `seq`/`clock`
 * unchanged (quarantined addresses that were due may have been returned to the
 * free set, deterministically).
 * @throws the typed errors of the operation.
 */
export function execute(state: IpamState, command: Command): CommandResult {
  switch (command.op) {
    case 'requestPool':
      return requestPool(state, command);
    case 'releasePool':
      releasePool(state, command.poolId, command.now);
      return { op: 'releasePool', poolId: command.poolId };
    case 'allocate': {
      const r: AllocateResult = { op: 'allocate', poolId: command.poolId, address: allocate(state, command.poolId, command.address, command.now) };
      return r;
    }
    case 'release': {
      const r: ReleaseResult = { op: 'release', poolId: command.poolId, address: release(state, command.poolId, command.address, command.now) };
      return r;
    }
  }
}
