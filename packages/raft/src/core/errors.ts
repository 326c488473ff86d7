/**
 * Typed errors of the Raft core. Every class has a fixed `name` and a stable
 * `code`; messages name what was wrong and with what value. Invalid `RawNode`
 * options throw `@weft/interface`'s `InvalidOptionsError` instead.
 */
import type { WeftErrorOptions } from '@weft/interface';
import { RaftError } from '../errors';
import type { NodeId } from './types';

/** Base class of every error the Raft core throws. */
export class RaftCoreError extends RaftError {
  override name = 'RaftCoreError';
  override readonly code: string = 'ERR_RAFT_CORE';
}

/**
 * A proposal (or read) was not accepted by this node: it is not the leader, a
 * leadership transfer is in progress, or it was removed from the cluster.
 * Nothing was appended. `leader` is the leader this node knows of, or null.
 */
export class ProposalDroppedError extends RaftCoreError {
  override name = 'ProposalDroppedError';
  override readonly code: string = 'ERR_RAFT_PROPOSAL_DROPPED';
  constructor(
    message: string,
    /** The current leader as known by this node (a hint to retry there), or null. */
    readonly leader: NodeId | null,
    options?: WeftErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A conf change was refused by the leader (another change is pending, the
 * config is joint, the new leader has not applied an entry of its term yet,
 * or the change itself is invalid against the current config). It is a
 * {@link ProposalDroppedError} so callers handling drops handle it too.
 */
export class ConfChangeRejectedError extends ProposalDroppedError {
  override name = 'ConfChangeRejectedError';
  override readonly code = 'ERR_RAFT_CONF_CHANGE_REJECTED';
}

/** The API was used out of order (e.g. `ready()` twice without `advance()`). */
export class RaftUsageError extends RaftCoreError {
  override name = 'RaftUsageError';
  override readonly code = 'ERR_RAFT_USAGE';
}

/** The requested index was compacted into a snapshot. */
export class CompactedError extends RaftCoreError {
  override name = 'CompactedError';
  override readonly code = 'ERR_RAFT_COMPACTED';
  constructor(
    message: string,
    /** The index that was asked for. */
    readonly index: number,
  ) {
    super(message);
  }
}

/** The requested index is beyond the last stored entry. */
export class UnavailableError extends RaftCoreError {
  override name = 'UnavailableError';
  override readonly code = 'ERR_RAFT_UNAVAILABLE';
  constructor(
    message: string,
    /** The index that was asked for. */
    readonly index: number,
  ) {
    super(message);
  }
}

/** A snapshot older than (or as old as) the current one was offered. */
export class SnapshotOutOfDateError extends RaftCoreError {
  override name = 'SnapshotOutOfDateError';
  override readonly code = 'ERR_RAFT_SNAPSHOT_OUT_OF_DATE';
}

/** Conf-change entry bytes that do not decode. */
export class ConfChangeDecodeError extends RaftCoreError {
  override name = 'ConfChangeDecodeError';
  override readonly code = 'ERR_RAFT_CONF_CHANGE_DECODE';
}

/** A membership change that is invalid against the configuration it applies to. */
export class InvalidConfChangeError extends RaftCoreError {
  override name = 'InvalidConfChangeError';
  override readonly code = 'ERR_RAFT_INVALID_CONF_CHANGE';
}

/**
 * A broken internal invariant (a bug in the core or the driver, or a storage
 * that lost acknowledged data). Like etcd's panics: do not catch and continue.
 */
export class RaftInvariantError extends RaftCoreError {
  override name = 'RaftInvariantError';
  override readonly code = 'ERR_RAFT_INVARIANT';
}
