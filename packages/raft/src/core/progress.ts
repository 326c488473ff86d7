/**
 * The leader's view of one follower (etcd's tracker.Progress, Raft thesis
 * §3.5 / §10.2): what is known to match, what to send next, and in which of
 * three states replication to it is.
 *
 * - `probe`: the leader does not know where the follower's log matches; it
 *   sends one MsgApp at a time and waits for the answer (or a heartbeat
 *   response) before sending the next.
 * - `replicate`: the follower is known to match up to `match`; the leader
 *   pipelines MsgApps optimistically (advancing `next` on send), bounded by
 *   the in-flight window.
 * - `snapshot`: a snapshot is being sent; nothing else is sent until it
 *   reports back.
 */
import { Inflights } from './inflights';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In `snapshot` state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** In `snapshot` state: election timeouts elapsed without the send being reported or acknowledged. */
  snapshotRounds = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In probe: a message is outstanding; in replicate: the window is full. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(match: number, next: number, maxInflight: number, maxInflightBytes: number, isLearner: boolean) {
    this.match = match;
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.snapshotRounds = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Bookkeeping after sending a MsgApp with `entries` entries of `bytes` bytes. */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    }
  }

  /** An acknowledgement up to `n` arrived; returns false if it was stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A MsgApp at `rejected` was refused; `matchHint` is the follower's guess of
   * the highest index that could match. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** True when the leader must not send this follower a MsgApp now. */
  isPaused(): boolean {
    if (this.state === 'snapshot') return true;
    return this.msgAppFlowPaused;
  }
}
