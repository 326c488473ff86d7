import { Ipam } from '@weft/ipam';
import { cmp, kv, textOf } from '@weft/interface';
import { NetworkInUseError, NetworkNotFoundError } from '../errors';
import type { CoreContext } from '../node/context';
import { Conflict, retryConflicts } from '../store/retry';
import { poolIdOf } from './pool-id';
import { parseRecord } from '../records/codec';
import { serviceRecordSchema } from '../records/schemas';
import { resolveNetwork } from './resolve-network';

/**
 * Removes a network with no endpoints: its record, name and VNI index, its
 * address pool, its keys, and its subnet back to the cluster's pools, in one
 * txn. Every attach changes the pool key, so comparing the pool's revision
 * proves that no endpoint joined between the check and the removal.
 * @throws NetworkNotFoundError, NetworkInUseError
 */
export async function removeNetwork(ctx: CoreContext, nameOrId: string): Promise<void> {
  const k = ctx.keys;
  /** The network an earlier attempt removed; after an unknown outcome it may be gone already. */
  let attempted: string | undefined;
  await retryConflicts('removeNetwork', async () => {
    if (attempted !== undefined && (await ctx.store.get(k.network(attempted))) === undefined) return;
    const net = await resolveNetwork(ctx, nameOrId);
    const id = net.value.id;
    const [poolKv, subnetsKv, services] = await Promise.all([ctx.store.get(k.pool(id)), ctx.store.get(k.subnets()), ctx.store.range({ prefix: k.services() })]);
    if (poolKv === undefined || subnetsKv === undefined) throw new NetworkNotFoundError(nameOrId);
    const users = services.kvs
      .map((x) => parseRecord(serviceRecordSchema, x))
      .filter((svc) => svc !== undefined && svc.networks.some((n) => n.networkId === id))
      .map((svc) => svc!.name);
    if (users.length > 0) throw new NetworkInUseError(net.value.name, 0, users.sort());
    const addresses = Ipam.restore(textOf(poolKv));
    const poolId = poolIdOf(net.value.subnet);
    const used = addresses.pool(poolId).allocated;
    if (used > 0) throw new NetworkInUseError(net.value.name, used);
    const subnets = Ipam.restore(textOf(subnetsKv));
    subnets.releasePool(poolId);
    attempted = id;
    const r = await ctx.store.txn({
      compare: [
        cmp.modRevision(k.network(id), 'equal', net.modRevision),
        cmp.modRevision(k.pool(id), 'equal', poolKv.modRevision),
        cmp.modRevision(k.subnets(), 'equal', subnetsKv.modRevision),
      ],
      success: [
        kv.delete(k.network(id)),
        kv.delete(k.networkName(net.value.name)),
        kv.delete(k.vni(net.value.vni)),
        kv.delete(k.pool(id)),
        kv.delete(k.networkKeys(id)),
        kv.delete({ prefix: k.keyAcks(id) }),
        kv.delete({ prefix: k.serviceBackends(id) }),
        kv.put(k.subnets(), subnets.snapshot()),
      ],
      failure: [],
    });
    if (!r.succeeded) throw new Conflict('the network changed concurrently');
  });
}
