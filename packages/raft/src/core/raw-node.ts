/**
 * The public face of the pure core (etcd's RawNode): feed it ticks and
 * messages, collect a {@link Ready}, persist/send/apply it, call
 * {@link RawNode.advance}. No timers, no I/O, no Promises.
 */
import { encodeConfChange } from './conf-change-codec';
import { resolveConfig, type RawNodeConfig } from './config';
import { ProposalDroppedError, RaftUsageError } from './errors';
import type { ProgressState } from './progress';
import { leaderPersisted } from './leader';
import { Raft } from './raft';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Ready, Role, SoftState } from './types';

/** A snapshot of a node's state for observers. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly leader: NodeId | null;
  readonly role: Role;
  readonly confState: ConfState;
  /** On the leader only: each peer's replication progress. */
  readonly progress?: Record<NodeId, { match: number; next: number; state: ProgressState }>;
}

/** Local message types that only the core itself generates (not accepted by `step`). */
const LOCAL_ONLY = new Set(['MsgHup', 'MsgBeat', 'MsgCheckQuorum', 'MsgUnreachable', 'MsgSnapStatus', 'MsgProp']);

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | null = null;
  private readonly maxCommittedSize: number | undefined;

  /**
   * @param config - validated with zod
   * @throws InvalidOptionsError (from `@weft/interface`) naming the invalid field
   */
  constructor(config: RawNodeConfig) {
    const cfg = resolveConfig(config);
    this.maxCommittedSize = cfg.maxCommittedSizePerReady;
    this.raft = new Raft(cfg);
    const storage = cfg.storage;
    const { hardState } = storage.initialState();
    this.prevHard = hardState;
    if (cfg.peers && cfg.peers.length > 0 && storage.lastIndex() === 0 && hardState.term === 0) {
      this.raft.bootstrap(cfg.peers);
    }
    this.prevSoft = this.raft.softState();
  }

  /** This node's id. */
  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances the logical clock by one tick (election and heartbeat timeouts are counted in ticks). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (skipping the timeout). Ignored on a leader or a non-voter. */
  campaign(): void {
    this.raft.step({ type: 'MsgHup', from: this.raft.id, to: this.raft.id, term: 0 });
  }

  /**
   * Delivers a message from a peer. Messages for another node, and messages
   * that this node has to drop (old terms, stale responses), are ignored.
   * @throws RaftUsageError for message types only the core itself generates (MsgHup, MsgBeat, MsgProp, ...)
   */
  step(msg: Message): void {
    if (LOCAL_ONLY.has(msg.type)) {
      throw new RaftUsageError(`step: ${msg.type} is local; use tick(), campaign(), propose() or report*()`);
    }
    if (msg.to !== this.raft.id) return;
    try {
      this.raft.step(msg);
    } catch (e) {
      // A forwarded read request that reaches a node without a leader is dropped
      // (the requester times out and retries).
      if (e instanceof ProposalDroppedError && msg.from !== this.raft.id) return;
      throw e;
    }
  }

  /**
   * Proposes `data` as a normal entry. The buffer is owned by the log afterwards.
   * @throws ProposalDroppedError when this node is not the leader (with the known leader as a hint), a leadership transfer is in progress, or it was removed
   */
  propose(data: Uint8Array): void {
    this.raft.step({
      type: 'MsgProp',
      from: this.raft.id,
      to: this.raft.id,
      term: 0,
      entries: [{ term: 0, index: 0, type: 'normal', data }],
    });
  }

  /**
   * Proposes a membership change. Once committed, the driver applies it with
   * {@link applyConfChange}.
   * @throws ProposalDroppedError as {@link propose}; ConfChangeRejectedError when another change is pending, the config is joint (or not joint for a leave), the leader has not applied an entry of its term yet, or the change is invalid
   */
  proposeConfChange(cc: ConfChange): void {
    this.raft.step({
      type: 'MsgProp',
      from: this.raft.id,
      to: this.raft.id,
      term: 0,
      entries: [{ term: 0, index: 0, type: 'conf-change', data: encodeConfChange(cc) }],
    });
  }

  /**
   * Requests a linearizable read point (ReadIndex, thesis §6.4). The answer
   * appears in a later `Ready.readStates` with the same `context`; serve the
   * read once the state machine applied `index`. A follower forwards the
   * request to its leader; requests can be lost, so callers time out.
   * Use a unique context per request.
   * @throws ProposalDroppedError when no leader is known
   */
  readIndex(context: Uint8Array): void {
    this.raft.step({ type: 'MsgReadIndex', from: this.raft.id, to: this.raft.id, term: 0, context });
  }

  /** Asks the leader to hand leadership to `to` (thesis §3.10). Forwarded when called on a follower. */
  transferLeader(to: NodeId): void {
    this.raft.step({ type: 'MsgTransferLeader', from: to, to: this.raft.id, term: 0 });
  }

  /**
   * Applies a committed conf-change entry's change to the configuration.
   * Call it while applying that entry (in log order).
   * @returns the resulting membership (persist it with the next snapshot)
   * @throws RaftInvariantError if the change is invalid for the current config (cannot happen for entries this library committed)
   */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Tells the leader that the last message to `id` could not be delivered (it falls back to probing). */
  reportUnreachable(id: NodeId): void {
    this.raft.step({ type: 'MsgUnreachable', from: id, to: this.raft.id, term: 0 });
  }

  /** Tells the leader how sending a snapshot to `id` ended. */
  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    this.raft.step({ type: 'MsgSnapStatus', from: id, to: this.raft.id, term: 0, reject: status === 'failure' });
  }

  /** Whether {@link ready} has anything. False while a Ready is outstanding (not yet advanced). */
  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    const soft = r.softState();
    if (soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role) return true;
    if (!sameHardState(r.hardState(), this.prevHard)) return true;
    if (r.log.unstable.snapshot) return true;
    if (r.msgs.length > 0 || r.log.unstable.entries.length > 0 || r.readStates.length > 0) return true;
    return r.log.hasNextCommittedEntries();
  }

  /**
   * Collects what the driver must do, in the order documented on {@link Ready}:
   * persist snapshot/entries/hard state, then send messages, then apply, then
   * call {@link advance}. The node may keep stepping messages meanwhile, but
   * `ready()` may not be called again before `advance()`.
   * @throws RaftUsageError if the previous Ready was not advanced
   */
  ready(): Ready {
    if (this.outstanding) throw new RaftUsageError('ready: the previous Ready was not advanced');
    const r = this.raft;
    r.flushProposals();
    const entries = r.log.unstableEntries();
    const soft = r.softState();
    const hard = r.hardState();
    const rd: {
      -readonly [K in keyof Ready]: Ready[K];
    } = {
      entries,
      committedEntries: r.log.nextCommittedEntries(this.maxCommittedSize),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote,
    };
    if (soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role) {
      rd.softState = soft;
      this.prevSoft = soft;
    }
    if (!sameHardState(hard, this.prevHard)) {
      rd.hardState = hard;
      this.prevHard = hard;
    }
    if (r.log.unstable.snapshot) {
      rd.snapshot = r.log.unstable.snapshot;
      rd.mustSync = true;
    }
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted) r.log.applying = lastCommitted.index;
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  /**
   * Acknowledges the last Ready: its snapshot and entries are persisted and
   * its committed entries applied. May propose the automatic leave of a joint
   * configuration.
   * @throws RaftUsageError if no Ready is outstanding
   */
  advance(): void {
    const rd = this.outstanding;
    if (!rd) throw new RaftUsageError('advance: no outstanding Ready');
    this.outstanding = null;
    const r = this.raft;
    const last: Entry | undefined = rd.entries[rd.entries.length - 1];
    if (last) {
      r.log.stableTo(last.index, last.term);
      // Only now does a leader count its own new entries towards the commit quorum.
      if (r.log.matchTerm(last.index, last.term)) leaderPersisted(r, last.index);
    }
    if (rd.snapshot) r.log.stableSnapTo(rd.snapshot.meta.index);
    let applied = 0;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted) applied = lastCommitted.index;
    else if (rd.snapshot) applied = rd.snapshot.meta.index;
    if (applied > r.log.applied) r.appliedTo(applied);
  }

  /** Current state (progress included on the leader). */
  status(): RaftStatus {
    const r = this.raft;
    const base = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      leader: r.lead,
      role: r.role,
      confState: r.trk.confState(),
    };
    if (r.role !== 'leader') return base;
    const progress: Record<NodeId, { match: number; next: number; state: ProgressState }> = {};
    for (const [id, pr] of r.trk.progress) progress[id] = { match: pr.match, next: pr.next, state: pr.state };
    return { ...base, progress };
  }
}
