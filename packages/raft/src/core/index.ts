/**
 * The pure Raft core: a synchronous state machine (`RawNode`) with no timers,
 * no I/O and injected randomness, plus the in-memory storage it reads from.
 */
export { RawNode, type RaftStatus } from './raw-node';
export type { RawNodeConfig } from './config';
export { MemoryStorage } from './memory-storage';
export { encodeConfChange, decodeConfChange } from './conf-change-codec';
export type { ProgressState } from './progress';
export {
  RaftCoreError,
  ProposalDroppedError,
  ConfChangeRejectedError,
  RaftUsageError,
  CompactedError,
  UnavailableError,
  SnapshotOutOfDateError,
  ConfChangeDecodeError,
  InvalidConfChangeError,
  RaftInvariantError,
} from './errors';
