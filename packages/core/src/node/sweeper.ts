import type { CoreContext } from './context';
import { parseRecord } from '../records/codec';
import { endpointRecordSchema, nodeEndpointRefSchema, nodeRecordSchema, type EndpointRecord } from '../records/schemas';

/** Counters of a {@link Sweeper}. */
export interface SweeperStats {
  /** Sweeps run. */
  sweeps: number;
  /** Endpoints reclaimed from dead nodes. */
  reclaimed: number;
}

interface Seen {
  modRevision: number;
  /** Local monotonic ms when this modRevision was first seen. */
  since: number;
}

/**
 * Reclaims the endpoints (and with them the addresses) of dead nodes — the
 * fix for Swarm's leaked load-balancer addresses (swarmkit#2800). A node is
 * dead when its heartbeat key's revision has not moved for `graceMs` as
 * measured on this manager's own monotonic clock (no cross-machine clock
 * comparison). Endpoints whose node has no heartbeat at all are judged the
 * same way from when this manager first saw them. Runs on managers; several
 * managers sweeping at once is harmless (a detach is idempotent).
 */
export class Sweeper {
  readonly stats: SweeperStats = { sweeps: 0, reclaimed: 0 };
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private intervalMs = 0;
  /** Monotonic ms of the last sweep that could read the store. */
  private lastRead: number | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly graceMs: number,
    private readonly detach: (record: EndpointRecord) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** Sweeps every `intervalMs` (default: a quarter of the grace period). */
  start(intervalMs = Math.max(50, Math.floor(this.graceMs / 4))): void {
    this.intervalMs = intervalMs;
    this.timer = setInterval(() => {
      if (this.running === undefined) {
        this.running = this.sweep()
          .then(
            () => undefined,
            (err: unknown) => this.onError(err),
          )
          .finally(() => {
            this.running = undefined;
          });
      }
    }, intervalMs);
    this.timer.unref?.();
  }

  /** Stops sweeping. Returns the sweep in flight (if any) without waiting for it: closing the store settles it. */
  stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    return this.running ?? Promise.resolve();
  }

  /** One sweep: returns how many endpoints were reclaimed. */
  async sweep(): Promise<number> {
    this.stats.sweeps += 1;
    const k = this.ctx.keys;
    const now = this.monotonic();
    const [beats, nodes] = await Promise.all([this.ctx.store.range({ prefix: k.heartbeats() }), this.ctx.store.range({ prefix: k.nodes() })]);
    // After a gap in this manager's own view of the store (quorum lost, partitioned), nobody's heartbeat
    // could be written or seen: start every node's clock afresh rather than judge it by the outage.
    if (this.lastRead !== undefined && now - this.lastRead > Math.max(2 * this.intervalMs, 1000)) {
      for (const s of this.seen.values()) s.since = now;
    }
    this.lastRead = now;
    const revisions = new Map<string, number>();
    for (const b of beats.kvs) revisions.set(b.key.slice(k.heartbeats().length), b.modRevision);
    const nodeIds = new Set<string>(revisions.keys());
    for (const n of nodes.kvs) {
      const rec = parseRecord(nodeRecordSchema, n);
      if (rec !== undefined) nodeIds.add(rec.id);
    }
    const dead: string[] = [];
    for (const id of nodeIds) {
      if (id === this.ctx.nodeId) continue;
      const rev = revisions.get(id) ?? 0;
      const s = this.seen.get(id);
      if (s === undefined || s.modRevision !== rev) {
        this.seen.set(id, { modRevision: rev, since: now });
        continue;
      }
      if (now - s.since >= this.graceMs) dead.push(id);
    }
    let reclaimed = 0;
    for (const id of dead) {
      const refs = await this.ctx.store.range({ prefix: k.nodeEndpoints(id) });
      for (const refKv of refs.kvs) {
        const ref = parseRecord(nodeEndpointRefSchema, refKv);
        if (ref === undefined) continue;
        const endpointId = refKv.key.slice(k.nodeEndpoints(id).length);
        const recKv = await this.ctx.store.get(k.endpoint(ref.networkId, endpointId));
        const rec = recKv === undefined ? undefined : parseRecord(endpointRecordSchema, recKv);
        if (rec === undefined) {
          // An index entry whose record is gone (it cannot happen through core's txns): drop it.
          await this.ctx.store.delete(refKv.key);
          continue;
        }
        await this.detach(rec);
        reclaimed += 1;
      }
    }
    this.stats.reclaimed += reclaimed;
    return reclaimed;
  }
}
