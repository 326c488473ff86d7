import { MemoryStorage } from '../core/memory-storage';
import type { Snapshot } from '../core/types';
import type { RaftStores } from '../storage/stores';

/** What a node restarts from. */
export interface LoadedState {
  /** The core's read view, filled from the durable stores. */
  view: MemoryStorage;
  /** The newest snapshot, or null; the state machine must be restored from it. */
  snapshot: Snapshot | null;
  /** Whether the stores held any Raft state at all (otherwise the node bootstraps from `peers`). */
  empty: boolean;
}

/**
 * Loads snapshot, hard state and the log after the snapshot from the durable
 * stores into a new MemoryStorage (etcd's restart pattern: the durable store
 * is the truth, MemoryStorage the core's synchronous view of it).
 *
 * Stores without an atomic `writeReady` save a Ready's snapshot, log and hard
 * state one after the other, so a crash can leave any prefix of those writes.
 * Loading repairs what a torn write can leave behind:
 * - a snapshot newer than the stored commit index: a snapshot holds only
 *   committed state, so the commit index is raised to the snapshot's index;
 * - a stored term older than the snapshot's term: the term is raised, with no
 *   vote (a vote cast in that term would have been persisted before it was sent);
 * - log entries the snapshot superseded (the entry at the snapshot index, if
 *   stored, has another term): they are dropped, as installing the snapshot does.
 */
export async function loadState(stores: RaftStores): Promise<LoadedState> {
  const view = new MemoryStorage();
  const stored = await stores.snapshots.latest();
  const snapshot = stored !== null && stored.meta.index > 0 ? stored : null;
  let hardState = await stores.stable.getHardState();
  let empty = hardState === null;
  if (snapshot !== null) {
    view.applySnapshot(snapshot);
    empty = false;
  }
  const first = await stores.log.firstIndex();
  const last = await stores.log.lastIndex();
  const snapIndex = snapshot?.meta.index ?? 0;
  const from = Math.max(first, snapIndex + 1);
  if (last > 0 && last >= from && (await continuesSnapshot(stores, snapshot, first))) {
    view.append(await stores.log.getEntries(from, last + 1));
    empty = false;
  }
  if (hardState !== null && snapshot !== null) {
    if (hardState.term < snapshot.meta.term) hardState = { term: snapshot.meta.term, vote: null, commit: hardState.commit };
    if (hardState.commit < snapIndex) hardState = { ...hardState, commit: snapIndex };
  }
  if (hardState !== null) view.setHardState(hardState);
  return { view, snapshot, empty };
}

/** Whether the stored log after the snapshot belongs to the snapshot's history. */
async function continuesSnapshot(stores: RaftStores, snapshot: Snapshot | null, first: number): Promise<boolean> {
  if (snapshot === null) return true;
  const { index, term } = snapshot.meta;
  // Compacted up to (or past) the snapshot: what remains was written after it.
  if (first > index) return first === index + 1;
  const [atSnapshot] = await stores.log.getEntries(index, index + 1);
  return atSnapshot !== undefined && atSnapshot.term === term;
}
