import { textOf } from '@weft/interface';
import { NetworkNotFoundError } from '../errors';
import type { CoreContext } from '../node/context';
import { parseVersioned, type Versioned } from '../records/codec';
import { networkRecordSchema, type NetworkRecord } from '../records/schemas';

/**
 * Finds a network by name or id (a linearizable read).
 * @throws NetworkNotFoundError
 */
export async function resolveNetwork(ctx: CoreContext, nameOrId: string): Promise<Versioned<NetworkRecord>> {
  const byName = await ctx.store.get(ctx.keys.networkName(nameOrId));
  const id = byName === undefined ? nameOrId : textOf(byName);
  if (id.includes('/')) throw new NetworkNotFoundError(nameOrId);
  const rec = parseVersioned(networkRecordSchema, await ctx.store.get(ctx.keys.network(id)));
  if (rec === undefined) throw new NetworkNotFoundError(nameOrId);
  return rec;
}
