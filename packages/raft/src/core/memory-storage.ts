/**
 * An in-memory {@link RaftStorage} (etcd's MemoryStorage): the log after the
 * last snapshot, the snapshot and the hard state. Used by tests and by the
 * driver as the core's read view of its durable stores.
 */
import { CompactedError, RaftInvariantError, SnapshotOutOfDateError, UnavailableError } from './errors';
import { limitSize } from './raft-log';
import type { ConfState, Entry, HardState, RaftStorage, Snapshot } from './types';

const EMPTY_CONF: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
const EMPTY_DATA = new Uint8Array(0);

export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0, vote: null, commit: 0 };
  private snap: Snapshot = { meta: { index: 0, term: 0, confState: EMPTY_CONF }, data: EMPTY_DATA };
  /** ents[0] is a placeholder for the snapshot's (index, term); real entries follow. */
  private ents: Entry[] = [{ index: 0, term: 0, type: 'normal', data: EMPTY_DATA }];

  /** The persisted hard state and the membership of the last snapshot. */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.meta.confState };
  }

  /** Records the hard state (the caller persists it before sending the Ready's messages). */
  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  private get offset(): number {
    return (this.ents[0] as Entry).index;
  }

  /**
   * Entries in [lo, hi), stopping once `maxBytes` is exceeded (at least one).
   * @throws CompactedError when lo <= the snapshot index
   * @throws UnavailableError when hi is past lastIndex() + 1
   */
  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    if (lo <= this.offset) throw new CompactedError(`memory storage: index ${lo} is compacted (first index ${this.offset + 1})`, lo);
    if (hi > this.lastIndex() + 1) {
      throw new UnavailableError(`memory storage: entries up to ${hi - 1} requested, last index is ${this.lastIndex()}`, hi - 1);
    }
    return limitSize(this.ents.slice(lo - this.offset, hi - this.offset), maxBytes);
  }

  /**
   * Term of entry `index` (the snapshot's term for the snapshot index).
   * @throws CompactedError below the snapshot index; UnavailableError past the last index
   */
  term(index: number): number {
    if (index < this.offset) throw new CompactedError(`memory storage: index ${index} is compacted (snapshot at ${this.offset})`, index);
    const e = this.ents[index - this.offset];
    if (!e) throw new UnavailableError(`memory storage: index ${index} is past the last index ${this.lastIndex()}`, index);
    return e.term;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  /** The latest snapshot (an empty one at index 0 when none was taken). */
  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Replaces the whole log with `snap` (a snapshot received from the leader).
   * @throws SnapshotOutOfDateError if it is not newer than the current one
   */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) {
      throw new SnapshotOutOfDateError(`memory storage: snapshot at ${snap.meta.index} is not newer than ${this.snap.meta.index}`);
    }
    this.snap = snap;
    this.ents = [{ index: snap.meta.index, term: snap.meta.term, type: 'normal', data: EMPTY_DATA }];
  }

  /**
   * Records a snapshot of the state machine at `index` (which must be applied,
   * hence stored). Does not compact; call {@link compact} for that.
   * @throws SnapshotOutOfDateError if `index` is not past the current snapshot
   * @throws UnavailableError if `index` is past the last index
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) {
      throw new SnapshotOutOfDateError(`memory storage: snapshot index ${index} is not past ${this.snap.meta.index}`);
    }
    if (index > this.lastIndex()) {
      throw new UnavailableError(`memory storage: snapshot index ${index} is past the last index ${this.lastIndex()}`, index);
    }
    this.snap = { meta: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /**
   * Discards entries up to and including `index` (which must be covered by the
   * application's snapshot).
   * @throws CompactedError if already compacted; UnavailableError if past the last index
   */
  compact(index: number): void {
    if (index <= this.offset) throw new CompactedError(`memory storage: index ${index} is already compacted (at ${this.offset})`, index);
    if (index > this.lastIndex()) {
      throw new UnavailableError(`memory storage: compact ${index} is past the last index ${this.lastIndex()}`, index);
    }
    const i = index - this.offset;
    const head = this.ents[i] as Entry;
    this.ents = [{ index: head.index, term: head.term, type: 'normal', data: EMPTY_DATA }, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries, truncating any existing suffix from the first new index on
   * (entries at or below the snapshot are skipped). The entries' buffers are kept.
   * @throws RaftInvariantError if the entries would leave a gap
   */
  append(entries: readonly Entry[]): void {
    const head = entries[0];
    if (!head) return;
    const first = this.firstIndex();
    const last = head.index + entries.length - 1;
    if (last < first) return;
    const ents = first > head.index ? entries.slice(first - head.index) : entries;
    const at = (ents[0] as Entry).index - this.offset;
    if (at > this.ents.length) {
      throw new RaftInvariantError(`memory storage: missing log entries (last ${this.lastIndex()}, appending at ${(ents[0] as Entry).index})`);
    }
    this.ents.length = at;
    for (const e of ents) this.ents.push(e);
  }
}
