/**
 * Pending ReadIndex requests on the leader (thesis §6.4, etcd's ReadOnlySafe):
 * each records the commit index when it arrived and which voters acknowledged
 * a heartbeat carrying its context; once a quorum did, it and every earlier
 * request are answered.
 */
import type { Message, NodeId } from './types';

interface ReadIndexStatus {
  readonly req: Message;
  readonly index: number;
  readonly acks: Set<NodeId>;
}

/** A string key for a context (byte-exact). */
export function contextKey(ctx: Uint8Array | undefined): string {
  if (!ctx) return '';
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Queues a read of the commit index `index` for request `m` (duplicates of a pending context are ignored). */
  add(index: number, m: Message): void {
    const k = contextKey(m.context);
    if (this.pending.has(k)) return;
    this.pending.set(k, { req: m, index, acks: new Set() });
    this.queue.push(k);
  }

  /** Records `id`'s acknowledgement of `ctx`; returns the acks so far, or null for an unknown context. */
  recvAck(id: NodeId, ctx: Uint8Array | undefined): ReadonlySet<NodeId> | null {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return null;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Removes and returns the requests up to and including `ctx`'s, in arrival order. */
  advance(ctx: Uint8Array | undefined): { req: Message; index: number }[] {
    const k = contextKey(ctx);
    const at = this.queue.indexOf(k);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: { req: Message; index: number }[] = [];
    for (const key of done) {
      const rs = this.pending.get(key);
      if (rs) out.push({ req: rs.req, index: rs.index });
      this.pending.delete(key);
    }
    return out;
  }

  /** Context of the newest pending request (heartbeats carry it), if any. */
  lastPendingContext(): Uint8Array | undefined {
    const k = this.queue[this.queue.length - 1];
    return k === undefined ? undefined : this.pending.get(k)?.req.context;
  }

  get size(): number {
    return this.queue.length;
  }
}
