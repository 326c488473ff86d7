import { EventEmitter } from 'node:events';
import type { StateMachine } from '@weft/interface';
import { RawNode } from '../core/raw-node';
import { decodeConfChange } from '../core/conf-change-codec';
import { ConfChangeRejectedError, ProposalDroppedError, RaftInvariantError, RaftUsageError } from '../core/errors';
import type { MemoryStorage } from '../core/memory-storage';
import type { ConfChange, ConfState, Entry, Message, NodeId, Ready, Role } from '../core/types';
import type { RaftStores } from '../storage/stores';
import type { Transport } from '../transport/transport';
import { InvalidProposalError, NodeClosedError, NodeFailedError, NotLeaderError, RequestTimeoutError } from './errors';
import { loadState } from './load-state';
import { resolveNodeOptions, type RaftNodeOptions, type ResolvedNodeOptions } from './options';
import type { PendingProposal } from './pending';
import { Requests } from './requests';
import { persistReady } from './persist-ready';

/** A snapshot of a node's view of the cluster. */
export interface RaftNodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  /** The leader this node knows of, or null. */
  readonly leaderId: NodeId | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Index of the last entry in this node's log. */
  readonly lastIndex: number;
  /** Index of the newest snapshot (0 if none). */
  readonly snapshotIndex: number;
  readonly confState: ConfState;
}

/** Events a {@link RaftNode} emits. */
export interface RaftNodeEvents {
  /** The known leader changed (null: no leader known, e.g. during an election). */
  'leader-change': [leaderId: NodeId | null, term: number];
  /** This node's role changed. */
  'role-change': [role: Role];
  /** The node stopped after a fatal error (storage write failed, state machine threw); every pending request was rejected. */
  failed: [error: Error];
}

const EMPTY_CONF: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

/**
 * The Raft driver: runs a {@link RawNode} with real timers, durable stores, a
 * transport and a state machine (etcd's `node.go` + raftexample loop).
 *
 * Each turn of the Ready loop: (1) persist the Ready's snapshot, entries and
 * hard state and await durability; (2) only then send its messages (a leader
 * sends them before (1): it writes its log in parallel with replicating it,
 * and the core counts its entries only once persisted); (3) apply
 * the snapshot and committed entries to the state machine and settle the
 * requests waiting on them; (4) `advance()`. Committed entries already durable
 * locally before the Ready are applied during (1) rather than after it.
 * Proposals made in the same turn (the loop starts as a microtask) or while a
 * write is in flight go into one Ready — one fsync and one append message per
 * follower for the whole batch.
 *
 * @typeParam R the state machine's apply result, returned by {@link propose}.
 */
export class RaftNode<R = unknown> {
  private readonly events = new EventEmitter();
  private readonly raw: RawNode;
  private readonly stateMachine: StateMachine<R>;
  private readonly transport: Transport;
  private readonly stores: RaftStores;
  private readonly view: MemoryStorage;
  private readonly requests: Requests;
  private ticks = 0;
  private tickHandle: unknown = undefined;
  private loopScheduled = false;
  private loopRunning: Promise<void> | undefined;
  private started = false;
  /** No more ticks, receives or loop turns: set by {@link close} and by a fatal error. */
  private closed = false;
  /** Whether {@link close} ran (a fatal error stops the node but leaves the stores for close to release). */
  private closeCalled = false;
  private failure: Error | undefined;
  private applied: number;
  private snapshotIndex: number;
  private confState: ConfState;
  private leaderId: NodeId | null = null;
  private role: Role = 'follower';
  private term = 0;
  private commit = 0;
  private readonly timeoutTicks: number;

  private constructor(
    private readonly opts: ResolvedNodeOptions,
    raw: RawNode,
    view: MemoryStorage,
    applied: number,
  ) {
    this.raw = raw;
    this.view = view;
    this.stateMachine = opts.stateMachine as StateMachine<R>;
    this.transport = opts.transport;
    this.stores = opts.stores;
    this.applied = applied;
    this.snapshotIndex = applied;
    const init = view.initialState();
    this.confState = init.confState.voters.length > 0 || applied > 0 ? init.confState : EMPTY_CONF;
    this.term = init.hardState.term;
    this.commit = init.hardState.commit;
    this.timeoutTicks = Math.max(1, Math.ceil(opts.requestTimeoutMs / opts.tickMs));
    this.requests = new Requests(opts.id);
  }

