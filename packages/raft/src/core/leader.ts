/**
 * The leader's side of the protocol: proposals (with the conf-change rules),
 * acknowledgements, ReadIndex, leadership transfer. Functions over the
 * {@link Raft} state (split out of raft.ts to keep files small).
 */
import { decodeConfChange } from './conf-change-codec';
import { isLeaveJoint, type ChangeResult } from './conf-changer';
import { ConfChangeRejectedError, InvalidConfChangeError, ProposalDroppedError, RaftInvariantError } from './errors';
import type { Progress } from './progress';
import type { Raft } from './raft';
import { bcastAppend, bcastHeartbeat, fillPipeline, sendAppend } from './replication';
import type { ConfChange, Message, NodeId } from './types';

const EMPTY = new Uint8Array(0);

/** Handles a message (local or from a peer) while leader. Throws ProposalDroppedError / ConfChangeRejectedError for refused proposals. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'MsgBeat':
      bcastHeartbeat(r);
      return;
    case 'MsgCheckQuorum':
      if (!r.trk.quorumActive(r.id)) {
        r.becomeFollower(r.term, null);
        return;
      }
      for (const [id, pr] of r.trk.progress) pr.recentActive = id === r.id;
      return;
    case 'MsgProp':
      leaderPropose(r, m);
      return;
    case 'MsgReadIndex':
      if (!r.trk.isVoter(r.id)) {
        throw new ProposalDroppedError(`raft ${r.id}: read index dropped: this leader is no longer a voter`, null);
      }
      if (r.trk.isSingleton(r.id)) {
        respondReadIndex(r, m, r.log.committed);
        return;
      }
      // §6.4: the leader must know the commit index of its term first.
      if (!committedEntryInCurrentTerm(r)) {
        r.pendingReadIndexMessages.push(m);
        return;
      }
      startReadIndex(r, m);
      return;
    default:
      break;
  }
  const pr = r.trk.progress.get(m.from);
  if (!pr) return;
  switch (m.type) {
    case 'MsgAppResp':
      handleAppendResponse(r, m, pr);
      return;
    case 'MsgHeartbeatResp':
      handleHeartbeatResponse(r, m, pr);
      return;
    case 'MsgSnapStatus':
      if (pr.state !== 'snapshot') return;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // Wait for a MsgAppResp or heartbeat response before probing again.
      pr.msgAppFlowPaused = true;
      return;
    case 'MsgUnreachable':
      if (pr.state === 'replicate') pr.becomeProbe();
      return;
    case 'MsgTransferLeader':
      handleTransferLeader(r, m.from, pr);
      return;
    default:
      return;
  }
}

function leaderPropose(r: Raft, m: Message): void {
  const ents = m.entries ?? [];
  if (ents.length === 0) throw new RaftInvariantError('MsgProp without entries');
  if (!r.trk.progress.has(r.id)) {
    throw new ProposalDroppedError(`raft ${r.id}: proposal dropped: this leader was removed from the configuration`, null);
  }
  if (r.leadTransferee !== null) {
    throw new ProposalDroppedError(
      `raft ${r.id}: proposal dropped: leadership transfer to ${r.leadTransferee} in progress`,
      r.id,
    );
  }
  if (leaving(r) && ents.some((e) => e.type === 'normal')) {
    // A leader on its way out of the voters stops growing its log, so that
    // once it steps down its log is no longer than that of the voters which
    // acknowledged its removal, and they can win its vote (otherwise a
    // two-voter cluster whose survivor has not learnt the commit index would
    // wait for a vote it can never get).
    throw new ProposalDroppedError(`raft ${r.id}: proposal dropped: this leader is leaving the voters`, null);
  }
  let confIndex = 0;
  let result: ChangeResult | undefined;
  ents.forEach((e, i) => {
    if (e.type !== 'conf-change') return;
    if (confIndex !== 0) throw new ConfChangeRejectedError('only one conf change per proposal', r.id);
    const cc = decodeConfChange(e.data);
    const res = confChangeRefusal(r, cc);
    if (typeof res === 'string') throw new ConfChangeRejectedError(`raft ${r.id}: conf change rejected: ${res}`, r.id);
    result = res;
    confIndex = r.log.lastIndex() + i + 1;
  });
  if (confIndex !== 0) r.pendingConfIndex = confIndex;
  if (result) r.selfRemovalPending = !result.config.incoming.has(r.id);
  r.appendEntries(ents);
  // Messages leave only with the next Ready: replicate once then, so that
  // every proposal made until then travels in one MsgApp per follower.
  r.pendingBcast = true;
}

/** Whether a pending (not yet applied) conf change takes this leader out of the incoming voters. */
function leaving(r: Raft): boolean {
  return r.selfRemovalPending && r.pendingConfIndex > r.log.applied;
}

