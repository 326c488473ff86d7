/**
 * Typed errors of the Raft core. Every class has a fixed `name`; messages name
 * what was wrong and with what value.
 */
import type { NodeId } from './types';

/** Base class of every error the Raft core throws. */
export class RaftCoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RaftCoreError';
  }
}

/** Invalid `RawNode` options; the message names the field. */
export class RaftConfigError extends RaftCoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RaftConfigError';
  }
}

/**
 * A proposal (or read) was not accepted by this node: it is not the leader, a
 * leadership transfer is in progress, or it was removed from the cluster.
 * Nothing was appended. `leader` is the leader this node knows of, or null.
 */
export class ProposalDroppedError extends RaftCoreError {
  /** The current leader as known by this node (a hint to retry there), or null. */
  readonly leader: NodeId | null;
  constructor(message: string, leader: NodeId | null) {
    super(message);
    this.name = 'ProposalDroppedError';
    this.leader = leader;
  }
}

/**
 * A conf change was refused by the leader (another change is pending, the
 * config is joint, the new leader has not applied an entry of its term yet,
 * or the change itself is invalid against the current config). It is a
 * {@link ProposalDroppedError} so callers handling drops handle it too.
 */
export class ConfChangeRejectedError extends ProposalDroppedError {
  constructor(message: string, leader: NodeId | null) {
    super(message, leader);
    this.name = 'ConfChangeRejectedError';
  }
}

/** The API was used out of order (e.g. `ready()` twice without `advance()`). */
export class RaftUsageError extends RaftCoreError {
  constructor(message: string) {
    super(message);
    this.name = 'RaftUsageError';
  }
}

/** The requested index was compacted into a snapshot. */
export class CompactedError extends RaftCoreError {
  constructor(
    message: string,
    /** The index that was asked for. */
    readonly index: number,
  ) {
    super(message);
    this.name = 'CompactedError';
  }
}

/** The requested index is beyond the last stored entry. */
export class UnavailableError extends RaftCoreError {
  constructor(
    message: string,
    /** The index that was asked for. */
    readonly index: number,
  ) {
    super(message);
    this.name = 'UnavailableError';
  }
}

/** A snapshot older than (or as old as) the current one was offered. */
export class SnapshotOutOfDateError extends RaftCoreError {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotOutOfDateError';
  }
}

/** Conf-change entry bytes that do not decode. */
export class ConfChangeDecodeError extends RaftCoreError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfChangeDecodeError';
  }
}

/** A membership change that is invalid against the configuration it applies to. */
export class InvalidConfChangeError extends RaftCoreError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConfChangeError';
  }
}

/**
 * A broken internal invariant (a bug in the core or a storage that lost
 * acknowledged data). Like etcd's panics: do not catch and continue.
 */
export class RaftInvariantError extends RaftCoreError {
  constructor(message: string) {
    super(message);
    this.name = 'RaftInvariantError';
  }
}
