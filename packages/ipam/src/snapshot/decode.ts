import { InvalidOptionsError } from '@weft/interface';
import { z } from 'zod';
import { parseCidr } from '../cidr/cidr';
import { InvalidSnapshotError } from '../errors';
import { isRefusal } from '../state/apply';
import { emptyPool, indexReserved } from '../state/create-pool';
import { V4_OPS, V6_OPS, type FamilyOps } from '../state/family';
import { resolveOptionsFor } from '../state/options';
import { firstIssue } from '../state/schema-issues';
import { offsetOf } from '../state/pool';
import { spaceIntervals } from '../state/pick-subnet';
import type { IpamState, Pool, PoolState } from '../state/types';
import { decodeUsed } from './runs-codec';
import { auxName, noProtoKey, spaceName } from '../state/commands';
import { SNAPSHOT_FORMAT } from './encode';

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const snapshotSchema = z
  .object({
    format: z.literal(SNAPSHOT_FORMAT),
    seq: count,
    clock: count,
    options: z.unknown(),
    pools: z.array(
      z
        .object({
          space: spaceName,
          subnet: z.string(),
          gateway: z.string().nullable(),
          aux: noProtoKey.pipe(z.record(auxName, z.string())),
          cursor: z.string(),
          used: z.string(),
          quarantine: z.array(z.tuple([z.string(), count, count])),
        })
        .strict(),
    ),
  })
  .strict();

type PoolJson = z.infer<typeof snapshotSchema>['pools'][number];

function fill<T>(pool: PoolState<T>, ops: FamilyOps<T>, j: PoolJson): void {
  const decoded = decodeUsed(j.used, ops.toBig(pool.lo), ops.toBig(pool.hi), pool.id);
  pool.used = { starts: decoded.starts.map(ops.fromBig), ends: decoded.ends.map(ops.fromBig) };
  pool.usedCount = ops.runs.count(pool.used);
  const mustBeUsed = (text: string, what: string): T => {
    const off = offsetOf(pool, ops, text);
    if (!ops.runs.has(pool.used, off)) throw new InvalidSnapshotError(`${pool.id}: ${what} ${text} is not in the used set`);
    return off;
  };
  if (j.gateway !== null) pool.gateway = ops.format(ops.add(pool.base, mustBeUsed(j.gateway, 'gateway')));
  for (const k of Object.keys(j.aux).sort()) {
    const text = j.aux[k] as string;
    pool.aux[k] = ops.format(ops.add(pool.base, mustBeUsed(text, `auxiliary address ${k}`)));
  }
  indexReserved(pool, ops);
  pool.cursor = offsetOf(pool, ops, j.cursor);
  let prevSeq = 0;
  let prevTime = 0;
  for (const [addr, seq, time] of j.quarantine) {
    const off = mustBeUsed(addr, 'quarantined address');
    if (ops.runs.has(pool.quarantined, off)) throw new InvalidSnapshotError(`${pool.id}: ${addr} quarantined twice`);
    if (seq < prevSeq || time < prevTime) throw new InvalidSnapshotError(`${pool.id}: quarantine not in release order`);
    prevSeq = seq;
    prevTime = time;
    ops.runs.add(pool.quarantined, off);
    pool.queue.offsets.push(off);
    pool.queue.seqs.push(seq);
    pool.queue.times.push(time);
  }
}

function checkNoOverlap(state: IpamState): void {
  const seen = new Set<string>();
  for (const id in state.pools) {
    const p = state.pools[id] as Pool;
    const key = `${p.space}\u0000${p.family}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = spaceIntervals(state, p.space, p.family);
    for (let i = 1; i < list.length; i++) {
      if ((list[i] as { start: bigint }).start <= (list[i - 1] as { end: bigint }).end) {
        throw new InvalidSnapshotError(`overlapping pools in address space ${JSON.stringify(p.space)}`);
      }
    }
  }
}

/**
 * Rebuilds a state from {@link encodeSnapshot} text. The result encodes back
 * to the same text and behaves exactly like the state it was taken from.
 * @throws {InvalidSnapshotError} when the text is malformed or inconsistent.
 */
export function decodeSnapshot(text: string): IpamState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidSnapshotError('not JSON', { cause: err });
  }
  const r = snapshotSchema.safeParse(json);
  if (!r.success) {
    const [field, message] = firstIssue(r.error);
    throw new InvalidSnapshotError(`${field}: ${message}`, { cause: r.error });
  }
  try {
    const state: IpamState = { format: 1, options: resolveOptionsFor(r.data.options, 'snapshot options'), seq: r.data.seq, clock: r.data.clock, pools: {} };
    for (const j of r.data.pools) {
      const pool: Pool = emptyPool(j.space, parseCidr(j.subnet, { strict: true }));
      if (pool.subnet !== j.subnet) throw new InvalidSnapshotError(`subnet ${j.subnet} is not canonical`);
      if (state.pools[pool.id] !== undefined) throw new InvalidSnapshotError(`pool ${pool.id} appears twice`);
      if (pool.family === 4) fill(pool, V4_OPS, j);
      else fill(pool, V6_OPS, j);
      state.pools[pool.id] = pool;
    }
    checkNoOverlap(state);
    return state;
  } catch (err) {
    if (err instanceof InvalidSnapshotError) throw err;
    if (isRefusal(err) || err instanceof InvalidOptionsError) throw new InvalidSnapshotError(err.message, { cause: err });
    throw err;
  }
}
