import { CompactedError, MemoryStorage, RaftInvariantError, SnapshotOutOfDateError, UnavailableError } from '../../src/core';
import type { ConfState, Entry } from '../../src/core/types';

const cs: ConfState = { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
const ent = (index: number, term: number, byte = 0): Entry => ({ index, term, type: 'normal', data: new Uint8Array([byte]) });

describe('MemoryStorage', () => {
  it('starts empty with a dummy entry at index 0', () => {
    const s = new MemoryStorage();
    expect([s.firstIndex(), s.lastIndex(), s.term(0)]).toEqual([1, 0, 0]);
    expect(s.initialState().hardState).toEqual({ term: 0, vote: null, commit: 0 });
    expect(() => s.term(1)).toThrow(UnavailableError);
  });

  it('append truncates a conflicting suffix and refuses gaps', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    s.append([ent(2, 2)]);
    expect(s.entries(1, 3).map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(() => s.append([ent(5, 2)])).toThrow(RaftInvariantError);
  });

  it('entries stops at maxBytes but returns at least one entry', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    expect(s.entries(1, 4, 1)).toHaveLength(1);
    expect(s.entries(1, 4, 34)).toHaveLength(2); // 17 bytes each (1 data byte + 16 overhead)
    expect(() => s.entries(1, 5)).toThrow(UnavailableError);
  });

  it('createSnapshot + compact keep the snapshot term and refuse compacted reads', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 2), ent(3, 3)]);
    const snap = s.createSnapshot(2, cs, new Uint8Array([9]));
    expect(snap.meta).toEqual({ index: 2, term: 2, confState: cs });
    s.compact(2);
    expect([s.firstIndex(), s.lastIndex(), s.term(2), s.term(3)]).toEqual([3, 3, 2, 3]);
    expect(() => s.term(1)).toThrow(CompactedError);
    expect(() => s.entries(2, 3)).toThrow(CompactedError);
    expect(() => s.compact(2)).toThrow(CompactedError);
    expect(() => s.createSnapshot(1, cs, new Uint8Array())).toThrow(SnapshotOutOfDateError);
    // Appending entries partly below the snapshot skips the compacted part.
    s.append([ent(2, 2), ent(3, 3), ent(4, 3)]);
    expect(s.lastIndex()).toBe(4);
  });

  it('applySnapshot replaces the log and refuses older snapshots', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1)]);
    s.applySnapshot({ meta: { index: 10, term: 4, confState: cs }, data: new Uint8Array() });
    expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 4]);
    expect(s.initialState().confState).toEqual(cs);
    expect(() => s.applySnapshot({ meta: { index: 5, term: 4, confState: cs }, data: new Uint8Array() })).toThrow(
      SnapshotOutOfDateError,
    );
  });
});
