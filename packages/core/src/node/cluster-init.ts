import { cmp, isWeftError, kv } from '@weft/interface';
import { OperationTimeoutError } from '../errors';
import { createNetwork } from '../network/create-network';
import { encodeRecord, parseVersioned } from '../records/codec';
import { clusterRecordSchema, type ClusterRecord } from '../records/schemas';
import { Conflict, retryConflicts } from '../store/retry';
import { newId, type CoreContext } from './context';

/** How a cluster is initialised (by its first manager). */
export interface ClusterInitOptions {
  readonly defaultAddressPools: readonly { base: string; size: number }[];
  readonly vniStart: number;
  readonly createIngress: boolean;
}

/**
 * Writes the cluster record if there is none (compare-and-set: any number of
 * managers may race; one wins) and creates the `ingress` network — not
 * attachable, reserved for the routing mesh — as Swarm does at `init`.
 * Idempotent.
 */
export async function ensureCluster(ctx: CoreContext, options: ClusterInitOptions): Promise<ClusterRecord> {
  const k = ctx.keys;
  let cluster = await retryConflicts('ensureCluster', async () => {
    const existing = parseVersioned(clusterRecordSchema, await ctx.store.get(k.cluster()));
    if (existing !== undefined) return existing;
    const record: ClusterRecord = {
      id: newId(ctx),
      createdAt: new Date(ctx.now()).toISOString(),
      defaultPools: options.defaultAddressPools.map((p) => ({ base: p.base, size: p.size })),
      vniStart: options.vniStart,
    };
    const r = await ctx.store.txn({ compare: [cmp.missing(k.cluster())], success: [kv.put(k.cluster(), encodeRecord(record))] });
    if (!r.succeeded) throw new Conflict('another manager initialised the cluster');
    return { value: record, modRevision: r.revision, version: 1 };
  });
  if (options.createIngress && cluster.value.ingressNetworkId === undefined) {
    let ingressId: string;
    try {
      ingressId = (await createNetwork(ctx, { name: 'ingress' }, { ingress: true })).id;
    } catch (err) {
      if (!isWeftError(err, 'NameConflictError')) throw err;
      ingressId = (err as unknown as { existingId: string }).existingId;
    }
    cluster = await retryConflicts('ensureCluster ingress', async () => {
      const cur = parseVersioned(clusterRecordSchema, await ctx.store.get(k.cluster()));
      if (cur === undefined) throw new Conflict('the cluster record vanished');
      if (cur.value.ingressNetworkId !== undefined) return cur;
      const next: ClusterRecord = { ...cur.value, ingressNetworkId: ingressId };
      const r = await ctx.store.txn({
        compare: [cmp.modRevision(k.cluster(), 'equal', cur.modRevision)],
        success: [kv.put(k.cluster(), encodeRecord(next))],
      });
      if (!r.succeeded) throw new Conflict('the cluster record changed');
      return { value: next, modRevision: r.revision, version: cur.version + 1 };
    });
  }
  return cluster.value;
}

/** Waits (polling, bounded by `timeoutMs`) until a manager has initialised the cluster; what workers do at start. */
export async function awaitCluster(ctx: CoreContext, timeoutMs: number): Promise<ClusterRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = parseVersioned(clusterRecordSchema, await ctx.store.get(ctx.keys.cluster()));
    if (c !== undefined) return c.value;
    if (Date.now() > deadline) throw new OperationTimeoutError('waiting for a manager to initialise the cluster', timeoutMs, false);
    await new Promise((r) => setTimeout(r, 50));
  }
}
