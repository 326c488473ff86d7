export { RaftNode, type RaftNodeStatus, type RaftNodeEvents } from './raft-node';
export type { RaftNodeOptions, NodeTimers } from './options';
export { RaftNodeError, NotLeaderError, NodeClosedError, ProposalLostError, RequestTimeoutError, NodeFailedError, InvalidProposalError } from './errors';
