import type { MemoryStorage } from '../core/memory-storage';
import type { Ready } from '../core/types';
import type { RaftStores } from '../storage/stores';

/**
 * Step 1 of a Ready: makes its snapshot, entries and hard state durable
 * (awaiting the stores), then mirrors them into the core's MemoryStorage read
 * view. Only after this resolves may the Ready's messages be sent: a vote or
 * an append acknowledgement must never go out before the state it promises is
 * on disk (Raft paper §5.1 and Figure 2, "persistent state ... updated on
 * stable storage before responding to RPCs").
 */
export async function persistReady(stores: RaftStores, view: MemoryStorage, rd: Ready): Promise<void> {
  const hasWork = rd.snapshot !== undefined || rd.entries.length > 0 || rd.hardState !== undefined;
  if (hasWork) {
    if (stores.writeReady) {
      await stores.writeReady({ snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState, mustSync: rd.mustSync });
    } else {
      if (rd.snapshot) {
        await stores.snapshots.save(rd.snapshot);
        const last = await stores.log.lastIndex();
        if (last > 0) await stores.log.deleteRange(await stores.log.firstIndex(), last + 1);
      }
      if (rd.entries.length > 0) await stores.log.storeEntries(rd.entries);
      if (rd.hardState) await stores.stable.setHardState(rd.hardState);
    }
  }
  if (rd.snapshot) view.applySnapshot(rd.snapshot);
  if (rd.entries.length > 0) view.append(rd.entries);
  if (rd.hardState) view.setHardState(rd.hardState);
}
