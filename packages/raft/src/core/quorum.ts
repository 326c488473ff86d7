/**
 * Vote arithmetic over majority and joint configurations (Raft thesis §4.3:
 * during C_old,new, agreement needs separate majorities of both C_old and
 * C_new). The commit index counterpart is ProgressTracker.committed().
 */
import type { NodeId } from './types';

export type VoteResult = 'won' | 'lost' | 'pending';

/** Outcome of an election among `voters` given the votes so far (missing = not yet answered). */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (yes >= q) return 'won';
  if (yes + missing >= q) return 'pending';
  return 'lost';
}

/** Joint configuration: both majorities must agree (an empty half always agrees). */
export function jointVoteResult(
  incoming: ReadonlySet<NodeId>,
  outgoing: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const a = majorityVoteResult(incoming, votes);
  const b = majorityVoteResult(outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}
