/**
 * One contract, run against every LogStore/StableStore/SnapshotStore
 * implementation (memory and LevelDB).
 */
import type { Entry, Snapshot } from '../../src/core/types';
import type { RaftStores } from '../../src/storage';

export function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) };
}

export function range(lo: number, hi: number, term: number): Entry[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => entry(lo + i, term));
}

const dec = (e: Entry) => `${e.index}/${e.term}/${e.type}/${new TextDecoder().decode(e.data)}`;

export function storesContract(name: string, open: () => Promise<RaftStores>): void {
  describe(`${name}: store contract`, () => {
    let s: RaftStores;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close?.();
    });

    test('an empty store reports 0/0, no hard state, no snapshot', async () => {
      expect(await s.log.firstIndex()).toBe(0);
      expect(await s.log.lastIndex()).toBe(0);
      expect(await s.log.getEntries(1, 10)).toEqual([]);
      expect(await s.stable.getHardState()).toBeNull();
      expect(await s.snapshots.latest()).toBeNull();
      expect(await s.stable.get('missing')).toBeUndefined();
    });

    test('storeEntries appends and getEntries reads [lo, hi)', async () => {
      await s.log.storeEntries(range(1, 5, 1));
      await s.log.storeEntries(range(6, 8, 2));
      expect(await s.log.firstIndex()).toBe(1);
      expect(await s.log.lastIndex()).toBe(8);
      expect((await s.log.getEntries(3, 7)).map(dec)).toEqual(['3/1/normal/e3', '4/1/normal/e4', '5/1/normal/e5', '6/2/normal/e6']);
    });

    test('storing over an existing index truncates the conflicting suffix (§5.3)', async () => {
      await s.log.storeEntries(range(1, 10, 1));
      await s.log.storeEntries([entry(4, 2, 'new4'), entry(5, 2, 'new5')]);
      expect(await s.log.lastIndex()).toBe(5);
      expect((await s.log.getEntries(1, 11)).map(dec)).toEqual(['1/1/normal/e1', '2/1/normal/e2', '3/1/normal/e3', '4/2/normal/new4', '5/2/normal/new5']);
    });

    test('a gap is refused', async () => {
      await s.log.storeEntries(range(1, 3, 1));
      await expect(s.log.storeEntries([entry(5, 1)])).rejects.toThrow(/gap/);
      await expect(s.log.storeEntries([entry(4, 1), entry(6, 1)])).rejects.toThrow(/not contiguous/);
    });

    test('deleteRange compacts a prefix and can clear everything', async () => {
      await s.log.storeEntries(range(1, 10, 1));
      await s.log.deleteRange(1, 5);
      expect(await s.log.firstIndex()).toBe(5);
      expect((await s.log.getEntries(1, 7)).map((e) => e.index)).toEqual([5, 6]);
      await s.log.deleteRange(5, 11);
      expect(await s.log.firstIndex()).toBe(0);
      expect(await s.log.lastIndex()).toBe(0);
    });

    test('hard state, metadata and snapshot round-trip', async () => {
      await s.stable.setHardState({ term: 7, vote: 'n2', commit: 41 });
      expect(await s.stable.getHardState()).toEqual({ term: 7, vote: 'n2', commit: 41 });
      await s.stable.setHardState({ term: 8, vote: null, commit: 41 });
      expect(await s.stable.getHardState()).toEqual({ term: 8, vote: null, commit: 41 });
      await s.stable.set('cluster-id', Uint8Array.of(1, 2, 3));
      expect(Array.from((await s.stable.get('cluster-id'))!)).toEqual([1, 2, 3]);
      const snap: Snapshot = {
        meta: { index: 40, term: 7, confState: { voters: ['n1', 'n2', 'n3'], learners: ['n4'], votersOutgoing: [], learnersNext: [], autoLeave: false } },
        data: Uint8Array.of(9, 9, 9),
      };
      await s.snapshots.save(snap);
      const got = await s.snapshots.latest();
      expect(got?.meta).toEqual(snap.meta);
      expect(Array.from(got!.data)).toEqual([9, 9, 9]);
    });

    test('writeReady (when offered) stores a received snapshot, discarding the whole log', async () => {
      if (!s.writeReady) return;
      await s.log.storeEntries(range(1, 10, 1));
      const snap: Snapshot = {
        meta: { index: 20, term: 3, confState: { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
        data: Uint8Array.of(1),
      };
      await s.writeReady({ snapshot: snap, entries: [entry(21, 3)], hardState: { term: 3, vote: 'a', commit: 20 } });
      expect(await s.log.firstIndex()).toBe(21);
      expect(await s.log.lastIndex()).toBe(21);
      expect((await s.snapshots.latest())?.meta.index).toBe(20);
      expect(await s.stable.getHardState()).toEqual({ term: 3, vote: 'a', commit: 20 });
    });
  });
}
