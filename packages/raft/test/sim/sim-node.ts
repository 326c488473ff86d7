import { decodeConfChange, MemoryStorage, ProposalDroppedError, RawNode } from '../../src/core';
import type { ConfChange, ConfState, Entry, Message, NodeId, Ready } from '../../src/core/types';
import { KvStore, type KvResult } from '../../src/kv';
import type { Prng } from '../../src/testing';
import type { SafetyMonitor } from './safety-monitor';

/** Where a node dies while handling its next Ready (to model a crash inside the persist → send → apply sequence). */
export type CrashStage = 'before-persist' | 'after-persist' | 'after-send';

/** A client request's answer, as the node sends it back. */
export type NodeReply =
  | { readonly kind: 'ok'; readonly result: unknown }
  | { readonly kind: 'not-leader'; readonly leader: NodeId | null }
  | { readonly kind: 'unavailable' };

export interface SimNodeOptions {
  readonly id: NodeId;
  readonly peers: readonly NodeId[];
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Take a snapshot and compact every this many applied entries; 0 = never. */
  readonly snapshotEvery: number;
  /** Entries kept behind the snapshot when compacting. */
  readonly keepEntries: number;
  /** Serve reads from the local store without ReadIndex (a deliberately broken mode for checking the checker). */
  readonly unsafeLocalReads?: boolean;
  /** Send a Ready's messages before persisting it (a deliberately broken mode). */
  readonly unsafeSendBeforePersist?: boolean;
}

/** Command envelope: 4-byte big-endian request id, then the KV command. Empty data is a leader's no-op. */
export function wrapCommand(reqId: number, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + command.length);
  new DataView(out.buffer).setUint32(0, reqId);
  out.set(command, 4);
  return out;
}

function unwrapCommand(data: Uint8Array): { reqId: number; command: Uint8Array } {
  return { reqId: new DataView(data.buffer, data.byteOffset, 4).getUint32(0), command: data.subarray(4) };
}

interface PendingRead {
  readonly serve: (store: KvStore) => unknown;
  readonly reply: (r: NodeReply) => void;
  index: number | null;
}

/**
 * One simulated server: a RawNode over a MemoryStorage (the durable state,
 * which survives crashes) and a KvStore (volatile, rebuilt from the snapshot
 * on restart). Handles every Ready at once in the contract's order: persist,
 * send, apply, advance; a crash can be injected between those steps.
 */
export class SimNode {
  readonly id: NodeId;
  /** What is durable: only what a Ready persisted before a crash survives. */
  readonly storage = new MemoryStorage();
  private raw: RawNode | null = null;
  private store = new KvStore({ historyLimit: 64 });
  private applied = 0;
  private confState: ConfState | null = null;
  private pendingWrites = new Map<number, (r: NodeReply) => void>();
  private pendingReads = new Map<string, PendingRead>();
  private crashAt: CrashStage | null = null;
  role = 'follower';
  leader: NodeId | null = null;
  restarts = 0;
  snapshotsTaken = 0;
  snapshotsInstalled = 0;
  /** Snapshots installed whose membership did not list this node yet (taken before it was added). */
  snapshotsPredatingMembership = 0;
  /** Membership changes this node applied (bootstrap entries excluded). */
  confChangesApplied = 0;
  /** Crashes that happened inside Ready handling, by stage. */
  readonly midReadyCrashes: Record<CrashStage, number> = { 'before-persist': 0, 'after-persist': 0, 'after-send': 0 };

  constructor(
    private readonly opts: SimNodeOptions,
    private readonly prng: Prng,
    private readonly monitor: SafetyMonitor,
    private readonly send: (msg: Message) => void,
    private readonly trace: (line: string) => void,
  ) {
    this.id = opts.id;
    this.start();
  }

