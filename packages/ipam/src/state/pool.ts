import { InvalidAddressError, tryParseIpv4 } from '@weft/interface';
import { AddressInUseError, AddressOutOfRangeError, NotAllocatedError, PoolExhaustedError } from '../errors';
import type { FamilyOps } from './family';
import type { PoolState, QuarantineSettings } from './types';

/**
 * Offset of address `text` inside the pool's usable range.
 * @throws {InvalidAddressError} when the text is not an address of the pool's family.
 * @throws {AddressOutOfRangeError} when it lies outside the subnet or is its network/broadcast address.
 */
export function offsetOf<T>(pool: PoolState<T>, ops: FamilyOps<T>, text: string): T {
  if (ops.family === 4) {
    // IPv4 fast path (the allocator's hot path); anything unusual takes the checked path below.
    const p = pool as unknown as PoolState<number>;
    const v = tryParseIpv4(text);
    const off = v - p.base;
    if (v >= 0 && off >= p.lo && off <= p.hi) return off as unknown as T;
  }
  const value = ops.parse(text);
  if (value === undefined) {
    throw new InvalidAddressError('IP', text, `not an IPv${ops.family} address (pool ${pool.id})`);
  }
  const off = ops.sub(value, pool.base);
  if (off < ops.runs.zero || off > pool.last) {
    throw new AddressOutOfRangeError(text, pool.id, `outside subnet ${pool.subnet}`);
  }
  if (off < pool.lo) {
    throw new AddressOutOfRangeError(text, pool.id, ops.family === 4 ? 'it is the network address' : 'it is the Subnet-Router anycast address');
  }
  if (off > pool.hi) throw new AddressOutOfRangeError(text, pool.id, 'it is the broadcast address');
  return off;
}

/** Returns quarantined addresses whose time has come to the free set, oldest first. */
export function expireQuarantine<T>(pool: PoolState<T>, ops: FamilyOps<T>, seq: number, clock: number, q: QuarantineSettings): void {
  const queue = pool.queue;
  let h = queue.head;
  const n = queue.offsets.length;
  if (h >= n) return;
  while (h < n && seq - (queue.seqs[h] as number) >= q.operations && clock - (queue.times[h] as number) >= q.ms) {
    const off = queue.offsets[h] as T;
    ops.runs.remove(pool.used, off);
    ops.runs.remove(pool.quarantined, off);
    pool.usedCount--;
    h++;
  }
  if (h === n) {
    queue.offsets.length = 0;
    queue.seqs.length = 0;
    queue.times.length = 0;
    h = 0;
  } else if (h > 1024 && h * 2 > n) {
    queue.offsets.splice(0, h);
    queue.seqs.splice(0, h);
    queue.times.splice(0, h);
    h = 0;
  }
  queue.head = h;
}

/** Number of quarantined addresses in the pool. */
export function quarantinedCount(pool: { queue: { offsets: readonly unknown[]; head: number } }): number {
  return pool.queue.offsets.length - pool.queue.head;
}

/**
 * Serial next-fit allocation: the first free offset at or after the cursor,
 * wrapping to the start of the range; the cursor then moves past it.
 * @throws {PoolExhaustedError} naming the pool when no address is free.
 */
export function allocateNext<T>(pool: PoolState<T>, ops: FamilyOps<T>): string {
  if (ops.isFull(pool)) {
    const q = quarantinedCount(pool);
    throw new PoolExhaustedError(
      pool.id,
      `ipam: pool ${pool.id} is exhausted: no free address${q > 0 ? ` (${q} released addresses still quarantined)` : ''}`,
    );
  }
  const runs = ops.runs;
  const off = runs.nextFree(pool.used, pool.cursor, pool.lo, pool.hi);
  runs.add(pool.used, off);
  pool.usedCount++;
  pool.cursor = off === pool.hi ? pool.lo : runs.inc(off);
  return ops.format(ops.add(pool.base, off));
}

/**
 * Allocates a specific address; the serial cursor does not move.
 * @returns the canonical text of the address.
 * @throws {AddressInUseError} when it is allocated, reserved or quarantined.
 * @throws {AddressOutOfRangeError} / {InvalidAddressError} as {@link offsetOf}.
 */
export function allocateStatic<T>(pool: PoolState<T>, ops: FamilyOps<T>, text: string): string {
  const off = offsetOf(pool, ops, text);
  const canonical = ops.format(ops.add(pool.base, off));
  if (ops.runs.has(pool.used, off)) {
    throw new AddressInUseError(canonical, pool.id, ops.runs.has(pool.quarantined, off) ? 'quarantined' : 'allocated');
  }
  ops.runs.add(pool.used, off);
  pool.usedCount++;
  return canonical;
}

/**
 * Releases an allocated address: straight back to the free set, or into
 * quarantine when `q` has a bound. The gateway and auxiliary addresses are
 * released with the pool only.
 * @returns the canonical text of the address.
 * @throws {NotAllocatedError} when the address is free, quarantined, the gateway or an auxiliary address.
 */
export function releaseAddress<T>(pool: PoolState<T>, ops: FamilyOps<T>, text: string, seqAfter: number, clock: number, q: QuarantineSettings): string {
  const off = offsetOf(pool, ops, text);
  const runs = ops.runs;
  if (
    !runs.has(pool.used, off) ||
    (pool.queue.head < pool.queue.offsets.length && runs.has(pool.quarantined, off)) ||
    pool.reserved.includes(off)
  ) {
    throw new NotAllocatedError(ops.format(ops.add(pool.base, off)), pool.id);
  }
  // Strict IPv4 text is already canonical; IPv6 text may not be.
  const canonical = ops.family === 4 ? text : ops.format(ops.add(pool.base, off));
  if (q.operations > 0 || q.ms > 0) {
    runs.add(pool.quarantined, off);
    pool.queue.offsets.push(off);
    pool.queue.seqs.push(seqAfter);
    pool.queue.times.push(clock);
  } else {
    runs.remove(pool.used, off);
    pool.usedCount--;
  }
  return canonical;
}

