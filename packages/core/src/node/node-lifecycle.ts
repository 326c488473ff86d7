import { kv, type StoreWatch, type TxnOp } from '@weft/interface';
import { z } from 'zod';
import { ManagerRemovalRefusedError, NodeNotFoundError, RoleChangeRefusedError } from '../errors';
import { encodeRecord, parseRecord } from '../records/codec';
import type { RaftStore } from '../store/raft-store';
import type { CoreContext } from './context';

/** The role a node should have, as `promote`/`demote` record it (`roles/<nodeId>`). */
export type DesiredRole = 'manager' | 'worker';

/** A node's availability (Swarm's vocabulary): recorded for orchestrators; Weft itself schedules nothing. */
export type Availability = 'active' | 'pause' | 'drain';

const role = z.enum(['manager', 'worker']);
/** `roles/<nodeId>`: the role `promote`/`demote` asked for. */
export const roleRecordSchema = z.object({ role, by: z.string(), at: z.string() });
/** `availability/<nodeId>`. */
export const availabilityRecordSchema = z.object({ availability: z.enum(['active', 'pause', 'drain']), by: z.string(), at: z.string() });
export const availabilitySchema = z.enum(['active', 'pause', 'drain']);
export const nodeIdSchema = z.string().min(1).regex(/^[^/]+$/, 'must not contain "/"');

/** @internal What the lifecycle calls need from the node. */
export interface LifecycleHost {
  readonly ctx: CoreContext;
  /** The calling node's role. */
  readonly role: DesiredRole;
  /** Its embedded Raft store, if it has one. */
  readonly raft: RaftStore | undefined;
}

function now(ctx: CoreContext): string {
  return new Date(ctx.now()).toISOString();
}

async function exists(host: LifecycleHost, nodeId: string): Promise<boolean> {
  if ((await host.ctx.store.get(host.ctx.keys.node(nodeId))) !== undefined) return true;
  return host.raft?.managerList().some((m) => m.id === nodeId) ?? false;
}

/**
 * @internal `demote`: removes the manager from Raft (quorum guard; the
 * leader hands leadership off first when it is the one demoted), then
 * records the desired role `worker`.
 */
export async function demoteNode(host: LifecycleHost, nodeId: string): Promise<void> {
  if (host.role !== 'manager') throw new RoleChangeRefusedError(nodeId, 'worker', 'only managers change roles');
  if (!(await exists(host, nodeId))) throw new NodeNotFoundError(nodeId);
  const put = (role: DesiredRole): Promise<unknown> => host.ctx.store.put(host.ctx.keys.role(nodeId), encodeRecord({ role, by: host.ctx.nodeId, at: now(host.ctx) }));
  const raft = host.raft;
  if (raft === undefined || !raft.managerList().some((m) => m.id === nodeId)) {
    await put('worker');
    return;
  }
  // The role is recorded while the manager is still a member, so its own replica sees it; the guard is checked first.
  await raft.checkManagerRemoval(nodeId);
  await put('worker');
  try {
    await raft.removeManager(nodeId);
  } catch (err) {
    // Refused after all (reachability changed in between): the role goes back, nothing changed.
    if (err instanceof ManagerRemovalRefusedError) await put('manager').catch(() => undefined);
    throw err;
  }
}

/**
 * @internal `promote`: records the desired role `manager` for a node of the
 * cluster. Its process acts on it (a manager certificate, a Raft replica
 * opened with `join: true`, then `RaftStore.addManager` on a manager).
 */
export async function promoteNode(host: LifecycleHost, nodeId: string): Promise<void> {
  if (host.role !== 'manager') throw new RoleChangeRefusedError(nodeId, 'manager', 'only managers change roles');
  if (!(await exists(host, nodeId))) throw new NodeNotFoundError(nodeId);
  await host.ctx.store.put(host.ctx.keys.role(nodeId), encodeRecord({ role: 'manager', by: host.ctx.nodeId, at: now(host.ctx) }));
}

/** @internal `setAvailability`: records it (managers only). */
export async function setNodeAvailability(host: LifecycleHost, nodeId: string, availability: Availability): Promise<void> {
  if (host.role !== 'manager') throw new RoleChangeRefusedError(nodeId, host.role, 'only managers change availability');
  if (!(await exists(host, nodeId))) throw new NodeNotFoundError(nodeId);
  await host.ctx.store.put(host.ctx.keys.availability(nodeId), encodeRecord({ availability, by: host.ctx.nodeId, at: now(host.ctx) }));
}

/**
 * @internal The writes of `leave()` in one txn: this node marked removed
 * (its id is never taken again, its certificate refused), its node,
 * heartbeat and status records deleted, and for a manager its role and
 * availability records and its managers-registry record (the leader's
 * reconciler then removes it from Raft).
 */
export function leaveOps(host: LifecycleHost): TxnOp[] {
  const k = host.ctx.keys;
  const id = host.ctx.nodeId;
  const ops: TxnOp[] = [
    kv.put(k.removedNode(id), encodeRecord({ removedAt: now(host.ctx), by: id })),
    kv.delete(k.node(id)),
    kv.delete(k.heartbeat(id)),
    kv.delete(k.nodeStatus(id)),
  ];
  // A worker's store policy lets it write only its own node, heartbeat, status and removed records.
  if (host.role === 'manager') ops.push(kv.delete(k.role(id)), kv.delete(k.availability(id)));
  if (host.raft !== undefined) ops.push(kv.delete(host.raft.managerKey(id)));
  return ops;
}

/**
 * @internal Watches this node's desired role: calls `listener` with the
 * recorded role now if it differs from `current`, then on every later
 * change. With `raft` (a manager's own replica), its removal from the Raft
 * configuration also reads as `worker` (a removed replica receives no more
 * records), checked every `everyMs`. The returned watch must be cancelled.
 */
export async function watchDesiredRole(
  ctx: CoreContext,
  current: DesiredRole,
  listener: (role: DesiredRole) => void,
  raft?: RaftStore,
  everyMs = 100,
): Promise<StoreWatch> {
  const key = ctx.keys.role(ctx.nodeId);
  const read = await ctx.store.range({ key });
  const first = read.kvs[0] === undefined ? undefined : parseRecord(roleRecordSchema, read.kvs[0]);
  let last: DesiredRole = current;
  const deliver = (r: DesiredRole): void => {
    if (r === last) return;
    last = r;
    listener(r);
  };
  if (first !== undefined) deliver(first.role);
  const member = (): boolean => raft !== undefined && raft.node.status().confState.voters.includes(ctx.nodeId);
  let wasMember = member();
  const timer =
    raft === undefined
      ? undefined
      : setInterval(() => {
          const now = member();
          if (wasMember && !now) deliver('worker');
          wasMember = now;
        }, everyMs);
  timer?.unref?.();
  const watch = await ctx.store.watch(
    key,
    (events) => {
      for (const e of events) {
        if (e.type !== 'put') continue;
        const rec = parseRecord(roleRecordSchema, e.kv);
        if (rec !== undefined) deliver(rec.role);
      }
    },
    { fromRevision: read.revision + 1 },
  );
  return {
    cancel(): void {
      if (timer !== undefined) clearInterval(timer);
      watch.cancel();
    },
    get active(): boolean {
      return watch.active;
    },
  };
}
