import { randomBytes } from 'node:crypto';
import { RaftInvariantError } from '../core/errors';
import type { ConfState, Entry, NodeId, Ready, ReadState } from '../core/types';
import { ProposalLostError, RequestTimeoutError } from './errors';
import type { PendingProposal, PendingRead } from './pending';

const NONE: PendingProposal[] = [];

/** What applying an entry produced, for settling the request that proposed it. */
export type EntryOutcome =
  | { readonly kind: 'normal'; readonly result: unknown }
  | { readonly kind: 'conf'; readonly confState: ConfState }
  | { readonly kind: 'empty' };

/**
 * The requests a {@link RaftNode} is waiting on: proposals queued for the next
 * batch, proposals appended to the log (by index, with the term they were
 * appended in), and reads waiting for a read index and then for the apply
 * loop. Deadlines are in ticks.
 */
export class Requests {
  /** Proposals taken since the last batch, in call order. */
  private queue: PendingProposal[] = [];
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<string, PendingRead>();
  private readCounter = 0;
  private readonly readPrefix: Uint8Array;
  /** Reads taken since the last batch; they share one ReadIndex request. */
  private readWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(private readonly nodeId: NodeId) {
    // The leader keys pending reads by context, so contexts must be unique across the cluster and
    // across restarts: this node's id, a per-instance nonce, then a counter.
    const id = new TextEncoder().encode(nodeId);
    this.readPrefix = new Uint8Array(id.length + 4);
    this.readPrefix.set(id, 0);
    this.readPrefix.set(randomBytes(4), id.length);
  }

