/**
 * The data the pure Raft core exchanges with its driver. This file is the
 * contract between `core/` (the synchronous state machine) and the driver
 * (`RaftNode`, stores, transports): fields may be added, none renamed or removed
 * without changing both sides.
 *
 * Indexes and terms are plain numbers (safe integers: 2^53 entries is more than
 * any log will hold). Node ids are non-empty strings.
 */

/** A cluster member's id. */
export type NodeId = string;

/** What an entry carries. */
export type EntryType = 'normal' | 'conf-change';

/** One log entry. `data` is owned by the log once appended: callers must not mutate it. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque command bytes (normal), or an encoded {@link ConfChange} (conf-change). Empty for the no-op a new leader appends. */
  readonly data: Uint8Array;
}

/** What must be durable before any message of the same Ready is sent (Raft paper Figure 2, "persistent state"). */
export interface HardState {
  readonly term: number;
  /** The candidate this node voted for in `term`, or null. */
  readonly vote: NodeId | null;
  /** Highest log index known committed. */
  readonly commit: number;
}

/** Cluster membership. During joint consensus `votersOutgoing` is non-empty. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** The old voter set while in a joint configuration (C_old,new); empty otherwise. */
  readonly votersOutgoing: readonly NodeId[];
  /** Voters of the outgoing config that become learners when the joint config is left. */
  readonly learnersNext: readonly NodeId[];
  /** Leave the joint configuration automatically once it is committed. */
  readonly autoLeave: boolean;
}

/** One membership change. */
export interface ConfChangeSingle {
  readonly type: 'add-voter' | 'add-learner' | 'remove-node';
  readonly nodeId: NodeId;
}

/**
 * A membership change proposal. One change is applied as a single-server
 * change; several at once (or `transition: 'joint'`) go through joint
 * consensus. An empty `changes` list with a joint config active leaves it.
 */
export interface ConfChange {
  readonly changes: readonly ConfChangeSingle[];
  /** 'auto' (default): single-server when possible, joint otherwise; 'joint': always joint, auto-leave; 'joint-explicit': joint, leave by proposing an empty change. */
  readonly transition?: 'auto' | 'joint' | 'joint-explicit';
  /** Opaque context returned to the proposer with the applied entry. */
  readonly context?: Uint8Array;
}

export interface SnapshotMeta {
  /** Index of the last entry the snapshot includes. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  readonly confState: ConfState;
}

/** A state-machine snapshot with the log position and membership it reflects. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type MessageType =
  | 'MsgHup' // local: start an election
  | 'MsgBeat' // local: leader sends heartbeats
  | 'MsgProp' // local (or forwarded): propose entries
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgTransferLeader'
  | 'MsgTimeoutNow'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp'
  | 'MsgUnreachable'
  | 'MsgSnapStatus'
  | 'MsgCheckQuorum';

/**
 * A Raft message. Flat like etcd's raftpb.Message: which optional fields are
 * set depends on `type`. Messages decoded from the network are validated by the
 * transport codec before they reach `step`.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** Term of the entry at `index` (MsgApp: the entry preceding `entries`; votes: candidate's last log term). */
  readonly logTerm?: number;
  /** MsgApp: index preceding `entries`; MsgAppResp: the follower's match or rejected index; votes: candidate's last index. */
  readonly index?: number;
  readonly entries?: readonly Entry[];
  readonly commit?: number;
  readonly reject?: boolean;
  /** On a rejected MsgAppResp: a hint of the follower's last index, for fast back-off. */
  readonly rejectHint?: number;
  readonly snapshot?: Snapshot;
  /** MsgReadIndex/MsgReadIndexResp/MsgHeartbeat: the read request's context; MsgVote during leader transfer: 'transfer'. */
  readonly context?: Uint8Array;
}

/** Role of a node. */
export type Role = 'follower' | 'candidate' | 'pre-candidate' | 'leader';

/** Volatile state that changed; not persisted. */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

/** A linearizable read is safe to serve once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * Everything the driver must do, in order:
 * 1. persist `snapshot` (if any), `entries` and `hardState` (if any) — durably
 *    when `mustSync`;
 * 2. then send `messages` — except that a leader (`softState` or the role it
 *    already had says so) may send them before or while step 1 runs: its
 *    term and vote were made durable before it could win, and its own new
 *    entries count towards the commit only once `advance()` reports them
 *    persisted (Raft thesis §10.2.1);
 * 3. apply `snapshot` then `committedEntries` to the state machine, calling
 *    `applyConfChange` for conf-change entries;
 * 4. call `advance()`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

/**
 * The synchronous read view of persisted Raft state that the core consults
 * (etcd's Storage). The driver keeps it in step with its durable stores.
 * `MemoryStorage` implements it.
 */
export interface RaftStorage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any exist, stopping once `maxBytes` of data is exceeded. Throws CompactedError below firstIndex. */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /** Term of the entry at `index`; the snapshot's term for `firstIndex() - 1`. Throws CompactedError / UnavailableError. */
  term(index: number): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}
