import { formatSocketAddress, type SocketAddress, type WeftErrorOptions } from '@weft/interface';
import type { NodeId } from '../core/types';
import { RaftError } from '../errors';

/** Base class of the errors `RaftNode` rejects with. Invalid options throw `InvalidOptionsError` instead. */
export class RaftNodeError extends RaftError {
  override name = 'RaftNodeError';
  override readonly code: string = 'ERR_RAFT_NODE';
}

/**
 * This node is not the leader (or knows no leader), so it cannot take a
 * proposal. Nothing was appended: retrying at `leaderId` is safe.
 */
export class NotLeaderError extends RaftNodeError {
  override name = 'NotLeaderError';
  override readonly code = 'ERR_RAFT_NOT_LEADER';
  constructor(
    /** The leader this node knows of, or null during an election. */
    readonly leaderId: NodeId | null,
    /** The transport's address for the leader (its TCP listen address), when known. */
    readonly leaderAddress: SocketAddress | undefined,
    options?: WeftErrorOptions,
  ) {
    super(
      leaderId === null
        ? 'not the leader, and no leader is known'
        : `not the leader; leader is ${leaderId}${leaderAddress ? ` at ${formatSocketAddress(leaderAddress)}` : ''}`,
      options,
    );
  }
}

/** The node was closed before the request finished; its outcome is unknown for proposals already appended. */
export class NodeClosedError extends RaftNodeError {
  override name = 'NodeClosedError';
  override readonly code = 'ERR_RAFT_NODE_CLOSED';
}

/**
 * The proposal was appended but overwritten by another leader's entry at
 * `index`: it was not and will never be committed. Retrying is safe.
 */
export class ProposalLostError extends RaftNodeError {
  override name = 'ProposalLostError';
  override readonly code = 'ERR_RAFT_PROPOSAL_LOST';
  constructor(
    /** The log index the proposal was appended at. */
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * No answer within `requestTimeoutMs` (or the answer was skipped by a
 * snapshot install). The outcome is unknown: the proposal may or may not have
 * been committed.
 */
export class RequestTimeoutError extends RaftNodeError {
  override name = 'RequestTimeoutError';
  override readonly code = 'ERR_RAFT_REQUEST_TIMEOUT';
}

/** The node stopped after a fatal error (a storage write failed, or a state machine threw). */
export class NodeFailedError extends RaftNodeError {
  override name = 'NodeFailedError';
  override readonly code = 'ERR_RAFT_NODE_FAILED';
}

/** A proposal the node refuses before appending it (an empty command: empty entries are the leader's no-ops). */
export class InvalidProposalError extends RaftNodeError {
  override name = 'InvalidProposalError';
  override readonly code = 'ERR_RAFT_INVALID_PROPOSAL';
}
