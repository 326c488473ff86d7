/**
 * The Raft protocol state machine (etcd's `raft` struct). Synchronous and
 * deterministic: inputs are `step(message)` and `tick()`; outputs are the
 * log, the hard state and the outbox `msgs`, collected by {@link RawNode}
 * into a Ready. Section numbers refer to the Raft paper (Ongaro & Ousterhout,
 * 2014) and the thesis (Ongaro, 2014).
 *
 * This file holds the state, roles, timers, elections, the term rules of
 * `step` and configuration switching; the per-role handlers live in
 * leader.ts, follower.ts and replication.ts as functions over this class, so
 * its members are not private (the class is internal to the core: only
 * RawNode is exported).
 */
import { InvalidOptionsError } from '@weft/interface';
import { decodeConfChange, encodeConfChange } from './conf-change-codec';
import { ConfChanger, configFromConfState, type ChangeResult } from './conf-changer';
import type { ResolvedConfig } from './config';
import { ConfChangeDecodeError, InvalidConfChangeError, RaftInvariantError } from './errors';
import { stepCandidate, stepFollower } from './follower';
import { sendTimeoutNow, stepLeader } from './leader';
import { Progress } from './progress';
import { RaftLog } from './raft-log';
import { ReadOnly } from './read-only';
import { bcastAppend, expireSnapshots, maybeSendAppend, sendAppend } from './replication';
import { ProgressTracker, configToConfState, type TrackerConfig } from './tracker';
import type { ConfChange, ConfState, Entry, HardState, Message, MessageType, NodeId, ReadState, Role, SoftState } from './types';

const EMPTY = new Uint8Array(0);
/** Context of MsgVote sent on a leadership transfer: voters in a leader lease grant it anyway. */
export const TRANSFER_CONTEXT = new TextEncoder().encode('transfer');

type CampaignType = 'pre-election' | 'election' | 'transfer';