  /**
   * Validates `options`, loads persisted state from `options.stores` (restoring
   * the state machine from the newest snapshot) and builds the node. It does
   * not tick or receive until {@link start}. Ownership of the transport and the
   * stores passes to the node once this resolves: {@link close} closes them
   * (if `create` rejects, they stay the caller's to close).
   * @throws InvalidOptionsError (from `@weft/interface`) naming the bad field; errors of the stores while loading.
   */
  static async create<R>(options: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    const opts = resolveNodeOptions(options);
    const loaded = await loadState(opts.stores);
    if (loaded.snapshot) opts.stateMachine.restore(loaded.snapshot.data);
    const applied = loaded.snapshot?.meta.index ?? 0;
    const raw = new RawNode({
      id: opts.id,
      storage: loaded.view,
      peers: loaded.empty ? opts.peers : undefined,
      electionTick: opts.electionTick,
      heartbeatTick: opts.heartbeatTick,
      preVote: opts.preVote,
      checkQuorum: opts.checkQuorum,
      maxSizePerMsg: opts.maxSizePerMsg,
      maxInflightMsgs: opts.maxInflightMsgs,
      applied,
      random: opts.random,
    });
    const node = new RaftNode<R>(opts, raw, loaded.view, applied);
    if (loaded.empty && opts.peers) node.confState = { ...EMPTY_CONF, voters: [...opts.peers] };
    return node;
  }

  /** Starts ticking and receiving. Idempotent. */
  start(): this {
    if (this.started || this.closed) return this;
    this.started = true;
    this.transport.onMessage((m) => this.receive(m));
    this.transport.onUnreachable?.((peer) => {
      if (!this.closed) this.raw.reportUnreachable(peer);
    });
    this.tickHandle = this.opts.timers.setInterval(() => this.tick(), this.opts.tickMs);
    this.kick();
    return this;
  }

  /** This node's id. */
  get id(): NodeId {
    return this.opts.id;
  }

  /** Whether this node currently believes it is the leader. */
  get isLeader(): boolean {
    return this.role === 'leader';
  }

  /** The leader this node knows of, or null. */
  get leader(): NodeId | null {
    return this.leaderId;
  }