  get up(): boolean {
    return this.raw !== null;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** The volatile state machine (for end-of-run comparisons). */
  get kv(): KvStore {
    return this.store;
  }

  /** (Re)starts from durable state: KvStore from the stored snapshot, RawNode from storage. */
  start(): void {
    const snap = this.storage.snapshot();
    this.store = new KvStore({ historyLimit: 64 });
    if (snap.meta.index > 0) this.store.restore(snap.data);
    this.applied = snap.meta.index;
    this.confState = snap.meta.index > 0 ? snap.meta.confState : null;
    this.role = 'follower';
    this.leader = null;
    this.raw = new RawNode({
      id: this.id,
      storage: this.storage,
      peers: [...this.opts.peers],
      electionTick: this.opts.electionTick,
      heartbeatTick: this.opts.heartbeatTick,
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      applied: this.applied,
      random: this.prng.asFunction(),
    });
    this.process();
  }

  /** Loses everything volatile: the RawNode (with its unpersisted entries), the KvStore, pending client requests. */
  crash(): void {
    this.raw = null;
    this.pendingWrites.clear();
    this.pendingReads.clear();
    this.crashAt = null;
    this.role = 'down';
    this.leader = null;
  }

  restart(): void {
    this.restarts++;
    this.start();
  }

  /** Crash while handling the next Ready, at `stage`. */
  crashDuringNextReady(stage: CrashStage): void {
    this.crashAt = stage;
  }

  tick(): void {
    if (!this.raw) return;
    this.raw.tick();
    this.process();
  }

  receive(msg: Message): void {
    if (!this.raw) return;
    this.raw.step(msg);
    this.process();
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    if (!this.raw) return;
    this.raw.reportSnapshot(to, ok ? 'finish' : 'failure');
    this.process();
  }

  /** A client write: propose it; the reply comes when this node applies it. */
  write(reqId: number, command: Uint8Array, reply: (r: NodeReply) => void): void {
    if (!this.raw) return reply({ kind: 'unavailable' });
    try {
      this.raw.propose(wrapCommand(reqId, command));
    } catch (e) {
      if (e instanceof ProposalDroppedError) return reply({ kind: 'not-leader', leader: e.leader });
      throw e;
    }
    this.pendingWrites.set(reqId, reply);
    this.process();
  }

  /** Current membership as this node's core sees it, or null when down. */
  membership(): ConfState | null {
    return this.raw ? this.raw.status().confState : null;
  }

  /** Proposes a membership change; returns why it was refused, or null when accepted for replication. */
  proposeConfChange(cc: ConfChange): string | null {
    if (!this.raw) return 'down';
    try {
      this.raw.proposeConfChange(cc);
    } catch (e) {
      if (e instanceof ProposalDroppedError) return e.message;
      throw e;
    }
    this.process();
    return null;
  }

  /** Asks this node (the leader) to hand leadership to `to`. */
  transferLeader(to: NodeId): void {
    if (!this.raw) return;
    this.raw.transferLeader(to);
    this.process();
  }

  /** A client read: ReadIndex, then `serve` runs on the local store once it has applied the read index. */
  read(reqId: number, serve: (store: KvStore) => unknown, reply: (r: NodeReply) => void): void {
    if (!this.raw) return reply({ kind: 'unavailable' });
    if (this.opts.unsafeLocalReads) return reply({ kind: 'ok', result: serve(this.store) });
    const ctx = new Uint8Array(4);
    new DataView(ctx.buffer).setUint32(0, reqId);
    try {
      this.raw.readIndex(ctx);
    } catch (e) {
      if (e instanceof ProposalDroppedError) return reply({ kind: 'not-leader', leader: e.leader });
      throw e;
    }
    this.pendingReads.set(String(reqId), { serve, reply, index: null });
    this.process();
  }

  private process(): void {
    for (let guard = 0; this.raw && this.raw.hasReady(); guard++) {
      if (guard > 10_000) throw new Error(`${this.id}: Ready loop did not settle`);
      this.handle(this.raw, this.raw.ready());
    }
  }

  private handle(raw: RawNode, rd: Ready): void {
    if (this.opts.unsafeSendBeforePersist) for (const m of rd.messages) this.send(m);
    if (this.crashAt === 'before-persist') return this.crashNow('before-persist', 'before persisting a Ready');
    // 1. persist
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (this.crashAt === 'after-persist') return this.crashNow('after-persist', 'after persisting a Ready, before sending');
    if (rd.softState) {
      this.role = rd.softState.role;
      this.leader = rd.softState.leader;
      if (rd.softState.role === 'leader') {
        const term = this.storage.initialState().hardState.term;
        this.trace(`${this.id} leader of term ${term}`);
        this.monitor.onLeader(this.id, term, this.storage);
      }
    }
    // 2. send
    if (!this.opts.unsafeSendBeforePersist) for (const m of rd.messages) this.send(m);
    if (this.crashAt === 'after-send') return this.crashNow('after-send', 'after sending a Ready, before applying');
    // 3. apply
    if (rd.snapshot && rd.snapshot.meta.index > this.applied) {
      this.monitor.onSnapshot(this.id, rd.snapshot.meta.index, rd.snapshot.meta.term);
      this.store.restore(rd.snapshot.data);
      this.applied = rd.snapshot.meta.index;
      this.confState = rd.snapshot.meta.confState;
      this.snapshotsInstalled++;
      const cs = rd.snapshot.meta.confState;
      if (![...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.id)) this.snapshotsPredatingMembership++;
    }
    for (const e of rd.committedEntries) this.apply(raw, e);
    for (const rs of rd.readStates) {
      const key = String(new DataView(rs.context.buffer, rs.context.byteOffset, 4).getUint32(0));
      const p = this.pendingReads.get(key);
      if (p) p.index = rs.index;
    }
    // 4. advance
    raw.advance();
    this.serveReads();
    this.maybeSnapshot();
  }

  private crashNow(stage: CrashStage, why: string): void {
    this.midReadyCrashes[stage]++;
    this.trace(`${this.id} crashes ${why}`);
    this.crash();
  }

  private apply(raw: RawNode, e: Entry): void {
    if (e.index <= this.applied) return; // already covered by an installed snapshot
    this.monitor.onApply(this.id, this.applied, e);
    this.applied = e.index;
    if (e.type === 'conf-change') {
      this.confState = raw.applyConfChange(decodeConfChange(e.data));
      if (e.term > 1) this.confChangesApplied++;
      return;
    }
    if (e.data.length === 0) return;
    const { reqId, command } = unwrapCommand(e.data);
    const result: KvResult = this.store.apply(command, e.index);
    const reply = this.pendingWrites.get(reqId);
    if (reply) {
      this.pendingWrites.delete(reqId);
      reply({ kind: 'ok', result });
    }
  }

  private serveReads(): void {
    for (const [key, p] of this.pendingReads) {
      if (p.index !== null && p.index <= this.applied) {
        this.pendingReads.delete(key);
        p.reply({ kind: 'ok', result: p.serve(this.store) });
      }
    }
  }

  private maybeSnapshot(): void {
    const every = this.opts.snapshotEvery;
    if (every <= 0 || !this.confState) return;
    const snapIndex = this.storage.snapshot().meta.index;
    if (this.applied - snapIndex < every) return;
    this.storage.createSnapshot(this.applied, this.confState, this.store.snapshot());
    this.snapshotsTaken++;
    const upTo = this.applied - this.opts.keepEntries;
    if (upTo >= this.storage.firstIndex()) this.storage.compact(upTo);
  }
}