function isTransfer(ctx: Uint8Array | undefined): boolean {
  if (!ctx || ctx.length !== TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

function voteRespType(t: MessageType): MessageType {
  return t === 'MsgPreVote' ? 'MsgPreVoteResp' : 'MsgVoteResp';
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId | null = null;
  role: Role = 'follower';
  lead: NodeId | null = null;
  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  /** Outbox: messages for the next Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  isLearner = false;
  /** Node a leadership transfer is going to, or null. */
  leadTransferee: NodeId | null = null;
  /** Index of the last conf-change entry proposed; no new one until it is applied. */
  pendingConfIndex = 0;
  readOnly = new ReadOnly();
  /** ReadIndex requests received before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  /** This leader accepted a conf change after which it is not an incoming voter. */
  selfRemovalPending = false;
  /** Proposals were appended since the last Ready; MsgApps for them are sent when it is collected. */
  pendingBcast = false;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly maxMsgSize: number;
  readonly random: () => number;

  constructor(cfg: ResolvedConfig) {
    this.id = cfg.id;
    this.electionTimeout = cfg.electionTick;
    this.heartbeatTimeout = cfg.heartbeatTick;
    this.checkQuorum = cfg.checkQuorum;
    this.preVote = cfg.preVote;
    this.maxMsgSize = cfg.maxSizePerMsg;
    this.random = cfg.random;
    this.log = new RaftLog(cfg.storage);
    this.trk = new ProgressTracker(cfg.maxInflightMsgs, cfg.maxInflightBytes);
    const { hardState, confState } = cfg.storage.initialState();
    this.restoreConfig(confState);
    if (hardState.term !== 0 || hardState.vote !== null || hardState.commit !== 0) this.loadState(hardState);
    if (cfg.applied > 0) {
      if (cfg.applied < this.log.applied || cfg.applied > this.log.committed) {
        throw new InvalidOptionsError(
          'applied',
          `RawNode: option "applied" must be within [${this.log.applied}, ${this.log.committed}] (snapshot index .. commit) (got ${cfg.applied})`,
        );
      }
      this.log.appliedTo(cfg.applied);
    }
    this.becomeFollower(this.term, null);
  }

  // ---------------------------------------------------------------- state

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftInvariantError(`hard state commit ${hs.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Bootstraps an empty node as a member of `peers` (etcd's Bootstrap): conf-change entries 1..n at term 1, committed. */
  bootstrap(peers: readonly NodeId[]): void {
    const sorted = [...new Set(peers)].sort();
    const ents: Entry[] = sorted.map((p, i) => ({
      term: 1,
      index: i + 1,
      type: 'conf-change',
      data: encodeConfChange({ changes: [{ type: 'add-voter', nodeId: p }] }),
    }));
    this.becomeFollower(1, null);
    this.log.append(ents);
    this.log.committed = ents.length;
    for (const p of sorted) this.applyConfChange({ changes: [{ type: 'add-voter', nodeId: p }] });
  }

  restoreConfig(cs: ConfState): void {
    const cfg = configFromConfState(cs);
    const prs = new Map<NodeId, Progress>();
    const next = this.log.lastIndex() + 1;
    for (const id of new Set([...cfg.incoming, ...cfg.outgoing, ...cfg.learners, ...cfg.learnersNext])) {
      prs.set(id, this.newProgress(0, next, cfg.learners.has(id)));
    }
    this.switchToConfig({ config: cfg, progress: prs });
  }

  newProgress(match: number, next: number, isLearner: boolean): Progress {
    return new Progress(match, next, this.trk.maxInflight, this.trk.maxInflightBytes, isLearner);
  }

  send(m: Message): void {
    this.msgs.push(m);
  }

  // ---------------------------------------------------------------- roles

  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.trk.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      const fresh = this.newProgress(id === this.id ? last : 0, last + 1, pr.isLearner);
      this.trk.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.pendingBcast = false;
    this.selfRemovalPending = false;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  resetRandomizedElectionTimeout(): void {
    const r = this.random();
    if (!(r >= 0 && r < 1)) throw new RaftInvariantError(`config random: must return a number in [0, 1) (got ${r})`);
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(r * this.electionTimeout);
  }

  becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  becomeCandidate(): void {
    if (this.role === 'leader') throw new RaftInvariantError('invalid transition leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomePreCandidate(): void {
    if (this.role === 'leader') throw new RaftInvariantError('invalid transition leader -> pre-candidate');
    // Pre-vote (thesis §9.6) changes neither term nor vote.
    this.trk.resetVotes();
    this.lead = null;
    this.role = 'pre-candidate';
  }

  becomeLeader(): void {
    if (this.role === 'follower') throw new RaftInvariantError('invalid transition follower -> leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.trk.progress.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // §5.4.2 / §8: an empty entry of the new term lets the leader commit
    // (and learn the commit index of) earlier entries.
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: EMPTY }]);
    // Conf changes are refused until everything up to and including that
    // empty entry is applied: a new leader commits an entry of its own term
    // before changing membership (thesis §4.1, the single-server bug fix), and
    // any conf change it inherited is applied first.
    this.pendingConfIndex = this.log.lastIndex();
    // If an inherited, not yet applied conf change takes us out of the
    // voters, stop growing the log right away (see leaving()).
    this.selfRemovalPending = this.inheritedSelfRemoval();
  }

  /** Whether the conf changes in the log after `applied` leave this node outside the incoming voters. */
  inheritedSelfRemoval(): boolean {
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    const hi = this.log.lastIndex();
    if (lo > hi) return false;
    let config = this.trk.config;
    let progress: ReadonlyMap<NodeId, Progress> = this.trk.progress;
    let changed = false;
    for (const e of this.log.slice(lo, hi + 1)) {
      if (e.type !== 'conf-change') continue;
      try {
        const r = new ConfChanger(config, progress, hi, this.trk.maxInflight, this.trk.maxInflightBytes).change(decodeConfChange(e.data));
        config = r.config;
        progress = r.progress;
        changed = true;
      } catch (err) {
        if (err instanceof InvalidConfChangeError || err instanceof ConfChangeDecodeError) return false;
        throw err;
      }
    }
    return changed && !config.incoming.has(this.id);
  }

  /** Whether this node may campaign: a voter with no snapshot waiting to be persisted. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.trk.isVoter(this.id) && this.log.unstable.snapshot === undefined;
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step({ type: 'MsgHup', from: this.id, to: this.id, term: 0 });
    }
  }

  tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step({ type: 'MsgCheckQuorum', from: this.id, to: this.id, term: 0 });
      if (this.role === 'leader') expireSnapshots(this);
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.role === 'leader' && this.leadTransferee !== null) this.leadTransferee = null;
      // A leader that is no longer a voter (removed, transfer failed) steps down.
      if (this.role === 'leader' && !this.trk.isVoter(this.id)) this.becomeFollower(this.term, null);
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step({ type: 'MsgBeat', from: this.id, to: this.id, term: 0 });
    }
  }

  // ---------------------------------------------------------------- elections

  hup(t: CampaignType): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // A conf change that is committed but not applied may remove us or change
    // the quorum: campaign only after applying it.
    if (this.log.committed > this.log.applied) {
      const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
      const pending = lo <= this.log.committed ? this.log.slice(lo, this.log.committed + 1) : [];
      if (pending.some((e) => e.type === 'conf-change')) return;
    }
    this.campaign(t);
  }

  campaign(t: CampaignType): void {
    let term: number;
    let type: MessageType;
    if (t === 'pre-election') {
      this.becomePreCandidate();
      type = 'MsgPreVote';
      term = this.term + 1; // the term we would campaign in
    } else {
      this.becomeCandidate();
      type = 'MsgVote';
      term = this.term;
    }
    // Our own vote.
    if (this.poll(this.id, true) === 'won') {
      if (t === 'pre-election') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      const m: Mutable<Message> = { type, from: this.id, to: id, term, index: lastIndex, logTerm: lastTerm };
      if (t === 'transfer') m.context = TRANSFER_CONTEXT;
      this.send(m);
    }
  }

  poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes();
  }

  // ---------------------------------------------------------------- step

  /** Processes one message (local ones have term 0). Throws only {@link ProposalDroppedError} for proposals. */
  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = isTransfer(m.context);
        const inLease = this.checkQuorum && this.lead !== null && this.electionElapsed < this.electionTimeout;
        // Leader lease (thesis §4.2.3 / §6.2): a node that heard from a leader
        // within the minimum election timeout ignores votes, so a node that
        // was partitioned away cannot disrupt a working leader.
        if (!force && inLease) return;
      }
      if (m.type === 'MsgPreVote') {
        // Never change term in response to a pre-vote.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // A granted pre-vote carries the term we would campaign in; the term
        // changes only if the pre-election is won.
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        // §5.1: a higher term makes us a follower of the sender.
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if (m.type === 'MsgHeartbeat' || m.type === 'MsgApp') {
        // §5.1: the request is rejected and the reply carries our term, so a
        // stale leader learns it and steps down. (etcd answers only with
        // pre-vote or check-quorum on, relying otherwise on this node's own
        // campaigns to spread its term; a learner never campaigns, so it
        // could ignore a lower-term leader forever.) Marked as a rejection of
        // index 0 so that it never moves the receiver's progress.
        this.send({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term, index: 0, reject: true, rejectHint: 0 });
      } else if (m.type === 'MsgPreVote' || m.type === 'MsgVote') {
        // §5.1: reject with our term so the candidate catches up with it.
        // (etcd drops a stale MsgVote silently; then a candidate outside the
        // config view of the nodes driving the term up never learns it.)
        this.send({ type: voteRespType(m.type), from: this.id, to: m.from, term: this.term, reject: true });
      }
      // §5.1: otherwise a message from an older term is ignored.
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(this.preVote ? 'pre-election' : 'election');
        return;
      case 'MsgVote':
      case 'MsgPreVote': {
        // §5.2: at most one vote per term, first come first served; §5.4.1:
        // only for a candidate whose log is at least as up to date.
        const canVote =
          this.vote === m.from ||
          (this.vote === null && this.lead === null) ||
          (m.type === 'MsgPreVote' && m.term > this.term);
        if (canVote && this.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
          this.send({ type: voteRespType(m.type), from: this.id, to: m.from, term: m.term });
          if (m.type === 'MsgVote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send({ type: voteRespType(m.type), from: this.id, to: m.from, term: this.term, reject: true });
        }
        return;
      }
      default:
        if (this.role === 'leader') stepLeader(this, m);
        else if (this.role === 'follower') stepFollower(this, m);
        else stepCandidate(this, m);
    }
  }

  // ---------------------------------------------------------------- leader



  /** Called when a Ready is collected: sends the MsgApps deferred by proposals. */
  flushProposals(): void {
    if (!this.pendingBcast) return;
    this.pendingBcast = false;
    if (this.role === 'leader') bcastAppend(this);
  }












  appendEntries(es: readonly Entry[]): void {
    let li = this.log.lastIndex();
    const ents: Entry[] = es.map((e) => ({ term: this.term, index: ++li, type: e.type, data: e.data }));
    this.log.append(ents);
    // The leader's own entries count towards the quorum only once they are on
    // its disk (RawNode.advance → persistedByLeader), so its appends may go out
    // while its own write is in flight (thesis §10.2.1) without an entry being
    // committed that only a minority holds durably.
  }

  /** §5.3/§5.4.2: advance the commit index to what a quorum holds, if that entry is of this term. */
  maybeCommit(): boolean {
    const mci = this.trk.committed();
    if (!Number.isFinite(mci)) return false;
    return this.log.maybeCommit(mci, this.term);
  }







  // ---------------------------------------------------------------- candidate


  // ---------------------------------------------------------------- follower






  // ---------------------------------------------------------------- config

  changer(): ConfChanger {
    return new ConfChanger(
      this.trk.config,
      this.trk.progress,
      this.log.lastIndex(),
      this.trk.maxInflight,
      this.trk.maxInflightBytes,
    );
  }

  /** Applies a committed conf change (called by the driver when it applies the entry). */
  applyConfChange(cc: ConfChange): ConfState {
    let r: ChangeResult;
    try {
      r = this.changer().change(cc);
    } catch (e) {
      if (e instanceof InvalidConfChangeError) {
        throw new RaftInvariantError(`applying a committed conf change failed: ${e.message}`);
      }
      throw e;
    }
    return this.switchToConfig(r);
  }

  switchToConfig(r: ChangeResult): ConfState {
    const oldVoters = new Set([...this.trk.config.incoming, ...this.trk.config.outgoing]);
    this.trk.config = r.config;
    this.trk.progress = r.progress;
    for (const [id, pr] of r.progress) pr.isLearner = r.config.learners.has(id);
    const cs = configToConfState(r.config);
    const self = this.trk.progress.get(this.id);
    this.isLearner = self !== undefined && self.isLearner;
    if ((self === undefined || this.isLearner) && this.role === 'leader') {
      // A leader removed (or demoted) by a committed change steps down
      // (thesis §4.2.2) — after handing leadership to a voter of the new
      // configuration if it can (thesis §3.10): the voters may not know yet
      // that the change committed, and one of them may need the old
      // leader's vote, which it only gets with a log as long as the leader's.
      if (!this.transferOnRemoval(oldVoters)) this.becomeFollower(this.term, null);
      return cs;
    }
    if (this.role !== 'leader' || cs.voters.length === 0) return cs;
    // The quorum may have changed: maybe commit more, and bring new peers up to date.
    if (this.maybeCommit()) bcastAppend(this);
    else for (const id of this.trk.ids()) if (id !== this.id) maybeSendAppend(this, id, false);
    if (this.leadTransferee !== null && !this.trk.isVoter(this.leadTransferee)) this.leadTransferee = null;
    return cs;
  }

  /**
   * Starts a leadership transfer from this (removed or demoted) leader to the
   * best voter of the new configuration: one that was a voter before (it
   * knows it may campaign), then the most caught up. Returns false if there
   * is none. Proposals are dropped meanwhile; the leader steps down when the
   * target takes over or after an election timeout.
   */
  transferOnRemoval(oldVoters: ReadonlySet<NodeId>): boolean {
    const match = (id: NodeId): number => this.trk.progress.get(id)?.match ?? 0;
    const targets = [...this.trk.config.incoming].filter((id) => id !== this.id && this.trk.progress.has(id));
    if (targets.length === 0) return false;
    targets.sort(
      (a, b) => Number(oldVoters.has(b)) - Number(oldVoters.has(a)) || match(b) - match(a) || (a < b ? -1 : a > b ? 1 : 0),
    );
    const to = targets[0] as NodeId;
    this.electionElapsed = 0;
    this.leadTransferee = to;
    if (match(to) === this.log.lastIndex()) sendTimeoutNow(this, to);
    else sendAppend(this, to);
    return true;
  }

  /** Hook from `advance()`: the driver applied up to `index`. Proposes leaving an auto-leave joint config. */
  appliedTo(index: number): void {
    const old = this.log.applied;
    this.log.appliedTo(index);
    if (this.role === 'leader' && this.trk.config.autoLeave && index >= this.pendingConfIndex && index > old) {
      // Auto-leave (thesis §4.3): once C_old,new is applied, propose C_new.
      const data = encodeConfChange({ changes: [] });
      this.pendingConfIndex = this.log.lastIndex() + 1;
      this.selfRemovalPending = !this.trk.config.incoming.has(this.id);
      this.appendEntries([{ term: 0, index: 0, type: 'conf-change', data }]);
      bcastAppend(this);
    }
  }

  /** Current configuration (for tests and status). */
  config(): TrackerConfig {
    return this.trk.config;
  }
}
