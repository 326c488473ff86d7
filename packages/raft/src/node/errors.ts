import type { NodeId } from '../core/types';

/** Base class of the errors `RaftNode` rejects with. */
export class RaftNodeError extends Error {
  override name = 'RaftNodeError';
}

/**
 * This node is not the leader (or knows no leader), so it cannot take a
 * proposal. Nothing was appended: retrying at `leaderId` is safe.
 */
export class NotLeaderError extends RaftNodeError {
  override name = 'NotLeaderError';
  constructor(
    /** The leader this node knows of, or null during an election. */
    readonly leaderId: NodeId | null,
    /** The transport's address for the leader ("host:port" for TCP), when known. */
    readonly leaderAddress: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      leaderId === null ? 'not the leader, and no leader is known' : `not the leader; leader is ${leaderId}${leaderAddress ? ` at ${leaderAddress}` : ''}`,
      options,
    );
  }
}

/** The node was closed before the request finished; its outcome is unknown for proposals already appended. */
export class NodeClosedError extends RaftNodeError {
  override name = 'NodeClosedError';
}

/**
 * The proposal was appended but overwritten by another leader's entry at
 * `index`: it was not and will never be committed. Retrying is safe.
 */
export class ProposalLostError extends RaftNodeError {
  override name = 'ProposalLostError';
  constructor(
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
}

/** The node stopped after a fatal error (a storage write failed, or a state machine threw). */
export class NodeFailedError extends RaftNodeError {
  override name = 'NodeFailedError';
}

/** Invalid `RaftNode` options; `field` is the option's path and the message shows the value. */
export class RaftOptionsError extends RaftNodeError {
  override name = 'RaftOptionsError';
  constructor(
    message: string,
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
