import { V4_OPS, V6_OPS, type FamilyOps } from '../state/family';
import type { IpamState, Pool, PoolState } from '../state/types';
import { encodeUsed } from './runs-codec';

/** Format tag at the start of every snapshot. */
export const SNAPSHOT_FORMAT = 'weft-ipam/1';

function comparePools(a: Pool, b: Pool): number {
  if (a.space !== b.space) return a.space < b.space ? -1 : 1;
  if (a.family !== b.family) return a.family - b.family;
  const x = BigInt(a.base);
  const y = BigInt(b.base);
  return x < y ? -1 : x > y ? 1 : 0;
}

function encodePool<T>(p: PoolState<T>, ops: FamilyOps<T>): unknown {
  const aux: Record<string, string> = {};
  for (const k of Object.keys(p.aux).sort()) aux[k] = p.aux[k] as string;
  const quarantine: [string, number, number][] = [];
  for (let i = p.queue.head; i < p.queue.offsets.length; i++) {
    quarantine.push([ops.format(ops.add(p.base, p.queue.offsets[i] as T)), p.queue.seqs[i] as number, p.queue.times[i] as number]);
  }
  return {
    space: p.space,
    subnet: p.subnet,
    gateway: p.gateway,
    aux,
    cursor: ops.format(ops.add(p.base, p.cursor)),
    used: encodeUsed(p.used as never, ops.toBig(p.lo), ops.toBig(p.hi), ops.family === 4),
    quarantine,
  };
}

/**
 * The state as canonical JSON text (ASCII only, so its length is its size in
 * bytes). Equal states give byte-identical text: pools sorted by space, family
 * and address; object keys in a fixed order; allocation sets in a canonical
 * compact encoding (see `encodeUsed`). Restore with {@link decodeSnapshot}.
 */
export function encodeSnapshot(state: IpamState): string {
  const pools = Object.values(state.pools).sort(comparePools);
  return JSON.stringify({
    format: SNAPSHOT_FORMAT,
    seq: state.seq,
    clock: state.clock,
    options: {
      defaultPools: state.options.defaultPools.map((p) => ({ base: p.base, size: p.size })),
      quarantine: { operations: state.options.quarantine.operations, ms: state.options.quarantine.ms },
    },
    pools: pools.map((p) => (p.family === 4 ? encodePool(p, V4_OPS) : encodePool(p, V6_OPS))),
  });
}
