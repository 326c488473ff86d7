import type { Entry, HardState, Snapshot } from '../core/types';

/**
 * The durable Raft log (hashicorp/raft's LogStore). Indexes are contiguous:
 * the store holds every entry from `firstIndex()` to `lastIndex()`.
 */
export interface LogStore {
  /** Index of the first stored entry, 0 when the log is empty. */
  firstIndex(): Promise<number>;
  /** Index of the last stored entry, 0 when the log is empty. */
  lastIndex(): Promise<number>;
  /** Entries with index in [lo, hi), in order; missing indexes are simply absent. */
  getEntries(lo: number, hi: number): Promise<Entry[]>;
  /**
   * Stores `entries` (consecutive indexes). Entries already stored at those
   * indexes are replaced and every stored entry after the last new one is
   * deleted (Raft conflict truncation, paper §5.3). Durable when it resolves.
   * The store may keep references to the entries: callers must not mutate them.
   */
  storeEntries(entries: readonly Entry[]): Promise<void>;
  /** Deletes entries with index in [lo, hi) (compaction, or discarding the log under a snapshot). */
  deleteRange(lo: number, hi: number): Promise<void>;
}

/** Small durable state (hashicorp/raft's StableStore): the Raft hard state and metadata. */
export interface StableStore {
  /** The last stored hard state, or null on a fresh node. */
  getHardState(): Promise<HardState | null>;
  /** Durable when it resolves. */
  setHardState(state: HardState): Promise<void>;
  /** A metadata value, or undefined. The returned bytes belong to the caller. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores a metadata value; the store copies or owns `value` (do not mutate it afterwards). */
  set(key: string, value: Uint8Array): Promise<void>;
}

/** Durable snapshots (hashicorp/raft's SnapshotStore, keeping only the newest). */
export interface SnapshotStore {
  /** Replaces the stored snapshot with `snapshot`; durable when it resolves. The store may keep `snapshot.data`. */
  save(snapshot: Snapshot): Promise<void>;
  /** The newest saved snapshot, or null. */
  latest(): Promise<Snapshot | null>;
}

/** What one Ready asks to persist, in one write when the storage supports it. */
export interface ReadyWrite {
  /** A snapshot received from the leader: it replaces the state and the whole log. */
  readonly snapshot?: Snapshot;
  /** Entries to append (truncating any conflicting suffix). */
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
  /**
   * Whether the write must be durable before it resolves (default true).
   * False only when nothing but the commit index changed (no entries, no
   * snapshot, same term and vote): the commit index can be relearned from the
   * leader after a crash, so etcd skips the fsync too.
   */
  readonly mustSync?: boolean;
}

/**
 * The stores a `RaftNode` persists to. `writeReady`, when present, persists a
 * whole Ready atomically and durably (LevelStorage: one synced batch);
 * otherwise the driver calls the three stores in order snapshot → entries →
 * hard state and awaits each.
 */
export interface RaftStores {
  readonly log: LogStore;
  readonly stable: StableStore;
  readonly snapshots: SnapshotStore;
  writeReady?(write: ReadyWrite): Promise<void>;
  /** Releases files/handles. Called by `RaftNode.close()`. */
  close?(): Promise<void>;
}
