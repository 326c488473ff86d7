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
 */
export async function loadState(stores: RaftStores): Promise<LoadedState> {
  const view = new MemoryStorage();
  const snapshot = await stores.snapshots.latest();
  const hardState = await stores.stable.getHardState();
  let empty = hardState === null;
  if (snapshot !== null && snapshot.meta.index > 0) {
    view.applySnapshot(snapshot);
    empty = false;
  }
  const first = await stores.log.firstIndex();
  const last = await stores.log.lastIndex();
  const from = Math.max(first, (snapshot?.meta.index ?? 0) + 1);
  if (last > 0 && last >= from) {
    view.append(await stores.log.getEntries(from, last + 1));
    empty = false;
  }
  if (hardState !== null) view.setHardState(hardState);
  return { view, snapshot: snapshot !== null && snapshot.meta.index > 0 ? snapshot : null, empty };
}
