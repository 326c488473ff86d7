import { firstUsable, formatCidr, hostMask, lastUsable, type Cidr } from '../cidr/cidr';
import { V4_OPS, V6_OPS, type FamilyOps } from './family';
import { allocateStatic, offsetOf } from './pool';
import type { Pool, PoolState } from './types';

/** An empty pool for `subnet` (host bits clear), without gateway or auxiliary addresses. */
export function emptyPool(space: string, subnet: Cidr): Pool {
  const text = formatCidr(subnet);
  const id = `${space}/${text}`;
  const lo = firstUsable(subnet).value - subnet.address;
  const hi = lastUsable(subnet).value - subnet.address;
  const last = hostMask(subnet);
  if (subnet.family === 4) {
    return {
      family: 4,
      ...fields<number>(id, space, text, subnet.prefix, Number(subnet.address), Number(lo), Number(hi), Number(last)),
    };
  }
  return { family: 6, ...fields<bigint>(id, space, text, subnet.prefix, subnet.address, lo, hi, last) };
}

function fields<T>(id: string, space: string, subnet: string, prefix: number, base: T, lo: T, hi: T, last: T): PoolState<T> {
  return {
    id,
    space,
    subnet,
    prefix,
    base,
    lo,
    hi,
    last,
    reserved: [],
    gateway: null,
    aux: {},
    cursor: lo,
    used: { starts: [], ends: [] },
    usedCount: 0,
    quarantined: { starts: [], ends: [] },
    queue: { offsets: [], seqs: [], times: [], head: 0 },
  };
}

/**
 * A pool with its gateway (`undefined` → first usable address, `null` → none)
 * and auxiliary addresses reserved. Nothing is shared with the caller.
 * @throws {AddressOutOfRangeError} / {InvalidAddressError} for a gateway or auxiliary address outside the usable range.
 * @throws {AddressInUseError} when two of them are the same address.
 */
export function buildPool(space: string, subnet: Cidr, gateway: string | null | undefined, aux: Record<string, string> | undefined): Pool {
  const pool = emptyPool(space, subnet);
  if (pool.family === 4) reserve(pool, V4_OPS, gateway, aux);
  else reserve(pool, V6_OPS, gateway, aux);
  return pool;
}

function reserve<T>(pool: PoolState<T>, ops: FamilyOps<T>, gateway: string | null | undefined, aux: Record<string, string> | undefined): void {
  if (gateway !== null) {
    const gw = gateway ?? ops.format(ops.add(pool.base, pool.lo));
    pool.gateway = allocateStatic(pool, ops, gw);
  }
  const names = Object.keys(aux ?? {}).sort();
  for (const name of names) {
    const text = (aux ?? {})[name] as string;
    pool.aux[name] = allocateStatic(pool, ops, text);
  }
  indexReserved(pool, ops);
}

/** Recomputes `reserved` from `gateway` and `aux` (after building or restoring a pool). */
export function indexReserved<T>(pool: PoolState<T>, ops: FamilyOps<T>): void {
  pool.reserved = [];
  if (pool.gateway !== null) pool.reserved.push(offsetOf(pool, ops, pool.gateway));
  for (const k in pool.aux) pool.reserved.push(offsetOf(pool, ops, pool.aux[k] as string));
  pool.reserved.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