/** Why the leader refuses `cc` now, or the resulting configuration if it accepts it. */
function confChangeRefusal(r: Raft, cc: ConfChange): string | ChangeResult {
  if (r.pendingConfIndex > r.log.applied) {
    return `a previous conf change (index ${r.pendingConfIndex}) or an entry of this term is not applied yet (applied ${r.log.applied})`;
  }
  const joint = r.trk.isJoint();
  const leave = isLeaveJoint(cc);
  if (joint && !leave) return 'the configuration is joint: leave it first';
  if (!joint && leave) return 'not in a joint configuration';
  try {
    return r.changer().change(cc);
  } catch (e) {
    if (e instanceof InvalidConfChangeError) return e.message;
    throw e;
  }
}

function committedEntryInCurrentTerm(r: Raft): boolean {
  return r.log.termOrZero(r.log.committed) === r.term;
}

function startReadIndex(r: Raft, m: Message): void {
  r.readOnly.add(r.log.committed, m);
  r.readOnly.recvAck(r.id, m.context);
  bcastHeartbeat(r, m.context);
}

function respondReadIndex(r: Raft, req: Message, index: number): void {
  if (req.from === r.id) {
    r.readStates.push({ index, context: req.context ?? EMPTY });
  } else {
    r.send({ type: 'MsgReadIndexResp', from: r.id, to: req.from, term: r.term, index, context: req.context ?? EMPTY });
  }
}

/**
 * The leader's entries up to `index` are durable on its own disk (called by
 * RawNode.advance): they count towards the quorum from now on, which may
 * commit them (thesis §10.2.1: the leader writes its log in parallel with
 * replicating it; etcd-raft acknowledges itself the same way once the append
 * is persisted).
 */
export function leaderPersisted(r: Raft, index: number): void {
  if (r.role !== 'leader') return;
  const pr = r.trk.progress.get(r.id);
  if (pr === undefined || !pr.maybeUpdate(index)) return;
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  }
}

function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !committedEntryInCurrentTerm(r)) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) startReadIndex(r, m);
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    // Fast back-off: skip the follower's whole conflicting term at once.
    let nextProbe = m.rejectHint ?? 0;
    if ((m.logTerm ?? 0) > 0) nextProbe = r.log.findConflictByTerm(nextProbe, m.logTerm ?? 0)[0];
    if (pr.maybeDecrTo(m.index ?? 0, nextProbe)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const index = m.index ?? 0;
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(index) && !(pr.state === 'probe' && pr.match === index)) return;
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    // The follower caught up from the snapshot: resume normal replication.
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(index);
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (oldPaused) {
    sendAppend(r, m.from);
  }
  fillPipeline(r, m.from);
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  if (pr.match < r.log.lastIndex() || pr.state === 'probe') sendAppend(r, m.from);
  // Repeat MsgTimeoutNow to a caught-up transfer target: it ignores one that
  // arrives while it still has a committed conf change to apply.
  else if (m.from === r.leadTransferee) sendTimeoutNow(r, m.from);
  if (!m.context || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || !r.trk.hasQuorum(acks)) return;
  for (const rs of r.readOnly.advance(m.context)) respondReadIndex(r, rs.req, rs.index);
}

function handleTransferLeader(r: Raft, transferee: NodeId, pr: Progress): void {
  if (pr.isLearner || !r.trk.isVoter(transferee)) return;
  if (r.leadTransferee !== null) {
    if (r.leadTransferee === transferee) return; // already in progress
    r.leadTransferee = null;
  }
  if (transferee === r.id) return;
  // The transfer must finish within one election timeout.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, transferee);
  else sendAppend(r, transferee);
}

/** Tells `to` to campaign at once (leadership transfer). */
export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: 'MsgTimeoutNow', from: r.id, to, term: r.term });
}
