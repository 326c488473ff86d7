/**
 * The membership configuration and per-peer progress a node tracks (etcd's
 * tracker.ProgressTracker).
 */
import { Progress } from './progress';
import { jointVoteResult, type VoteResult } from './quorum';
import type { ConfState, NodeId } from './types';

/** A membership configuration, possibly joint. */
export interface TrackerConfig {
  /** C_new (or the only config when not joint). */
  incoming: Set<NodeId>;
  /** C_old while joint; empty otherwise. */
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  /** Outgoing voters that become learners when the joint config is left. */
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export function emptyConfig(): TrackerConfig {
  return { incoming: new Set(), outgoing: new Set(), learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

export function cloneConfig(c: TrackerConfig): TrackerConfig {
  return {
    incoming: new Set(c.incoming),
    outgoing: new Set(c.outgoing),
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

const sorted = (s: Iterable<NodeId>): NodeId[] => [...s].sort();

export function configToConfState(c: TrackerConfig): ConfState {
  return {
    voters: sorted(c.incoming),
    learners: sorted(c.learners),
    votersOutgoing: sorted(c.outgoing),
    learnersNext: sorted(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

export class ProgressTracker {
  private cfg: TrackerConfig = emptyConfig();
  private prs = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  /** Caches rebuilt when the config or the progress map is replaced. */
  private idsCache: NodeId[] | null = null;
  private incomingArr: NodeId[] = [];
  private outgoingArr: NodeId[] = [];
  private readonly scratch: number[] = [];

  get config(): TrackerConfig {
    return this.cfg;
  }

  /** Replaces the configuration (never mutate the sets of the current one in place). */
  set config(c: TrackerConfig) {
    this.cfg = c;
    this.incomingArr = [...c.incoming];
    this.outgoingArr = [...c.outgoing];
  }

  /** Progress per peer; replacing entries of the same ids in place is allowed, adding or removing ids is not (assign a new map). */
  get progress(): Map<NodeId, Progress> {
    return this.prs;
  }

  set progress(m: Map<NodeId, Progress>) {
    this.prs = m;
    this.idsCache = null;
  }

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return configToConfState(this.config);
  }

  isJoint(): boolean {
    return this.config.outgoing.size > 0;
  }

  isVoter(id: NodeId): boolean {
    return this.config.incoming.has(id) || this.config.outgoing.has(id);
  }

  /** Voters of both halves, sorted (deterministic iteration). */
  voterIds(): NodeId[] {
    return sorted(new Set([...this.config.incoming, ...this.config.outgoing]));
  }

  /** Every tracked peer, sorted (cached; do not mutate). */
  ids(): readonly NodeId[] {
    if (!this.idsCache) this.idsCache = sorted(this.prs.keys());
    return this.idsCache;
  }

  /** True when `self` is the only voter (learners aside). */
  isSingleton(self: NodeId): boolean {
    return this.config.incoming.size === 1 && this.config.outgoing.size === 0 && this.config.incoming.has(self);
  }

  /** Largest index replicated on a quorum (both majorities when joint). */
  committed(): number {
    return Math.min(this.majorityMatch(this.incomingArr), this.majorityMatch(this.outgoingArr));
  }

  /**
   * Highest index held by a majority of `voters` (+Infinity for an empty set,
   * so it never constrains a joint config). No allocation: every
   * acknowledgement calls it.
   */
  private majorityMatch(voters: readonly NodeId[]): number {
    const n = voters.length;
    if (n === 0) return Number.POSITIVE_INFINITY;
    const a = this.scratch;
    a.length = n;
    for (let i = 0; i < n; i++) {
      const v = this.prs.get(voters[i] as NodeId)?.match ?? 0;
      // insertion sort, ascending
      let j = i - 1;
      while (j >= 0 && (a[j] as number) > v) {
        a[j + 1] = a[j] as number;
        j--;
      }
      a[j + 1] = v;
    }
    return a[n - (Math.floor(n / 2) + 1)] as number;
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return jointVoteResult(this.config.incoming, this.config.outgoing, this.votes);
  }

  /** Whether `acks` reach a quorum of the current config. */
  hasQuorum(acks: ReadonlySet<NodeId>): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    return jointVoteResult(this.config.incoming, this.config.outgoing, votes) === 'won';
  }

  /** Whether a quorum of voters was recently active (check-quorum, thesis §6.2). */
  quorumActive(self: NodeId): boolean {
    const active = new Set<NodeId>();
    for (const [id, pr] of this.progress) {
      if (id === self || pr.recentActive) active.add(id);
    }
    return this.hasQuorum(active);
  }
}
