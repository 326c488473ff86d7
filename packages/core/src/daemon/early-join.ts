import { joinCluster, type JoinResult } from '../cluster/join/join-client';
import { nodeIdSchema } from '../node/node-options';
import { JOIN_ADDRESS, hostPortOf, readNodeState } from './state-file';

/*
 * @internal `weft join`'s head start. The join exchange is a few network
 * round trips plus the manager's work (checking the token, issuing the
 * certificate through the store) — time in which the joining process has
 * nothing to do but load the node's modules. This module loads only the PKI
 * and the join client, so the CLI can start the exchange, load the rest while
 * it runs, and hand the exchange to `NodeDaemon.start`.
 */

/**
 * Starts the join exchange for a new node in `dataDir`, or returns undefined
 * when the start would be refused anyway (the data dir already holds a node,
 * a malformed address or node id): `NodeDaemon.start` then reports it as it
 * always does, and no certificate is asked for. The promise returned has a
 * rejection handler attached; whoever takes it awaits it for the outcome.
 */
export function startJoin(o: { readonly dataDir: string; readonly token: string; readonly manager: string; readonly nodeId?: string | undefined }): Promise<JoinResult> | undefined {
  if (!JOIN_ADDRESS.test(o.manager)) return undefined;
  const manager = hostPortOf(o.manager);
  if (manager.port < 1 || manager.port > 65535) return undefined;
  if (o.nodeId !== undefined && !nodeIdSchema.safeParse(o.nodeId).success) return undefined;
  try {
    if (readNodeState(o.dataDir) !== undefined) return undefined;
  } catch {
    return undefined;
  }
  const joining = joinCluster({ token: o.token, manager, ...(o.nodeId !== undefined ? { nodeId: o.nodeId } : {}) });
  joining.catch(() => undefined);
  return joining;
}
