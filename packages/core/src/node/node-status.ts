import { encodeRecord, parseRecord } from '../records/codec';
import { leaderRecordSchema, nodeRecordSchema, nodeStatusRecordSchema, type NodeStatusRecord } from '../records/schemas';
import type { CoreContext } from './context';
import { availabilityRecordSchema, type Availability } from './node-lifecycle';

/** What the node-status monitor needs to know about this manager's Raft replica (undefined: the store has no Raft, e.g. etcd). */
export interface LeaderProbe {
  /** True while this manager is the Raft leader. */
  readonly isLeader: boolean;
  /** The current Raft term (to order leader records). */
  readonly term: number;
}

/**
 * Judges every node ready or down by whether its heartbeat key's revision
 * moved within `downAfterMs` (this manager's own monotonic clock, as the
 * sweeper does), and writes `node-status/<id>` when the judgement changes.
 * Only the Raft leader writes (so managers near the boundary cannot
 * overwrite each other back and forth); with a store without Raft every
 * manager does. The leader also records itself under `leader`, so any node
 * can tell which manager leads.
 */
export class NodeStatusMonitor {
  private readonly seen = new Map<string, { modRevision: number; since: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastRead: number | undefined;
  private nudged = false;

  constructor(
    private readonly ctx: CoreContext,
    private readonly intervalMs: number,
    private readonly downAfterMs: number,
    private readonly raft: LeaderProbe | undefined,
    private readonly onError: (error: unknown) => void,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.running = this.check()
        .then(
          () => undefined,
          (err: unknown) => this.onError(err),
        )
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /**
   * Runs a round soon (not waiting for the next interval): a node record
   * appeared or changed, so a node that just joined is listed ready at once
   * rather than up to an interval later. Coalesced; a no-op once stopped.
   */
  nudge(): void {
    if (this.timer === undefined || this.nudged) return;
    this.nudged = true;
    setImmediate(() => {
      this.nudged = false;
      if (this.timer === undefined) return;
      const previous = this.running ?? Promise.resolve();
      const run = previous
        .then(() => this.check())
        .then(
          () => undefined,
          (err: unknown) => this.onError(err),
        );
      const tracked: Promise<void> = run.finally(() => {
        if (this.running === tracked) this.running = undefined;
      });
      this.running = tracked;
    });
  }

  stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    return this.running ?? Promise.resolve();
  }

  /** One round: judge every node, write what changed (leader only). Returns the writes made. */
  async check(): Promise<number> {
    const k = this.ctx.keys;
    const now = this.monotonic();
    const [beats, nodes, statuses, leader] = await Promise.all([
      this.ctx.store.range({ prefix: k.heartbeats() }),
      this.ctx.store.range({ prefix: k.nodes() }),
      this.ctx.store.range({ prefix: k.nodeStatuses() }),
      this.ctx.store.get(k.leader()),
    ]);
    // After a gap in this manager's own view of the store, nobody could be seen: start every clock afresh.
    if (this.lastRead !== undefined && now - this.lastRead > Math.max(3 * this.intervalMs, 1000)) {
      for (const s of this.seen.values()) s.since = now;
    }
    this.lastRead = now;
    const revisions = new Map<string, number>();
    for (const b of beats.kvs) revisions.set(b.key.slice(k.heartbeats().length), b.modRevision);
    const stored = new Map<string, NodeStatusRecord>();
    for (const kv of statuses.kvs) {
      const r = parseRecord(nodeStatusRecordSchema, kv);
      if (r !== undefined) stored.set(kv.key.slice(k.nodeStatuses().length), r);
    }
    const judged = new Map<string, 'ready' | 'down'>();
    for (const n of nodes.kvs) {
      const rec = parseRecord(nodeRecordSchema, n);
      if (rec === undefined) continue;
      const rev = revisions.get(rec.id) ?? 0;
      const s = this.seen.get(rec.id);
      if (s === undefined || s.modRevision !== rev) {
        this.seen.set(rec.id, { modRevision: rev, since: now });
        // A node seen for the first time is judged only once it has had time to beat (no flapping at start).
        judged.set(rec.id, s === undefined && rev === 0 ? (stored.get(rec.id)?.state ?? 'ready') : 'ready');
        continue;
      }
      judged.set(rec.id, rec.id === this.ctx.nodeId || now - s.since < this.downAfterMs ? 'ready' : 'down');
    }
    if (this.raft !== undefined && !this.raft.isLeader) return 0;
    let writes = 0;
    for (const [id, state] of judged) {
      if (stored.get(id)?.state === state) continue;
      await this.ctx.store.put(k.nodeStatus(id), encodeRecord({ state, since: new Date(this.ctx.now()).toISOString() } satisfies NodeStatusRecord));
      writes++;
    }
    if (this.raft !== undefined) {
      const current = leader === undefined ? undefined : parseRecord(leaderRecordSchema, leader);
      if (current?.id !== this.ctx.nodeId) {
        await this.ctx.store.put(k.leader(), encodeRecord({ id: this.ctx.nodeId, term: this.raft.term }));
        writes++;
      }
    }
    return writes;
  }
}

/** A node of the cluster as `WeftNode.listNodes()` reports it. */
export interface NodeInfo {
  readonly id: string;
  /**
   * `manager` when it is in the managers registry (the desired Raft
   * membership), `worker` otherwise; with a store that has no registry
   * (etcd, memory), the role the node started with.
   */
  readonly role: 'manager' | 'worker';
  /** As `setAvailability` recorded it (`active` when never set). Weft schedules nothing: it is for orchestrators. */
  readonly availability: Availability;
  /** Its data plane's underlay address. */
  readonly address: string;
  /** `ready` while its heartbeat moves, `down` when it has not for the managers' judgement period, `unknown` before the managers judged it. */
  readonly status: 'ready' | 'down' | 'unknown';
  /** True for the manager that is the Raft leader (as last recorded by the leader itself). */
  readonly leader: boolean;
  /** When this node last started (ISO 8601, its own clock). */
  readonly startedAt: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** @internal Reads the node list (linearizable reads of nodes, statuses and the leader record). */
export async function listNodes(ctx: CoreContext): Promise<NodeInfo[]> {
  const k = ctx.keys;
  const [nodes, statuses, leaderKv, registry, availabilities] = await Promise.all([
    ctx.store.range({ prefix: k.nodes() }),
    ctx.store.range({ prefix: k.nodeStatuses() }),
    ctx.store.get(k.leader()),
    ctx.store.range({ prefix: k.managers() }),
    ctx.store.range({ prefix: k.availabilities() }),
  ]);
  // The registry is there once the Raft leader seeded it (its prefix key is the seeded marker).
  const seeded = registry.kvs.some((kv) => kv.key === k.managers());
  const managers = new Set(registry.kvs.filter((kv) => kv.key !== k.managers()).map((kv) => kv.key.slice(k.managers().length)));
  const availability = new Map<string, Availability>();
  for (const kv of availabilities.kvs) {
    const r = parseRecord(availabilityRecordSchema, kv);
    if (r !== undefined) availability.set(kv.key.slice(k.availabilities().length), r.availability);
  }
  const status = new Map<string, NodeStatusRecord>();
  for (const kv of statuses.kvs) {
    const r = parseRecord(nodeStatusRecordSchema, kv);
    if (r !== undefined) status.set(kv.key.slice(k.nodeStatuses().length), r);
  }
  const leader = leaderKv === undefined ? undefined : parseRecord(leaderRecordSchema, leaderKv)?.id;
  const out: NodeInfo[] = [];
  for (const kv of nodes.kvs) {
    const rec = parseRecord(nodeRecordSchema, kv);
    if (rec === undefined) continue;
    const role = seeded ? (managers.has(rec.id) ? 'manager' : 'worker') : rec.role;
    out.push({
      id: rec.id,
      role,
      availability: availability.get(rec.id) ?? 'active',
      address: rec.dataPlane.address,
      status: status.get(rec.id)?.state ?? 'unknown',
      leader: role === 'manager' && rec.id === leader,
      startedAt: rec.startedAt,
      labels: rec.labels,
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
