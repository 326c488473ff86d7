export { RaftNode, type RaftNodeStatus, type RaftNodeEvents } from './raft-node';
export { raftNodeOptionsSchema, type RaftNodeOptions, type NodeTimers } from './options';
export { RaftNodeError, NotLeaderError, NodeClosedError, ProposalLostError, RequestTimeoutError, NodeFailedError, RaftOptionsError } from './errors';
