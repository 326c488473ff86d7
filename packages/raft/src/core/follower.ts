/**
 * Followers and candidates: handling AppendEntries, heartbeats, snapshots
 * (InstallSnapshot) and vote responses. Functions over the {@link Raft} state.
 */
import { ProposalDroppedError, RaftInvariantError } from './errors';
import type { Raft } from './raft';
import { bcastAppend } from './replication';
import type { Message, MessageType, Snapshot } from './types';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const EMPTY = new Uint8Array(0);

/** Handles a message while candidate or pre-candidate (§5.2): a leader of this term makes us follow it; votes are tallied. */
export function stepCandidate(r: Raft, m: Message): void {
  const myResp: MessageType = r.role === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
  switch (m.type) {
    case 'MsgProp':
      throw new ProposalDroppedError(`raft ${r.id}: proposal dropped: no leader (${r.role} in term ${r.term})`, null);
    case 'MsgReadIndex':
      throw new ProposalDroppedError(`raft ${r.id}: read index dropped: no leader (${r.role} in term ${r.term})`, null);
    case 'MsgApp':
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case 'MsgHeartbeat':
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'MsgSnap':
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case 'MsgPreVoteResp':
    case 'MsgVoteResp': {
      if (m.type !== myResp) return;
      const res = r.poll(m.from, !m.reject);
      if (res === 'won') {
        if (r.role === 'pre-candidate') {
          r.campaign('election');
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (res === 'lost') {
        r.becomeFollower(r.term, null);
      }
      return;
    }
    default:
      return;
  }
}

/** Handles a message while follower: replication from the leader, forwarding of reads and transfers, MsgTimeoutNow. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'MsgProp':
      // No forwarding: the caller retries at the leader.
      throw new ProposalDroppedError(
        `raft ${r.id}: proposal dropped: not the leader (leader ${r.lead ?? 'unknown'})`,
        r.lead,
      );
    case 'MsgApp':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case 'MsgHeartbeat':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case 'MsgSnap':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case 'MsgTransferLeader':
      if (r.lead === null) return;
      r.send({ ...m, to: r.lead });
      return;
    case 'MsgTimeoutNow':
      // Leadership transfer: campaign at once, skipping pre-vote.
      r.hup('transfer');
      return;
    case 'MsgReadIndex':
      if (r.lead === null) {
        throw new ProposalDroppedError(`raft ${r.id}: read index dropped: no leader known`, null);
      }
      r.send({ ...m, to: r.lead });
      return;
    case 'MsgReadIndexResp':
      r.readStates.push({ index: m.index ?? 0, context: m.context ?? EMPTY });
      return;
    default:
      return;
  }
}

function handleAppendEntries(r: Raft, m: Message): void {
  const index = m.index ?? 0;
  if (index < r.log.committed) {
    r.send({ type: 'MsgAppResp', from: r.id, to: m.from, term: r.term, index: r.log.committed });
    return;
  }
  // §5.3: accept only if our log contains the entry preceding the new ones;
  // conflicting entries (and all that follow) are replaced.
  const lastNew = r.log.maybeAppend(index, m.logTerm ?? 0, m.commit ?? 0, m.entries ?? []);
  if (lastNew !== null) {
    r.send({ type: 'MsgAppResp', from: r.id, to: m.from, term: r.term, index: lastNew });
    return;
  }
  // Reject with a hint: the largest index <= min(index, lastIndex) whose
  // term is <= m.logTerm, so the leader can skip a whole term at once.
  const hintIndex = Math.min(index, r.log.lastIndex());
  const [hi, ht] = r.log.findConflictByTerm(hintIndex, m.logTerm ?? 0);
  r.send({
    type: 'MsgAppResp',
    from: r.id,
    to: m.from,
    term: r.term,
    index,
    reject: true,
    rejectHint: hi,
    logTerm: ht,
  });
}

function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit ?? 0);
  const resp: Mutable<Message> = { type: 'MsgHeartbeatResp', from: r.id, to: m.from, term: r.term };
  if (m.context) resp.context = m.context;
  r.send(resp);
}

function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  if (!s) return;
  if (restore(r, s)) {
    r.send({ type: 'MsgAppResp', from: r.id, to: m.from, term: r.term, index: r.log.lastIndex() });
  } else {
    r.send({ type: 'MsgAppResp', from: r.id, to: m.from, term: r.term, index: r.log.committed });
  }
}

/** InstallSnapshot (§7): replaces the log with `s` unless we already have it. */
function restore(r: Raft, s: Snapshot): boolean {
  if (s.meta.index <= r.log.committed) return false;
  // Committed entries handed out in a Ready that is not advanced yet are being
  // applied right now (the driver may step messages while it persists): a
  // snapshot would supersede state they are applied onto. Refuse it for now;
  // the leader sends it again.
  if (r.log.applying > r.log.applied) return false;
  if (r.role !== 'follower') {
    throw new RaftInvariantError(`restore snapshot as ${r.role}`);
  }
  const cs = s.meta.confState;
  // The snapshot's membership may predate this node's addition (the leader
  // sends the newest snapshot it has, which may be older than the conf
  // change that added us): install it anyway, the entries that follow add
  // us once applied. (etcd ignores such snapshots, which can leave a newly
  // added node unable to ever catch up.)
  if (r.log.matchTerm(s.meta.index, s.meta.term)) {
    // We hold the entry already: just fast-forward the commit index (§7:
    // "retain log entries following it").
    r.log.commitTo(s.meta.index);
    return false;
  }
  r.log.restore(s);
  r.trk.progress = new Map();
  r.restoreConfig(cs);
  return true;
}