  /** Subscribes to an event (see {@link RaftNodeEvents}); listeners run synchronously inside the Ready loop and must not throw. */
  on<E extends keyof RaftNodeEvents>(event: E, listener: (...args: RaftNodeEvents[E]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener added with {@link on}. */
  off<E extends keyof RaftNodeEvents>(event: E, listener: (...args: RaftNodeEvents[E]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * Proposes `command` and resolves with the state machine's result once the
   * entry is committed and applied on this node. The command must be non-empty
   * (an empty entry is the leader's no-op) and is owned by the log afterwards.
   * Rejects with NotLeaderError (not appended: safe to retry at the leader),
   * ProposalLostError (overwritten by another leader: safe to retry),
   * RequestTimeoutError (outcome unknown), NodeClosedError, NodeFailedError,
   * and InvalidProposalError for an empty command (nothing appended).
   */
  propose(command: Uint8Array): Promise<R> {
    if (command.length === 0) return Promise.reject(new InvalidProposalError('RaftNode.propose: command must not be empty (0 bytes)'));
    return this.enqueue('normal', command, undefined) as Promise<R>;
  }

  /**
   * A linearizable read barrier (ReadIndex, Raft thesis §6.4): resolves once
   * this node's state machine has applied everything committed before the
   * call, as confirmed by a quorum of the current leader. Read the state
   * machine after it resolves. Works on followers (the leader is asked).
   * Reads called in the same turn (or while a write is in flight) share one
   * ReadIndex round. Rejects with NotLeaderError when no leader is known,
   * RequestTimeoutError, NodeClosedError.
   */
  read(): Promise<void> {
    const early = this.unavailable();
    if (early) return Promise.reject(early);
    return new Promise<void>((resolve, reject) => {
      if (this.requests.enqueueRead(resolve, reject)) this.kick();
    });
  }

  /**
   * Adds `id` as a voter; resolves with the new configuration once applied here.
   * Rejections as for {@link propose}, plus ConfChangeRejectedError (from the
   * core) when another change is still pending or the change is invalid.
   */
  addVoter(id: NodeId): Promise<ConfState> {
    return this.proposeConfChange({ changes: [{ type: 'add-voter', nodeId: id }] });
  }

  /** Adds `id` as a learner (receives the log, does not vote). */
  addLearner(id: NodeId): Promise<ConfState> {
    return this.proposeConfChange({ changes: [{ type: 'add-learner', nodeId: id }] });
  }

  /** Removes `id` (voter or learner). Removing the leader makes it step down once applied. */
  removeNode(id: NodeId): Promise<ConfState> {
    return this.proposeConfChange({ changes: [{ type: 'remove-node', nodeId: id }] });
  }

  /** Proposes any membership change (several changes go through joint consensus). */
  proposeConfChange(change: ConfChange): Promise<ConfState> {
    return this.enqueue('conf', undefined, change) as Promise<ConfState>;
  }

  /**
   * Asks the leader to hand leadership to `id` (Raft thesis §3.10). Resolves
   * once this node sees `id` as leader; rejects with RequestTimeoutError after
   * `requestTimeoutMs`, NotLeaderError when no leader is known.
   */
  transferLeadership(id: NodeId): Promise<void> {
    const early = this.unavailable();
    if (early) return Promise.reject(early);
    if (this.leaderId === id) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const deadline = this.ticks + this.timeoutTicks;
      const onLeader = (leader: NodeId | null): void => {
        if (leader === id) finish();
      };
      const check = (): void => {
        if (this.closed) finish(new NodeClosedError(`node ${this.id}: closed during leadership transfer`));
        else if (this.ticks > deadline) finish(new RequestTimeoutError(`node ${this.id}: leadership did not move to ${id} within ${this.opts.requestTimeoutMs} ms`));
      };
      const timer = this.opts.timers.setInterval(check, this.opts.tickMs);
      const finish = (err?: Error): void => {
        this.off('leader-change', onLeader);
        this.opts.timers.clearInterval(timer);
        if (err) reject(err);
        else resolve();
      };
      this.on('leader-change', onLeader);
      try {
        this.raw.transferLeader(id);
      } catch (err) {
        finish(this.translate(err));
        return;
      }
      this.kick();
    });
  }

  /**
   * Starts a campaign now instead of at the election timeout: a pre-vote
   * round first when `preVote` is on (the default), so a node that cannot
   * win changes no term. Peers answer it, which tells a caller who is alive
   * (a peer that heard a leader within the election timeout ignores it: the
   * leader lease). Ignored on a leader, a learner and a closed node.
   */
  campaign(): void {
    if (this.unavailable() !== undefined) return;
    this.raw.campaign();
    this.kick();
  }

  /** This node's current view. */
  status(): RaftNodeStatus {
    return {
      id: this.opts.id,
      role: this.role,
      leaderId: this.leaderId,
      term: this.term,
      commitIndex: this.commit,
      appliedIndex: this.applied,
      lastIndex: this.view.lastIndex(),
      snapshotIndex: this.snapshotIndex,
      confState: this.confState,
    };
  }

  /**
   * On the leader, each member's replication progress (`match`: the highest
   * log index known to be on that member; `next`: the next index to send);
   * undefined on a follower or candidate. A copy: later changes are not seen.
   */
  progress(): Record<NodeId, { readonly match: number; readonly next: number }> | undefined {
    if (this.closed) return undefined;
    const p = this.raw.status().progress;
    if (p === undefined) return undefined;
    const out: Record<NodeId, { match: number; next: number }> = {};
    for (const [id, pr] of Object.entries(p)) out[id] = { match: pr.match, next: pr.next };
    return out;
  }

  /**
   * Stops timers and the loop (waiting for a write in progress), closes the
   * transport and the stores, and rejects every pending request with
   * NodeClosedError. Idempotent; never rejects. Call it after a `failed`
   * event too: a fatal error closes the transport but leaves the stores open.
   */
  async close(): Promise<void> {
    if (this.closeCalled) return;
    this.closeCalled = true;
    this.closed = true;
    if (this.tickHandle !== undefined) this.opts.timers.clearInterval(this.tickHandle);
    this.tickHandle = undefined;
    await this.loopRunning?.catch(() => {});
    this.requests.rejectAll(new NodeClosedError(`node ${this.id}: closed`));
    await this.transport.close().catch(() => {});
    await this.stores.close?.().catch(() => {});
  }

  // ---- internals ----

  private unavailable(): Error | undefined {
    if (this.failure) return new NodeFailedError(`node ${this.id}: stopped after a fatal error: ${this.failure.message}`, { cause: this.failure });
    if (this.closed) return new NodeClosedError(`node ${this.id}: closed`);
    return undefined;
  }

  private enqueue(kind: 'normal' | 'conf', data: Uint8Array | undefined, change: ConfChange | undefined): Promise<unknown> {
    const early = this.unavailable();
    if (early) return Promise.reject(early);
    if (this.role !== 'leader') return Promise.reject(this.notLeader());
    return new Promise((resolve, reject) => {
      if (this.requests.enqueue({ kind, data, change, resolve, reject, deadline: this.ticks + this.timeoutTicks, term: 0 })) this.kick();
    });
  }

  private notLeader(cause?: unknown): NotLeaderError {
    const leader = this.leaderId === this.opts.id ? null : this.leaderId;
    return new NotLeaderError(leader, leader === null ? undefined : this.transport.addressOf?.(leader), cause === undefined ? undefined : { cause });
  }

  private translate(err: unknown): Error {
    // A refused conf change is the leader's answer, not a leadership problem: pass it on as is.
    if (err instanceof ConfChangeRejectedError) return err;
    if (err instanceof ProposalDroppedError) return this.notLeader(err);
    return err instanceof Error ? err : new Error(String(err));
  }

  private receive(m: Message): void {
    if (this.closed) return;
    try {
      this.raw.step(m);
    } catch (err) {
      // A message the core refuses (a dropped forwarded read, a local-only type) is dropped like a
      // lost packet; anything else (RaftInvariantError) is a bug and stops the node.
      if (!(err instanceof ProposalDroppedError) && !(err instanceof RaftUsageError)) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
    this.kick();
  }

  private tick(): void {
    if (this.closed) return;
    this.ticks++;
    this.raw.tick();
    this.requests.expire(this.ticks, this.opts.requestTimeoutMs);
    this.kick();
  }

  private kick(): void {
    if (this.loopScheduled || this.closed || !this.started) return;
    this.loopScheduled = true;
    queueMicrotask(() => {
      this.loopScheduled = false;
      if (this.loopRunning || this.closed) return;
      this.loopRunning = this.loop()
        .catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          this.loopRunning = undefined;
          if (!this.closed && (this.requests.queued > 0 || this.requests.queuedReads > 0 || this.raw.hasReady())) this.kick();
        });
    });
  }

  /** Proposes every queued request to the core; returns those appended, in log order. */
  private flushQueue(): PendingProposal[] {
    this.flushReads();
    const batch = this.requests.takeQueue();
    if (batch.length === 0) return batch;
    const appended: PendingProposal[] = [];
    for (const req of batch) {
      try {
        if (req.kind === 'normal') this.raw.propose(req.data!);
        else this.raw.proposeConfChange(req.change!);
        appended.push(req);
      } catch (err) {
        req.reject(this.translate(err));
      }
    }
    return appended;
  }

  /** Asks the core for one read index covering every read queued since the last batch. */
  private flushReads(): void {
    const batch = this.requests.takeReadBatch(this.ticks + this.timeoutTicks);
    if (batch === undefined) return;
    try {
      this.raw.readIndex(batch.context);
    } catch (err) {
      this.requests.removeRead(batch.key);
      batch.reject(this.translate(err));
    }
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      const appended = this.flushQueue();
      if (!this.raw.hasReady()) {
        if (appended.length > 0) throw new RaftInvariantError(`node ${this.id}: ${appended.length} proposals appended but no Ready`);
        return;
      }
      const rd = this.raw.ready();
      this.requests.track(rd, appended);
      await this.handleReady(rd);
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.hardState) {
      this.term = rd.hardState.term;
      this.commit = rd.hardState.commit;
    }
    if (rd.softState) this.updateSoftState(rd.softState.leader, rd.softState.role);
    // Committed entries that are already durable in this node's log (index <= the persisted last
    // index) are applied while this Ready's own writes are in flight: they are committed, so on a
    // majority of disks, and stored here, so nothing is acknowledged that a crash could lose.
    // This takes one fsync off the leader's acknowledgement path (etcd applies the same way).
    const committed = rd.committedEntries;
    let next = 0;
    if (!rd.snapshot && committed.length > 0) {
      // Entries this Ready rewrites (from its first entry on) are not durable yet, whatever the view holds.
      const first = rd.entries[0];
      const durable = first === undefined ? this.view.lastIndex() : Math.min(this.view.lastIndex(), first.index - 1);
      while (next < committed.length && committed[next]!.index <= durable) this.applyEntry(committed[next++]!);
    }
    this.requests.recordReadStates(rd.readStates);
    if (next > 0) this.requests.settleReads(this.applied);
    // 1. durable first, 2. then send — except on a leader, whose appends and heartbeats go out
    // while its own write is in flight (thesis §10.2.1; see Ready): the followers' fsyncs overlap
    // the leader's, and the core counts the leader's new entries only after advance().
    const sendFirst = this.role === 'leader';
    if (sendFirst && rd.messages.length > 0) this.transport.send(rd.messages);
    await persistReady(this.stores, this.view, rd);
    if (this.closed) return;
    if (!sendFirst && rd.messages.length > 0) this.transport.send(rd.messages);
    // 3. apply the rest.
    if (rd.snapshot) this.installSnapshot(rd.snapshot.meta.index, rd.snapshot.data, rd.snapshot.meta.confState);
    for (; next < committed.length; next++) this.applyEntry(committed[next]!);
    // 4. advance.
    this.raw.advance();
    for (const m of rd.messages) if (m.type === 'MsgSnap') this.raw.reportSnapshot(m.to, 'finish');
    this.requests.settleReads(this.applied);
    if (this.applied - this.snapshotIndex >= this.opts.snapshotThreshold) await this.takeSnapshot();
  }

  private updateSoftState(leader: NodeId | null, role: Role): void {
    const leaderChanged = leader !== this.leaderId;
    const roleChanged = role !== this.role;
    this.leaderId = leader;
    this.role = role;
    if (roleChanged) {
      this.events.emit('role-change', role);
      if (role !== 'leader') {
        // Queued (not yet appended) proposals cannot be appended any more.
        this.requests.rejectQueued(() => this.notLeader());
      }
    }
    if (leaderChanged) {
      this.events.emit('leader-change', leader, this.term);
      // A read forwarded to the old leader may be lost: ask again.
      if (leader !== null) {
        for (const context of this.requests.unansweredReads()) {
          try {
            this.raw.readIndex(context);
          } catch {
            // stays pending until the next leader or its deadline
          }
        }
      }
    }
  }

  private installSnapshot(index: number, data: Uint8Array, conf: ConfState): void {
    this.stateMachine.restore(data);
    this.applied = index;
    this.snapshotIndex = index;
    this.confState = conf;
    this.requests.coveredBySnapshot(index);
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    if (e.type === 'conf-change') {
      this.confState = this.raw.applyConfChange(decodeConfChange(e.data));
      this.applied = e.index;
      this.requests.settleEntry(e, { kind: 'conf', confState: this.confState });
    } else if (e.data.length > 0) {
      const result = this.stateMachine.apply(e.data, e.index);
      this.applied = e.index;
      this.requests.settleEntry(e, { kind: 'normal', result });
    } else {
      this.applied = e.index;
      this.requests.settleEntry(e, { kind: 'empty' });
    }
  }

  private async takeSnapshot(): Promise<void> {
    const index = this.applied;
    const data = this.stateMachine.snapshot();
    const snap = this.view.createSnapshot(index, this.confState, data);
    await this.stores.snapshots.save(snap);
    this.snapshotIndex = index;
    const compactTo = index - this.opts.snapshotTrailingEntries;
    if (compactTo >= this.view.firstIndex()) {
      this.view.compact(compactTo);
      const first = await this.stores.log.firstIndex();
      if (first > 0 && first <= compactTo) await this.stores.log.deleteRange(first, compactTo + 1);
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.failure = err;
    this.closed = true;
    if (this.tickHandle !== undefined) this.opts.timers.clearInterval(this.tickHandle);
    this.tickHandle = undefined;
    this.requests.rejectAll(new NodeFailedError(`node ${this.id}: stopped after a fatal error: ${err.message}`, { cause: err }));
    void this.transport.close().catch(() => {});
    try {
      if (this.events.listenerCount('failed') > 0) this.events.emit('failed', err);
    } catch {
      // a throwing listener must not turn into an unhandled rejection
    }
  }
}