  /** Queues a proposal; returns true when it is the first of a new batch (the loop must be woken). */
  enqueue(p: PendingProposal): boolean {
    this.queue.push(p);
    return this.queue.length === 1;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Takes the queued batch. */
  takeQueue(): PendingProposal[] {
    if (this.queue.length === 0) return NONE;
    const q = this.queue;
    this.queue = [];
    return q;
  }

  /**
   * Records where the batch just proposed landed: the core appends a batch at
   * the end of its log, so the last `appended.length` entries of the next
   * Ready are the batch, in order.
   * @throws RaftInvariantError when the Ready holds fewer entries (a broken core invariant)
   */
  track(rd: Ready, appended: readonly PendingProposal[]): void {
    const n = appended.length;
    if (n === 0) return;
    const ents = rd.entries;
    if (ents.length < n) throw new RaftInvariantError(`node ${this.nodeId}: ${n} proposals appended but the Ready holds ${ents.length} entries`);
    for (let i = 0; i < n; i++) {
      const e = ents[ents.length - n + i]!;
      const req = appended[i]!;
      req.term = e.term;
      // An older proposal still waiting at this index had its entry truncated (a conflicting append
      // from another leader): it can never commit. Settle it rather than drop it unsettled.
      const old = this.proposals.get(e.index);
      if (old !== undefined) {
        this.proposals.delete(e.index);
        old.reject(new ProposalLostError(e.index, `node ${this.nodeId}: entry ${e.index} of term ${old.term} was overwritten by term ${e.term}`));
      }
      this.proposals.set(e.index, req);
    }
  }

  /**
   * Settles the proposal waiting on entry `e`, if any. The entry is this
   * node's proposal only when its term is the one recorded at append time
   * (one leader per term, writing each index once); otherwise the proposal
   * was overwritten and is lost.
   */
  settleEntry(e: Entry, outcome: EntryOutcome): void {
    const p = this.proposals.get(e.index);
    if (p === undefined) return;
    this.proposals.delete(e.index);
    const id = this.nodeId;
    if (p.term !== e.term) {
      p.reject(new ProposalLostError(e.index, `node ${id}: entry ${e.index} of term ${p.term} was overwritten by term ${e.term}`));
    } else if (outcome.kind === 'empty') {
      p.reject(new ProposalLostError(e.index, `node ${id}: the ${p.kind === 'conf' ? 'conf change' : 'proposal'} at ${e.index} was replaced by an empty entry`));
    } else if (outcome.kind !== p.kind) {
      p.reject(new ProposalLostError(e.index, `node ${id}: entry ${e.index} holds a ${outcome.kind === 'conf' ? 'conf change' : 'normal entry'}, not the ${p.kind === 'conf' ? 'conf change' : 'proposal'}`));
    } else {
      p.resolve(outcome.kind === 'conf' ? outcome.confState : outcome.result);
    }
  }

  /** Proposals at or below `index` were covered by a snapshot from the leader: their outcome is unknown here. */
  coveredBySnapshot(index: number): void {
    for (const [i, p] of this.proposals) {
      if (i > index) continue;
      this.proposals.delete(i);
      p.reject(new RequestTimeoutError(`node ${this.nodeId}: entry ${i} was covered by a snapshot from the leader before this node applied it; outcome unknown`));
    }
  }

  /** Queues a read for the next batch; returns true when it is the first of a new batch. */
  enqueueRead(resolve: () => void, reject: (err: Error) => void): boolean {
    this.readWaiters.push({ resolve, reject });
    return this.readWaiters.length === 1;
  }

  get queuedReads(): number {
    return this.readWaiters.length;
  }

  /**
   * Turns the queued reads into one pending read (one ReadIndex round for all
   * of them: each was called before the request, so the read index the leader
   * confirms covers every one). Returns undefined when none are queued.
   */
  takeReadBatch(deadline: number): { key: string; context: Uint8Array; reject: (err: Error) => void } | undefined {
    if (this.readWaiters.length === 0) return undefined;
    const waiters = this.readWaiters;
    this.readWaiters = [];
    const reject = (err: Error): void => {
      for (const w of waiters) w.reject(err);
    };
    const { key, context } = this.addRead(
      deadline,
      () => {
        for (const w of waiters) w.resolve();
      },
      reject,
    );
    return { key, context, reject };
  }

  /** Registers a read and returns its (unique) context for `RawNode.readIndex`. */
  addRead(deadline: number, resolve: () => void, reject: (err: Error) => void): { key: string; context: Uint8Array } {
    const prefix = this.readPrefix;
    const context = new Uint8Array(prefix.length + 8);
    context.set(prefix, 0);
    new DataView(context.buffer).setFloat64(prefix.length, ++this.readCounter);
    const key = contextKey(context);
    this.reads.set(key, { index: undefined, context, deadline, resolve, reject });
    return { key, context };
  }

  removeRead(key: string): void {
    this.reads.delete(key);
  }

  /** Records the read indexes the core answered with. */
  recordReadStates(states: readonly ReadState[]): void {
    for (const rs of states) {
      const p = this.reads.get(contextKey(rs.context));
      if (p) p.index = rs.index;
    }
  }

  /** Resolves the reads whose read index is applied. */
  settleReads(applied: number): void {
    if (this.reads.size === 0) return;
    for (const [k, p] of this.reads) {
      if (p.index !== undefined && p.index <= applied) {
        this.reads.delete(k);
        p.resolve(undefined);
      }
    }
  }

  /** Contexts of reads not yet answered with a read index (to ask a new leader again). */
  unansweredReads(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const p of this.reads.values()) if (p.index === undefined) out.push(p.context);
    return out;
  }

  /** Rejects proposals and reads whose deadline (in ticks) is before `now`. Deadlines grow with insertion order. */
  expire(now: number, timeoutMs: number): void {
    for (const [i, p] of this.proposals) {
      if (p.deadline >= now) break;
      this.proposals.delete(i);
      p.reject(new RequestTimeoutError(`node ${this.nodeId}: entry ${i} not applied within ${timeoutMs} ms; outcome unknown`));
    }
    for (const [k, p] of this.reads) {
      if (p.deadline >= now) break;
      this.reads.delete(k);
      p.reject(new RequestTimeoutError(`node ${this.nodeId}: read not confirmed within ${timeoutMs} ms`));
    }
  }

  /** Rejects the queued (not yet appended) proposals. */
  rejectQueued(err: () => Error): void {
    for (const q of this.takeQueue()) q.reject(err());
  }

  /** Rejects everything pending with `err`. */
  rejectAll(err: Error): void {
    for (const q of this.takeQueue()) q.reject(err);
    const waiters = this.readWaiters;
    this.readWaiters = [];
    for (const w of waiters) w.reject(err);
    for (const p of this.proposals.values()) p.reject(err);
    this.proposals.clear();
    for (const r of this.reads.values()) r.reject(err);
    this.reads.clear();
  }
}

function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}
