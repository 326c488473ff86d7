/**
 * Sending entries, snapshots and heartbeats from the leader to its followers,
 * driven by each follower's {@link Progress} state. Functions over the
 * {@link Raft} state.
 */
import { CompactedError, RaftInvariantError, UnavailableError } from './errors';
import type { Progress } from './progress';
import type { Raft } from './raft';
import { entrySize } from './raft-log';
import type { Entry, Message, NodeId } from './types';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Election timeouts a snapshot send may stay unreported before it is considered failed. */
const SNAPSHOT_TIMEOUT_ROUNDS = 3;

/**
 * A snapshot send that was neither reported (`reportSnapshot`) nor
 * acknowledged within SNAPSHOT_TIMEOUT_ROUNDS election timeouts is treated
 * as failed, so a lost MsgSnap does not stall that follower forever.
 */
export function expireSnapshots(r: Raft): void {
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id || pr.state !== 'snapshot') continue;
    if (++pr.snapshotRounds < SNAPSHOT_TIMEOUT_ROUNDS) continue;
    pr.pendingSnapshot = 0;
    pr.becomeProbe();
  }
}

/** Sends entries (or a snapshot) to every peer whose progress allows it. */
export function bcastAppend(r: Raft): void {
  for (const id of r.trk.ids()) {
    if (id === r.id) continue;
    sendAppend(r, id);
    // Pipelining: a replicating follower gets further messages up to its in-flight window.
    fillPipeline(r, id);
  }
}

/** Sends a heartbeat to every peer, carrying the newest pending ReadIndex context (or `ctx`). */
export function bcastHeartbeat(r: Raft, ctx?: Uint8Array): void {
  const context = ctx ?? r.readOnly.lastPendingContext();
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id) continue;
    const m: Mutable<Message> = {
      type: 'MsgHeartbeat',
      from: r.id,
      to: id,
      term: r.term,
      // Never tell a follower to commit past what it is known to hold.
      commit: Math.min(pr.match, r.log.committed),
    };
    if (context) m.context = context;
    r.send(m);
  }
}

/** Sends more MsgApps to `to` while it is replicating, has entries to receive and window room. */
export function fillPipeline(r: Raft, to: NodeId): void {
  let guard = r.trk.maxInflight + 1;
  while (guard-- > 0 && maybeSendAppend(r, to, false)) {
    /* sent one more */
  }
}

/** Sends `to` a MsgApp (possibly empty, as a probe) or a snapshot, unless its progress is paused. */
export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/** Sends entries (or a snapshot) to `to` if its progress allows. Returns whether a message was sent. */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  let prevTerm: number;
  let ents: Entry[];
  try {
    prevTerm = r.log.term(prevIndex);
    ents = pr.state === 'replicate' && pr.inflights.full() ? [] : r.log.entriesFrom(pr.next, r.maxMsgSize);
  } catch (e) {
    if (e instanceof CompactedError || (e instanceof UnavailableError && prevIndex < r.log.firstIndex())) {
      return sendSnapshot(r, to, pr);
    }
    throw e;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  let bytes = 0;
  for (const e of ents) bytes += entrySize(e);
  r.send({
    type: 'MsgApp',
    from: r.id,
    to,
    term: r.term,
    index: prevIndex,
    logTerm: prevTerm,
    entries: ents,
    commit: r.log.committed,
  });
  pr.sentEntries(ents.length, bytes);
  return true;
}

function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  // Only to a follower we heard from recently: a snapshot is expensive.
  if (!pr.recentActive) return false;
  const snap = r.log.snapshot();
  if (snap.meta.index === 0) throw new RaftInvariantError('need a non-empty snapshot to catch up a follower');
  r.send({ type: 'MsgSnap', from: r.id, to, term: r.term, snapshot: snap });
  pr.becomeSnapshot(snap.meta.index);
  return true;
}
