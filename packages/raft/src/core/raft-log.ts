/**
 * The log as the core sees it: persisted entries in {@link RaftStorage} plus
 * {@link Unstable} ones, with the commit and apply cursors (etcd's raftLog).
 */
import { CompactedError, RaftInvariantError, UnavailableError } from './errors';
import { Unstable } from './unstable';
import type { Entry, RaftStorage, Snapshot } from './types';

/** Payload size of an entry for batching limits, in bytes. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 16;
}

/** Keeps a prefix of `ents` whose total size stays within `maxBytes` (always at least one entry). */
export function limitSize(ents: Entry[], maxBytes: number | undefined): Entry[] {
  if (maxBytes === undefined || ents.length === 0) return ents;
  let size = entrySize(ents[0] as Entry);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n] as Entry);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known committed. */
  committed: number;
  /** Highest index applied by the driver (acknowledged through `advance`). */
  applied: number;
  /** Highest index handed out for applying in a Ready not yet advanced (>= applied). */
  applying = 0;

  constructor(readonly storage: RaftStorage) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry `i`, or undefined when it is compacted (below first index - 1) or past the last index. Never throws for range. */
  maybeTerm(i: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return undefined;
      throw e;
    }
  }

  /** Term of entry `i`. Throws {@link CompactedError} below the first index - 1, {@link UnavailableError} past the last. */
  term(i: number): number {
    const t = this.maybeTerm(i);
    if (t !== undefined) return t;
    if (i > this.lastIndex()) throw new UnavailableError(`raft log: index ${i} is past the last index ${this.lastIndex()}`, i);
    throw new CompactedError(`raft log: index ${i} is compacted (first index ${this.firstIndex()})`, i);
  }

  /** Term of `i`, or 0 when compacted or unavailable. */
  termOrZero(i: number): number {
    return this.maybeTerm(i) ?? 0;
  }

  lastTerm(): number {
    const li = this.lastIndex();
    const t = this.termOrZero(li);
    if (t === 0 && li > 0) throw new RaftInvariantError(`raft log: term of last index ${li} unknown`);
    return t;
  }

  matchTerm(i: number, term: number): boolean {
    return this.termOrZero(i) === term && (term !== 0 || i === 0);
  }

  /**
   * §5.3: the follower's side of AppendEntries. Returns the last index of the
   * new entries, or null when the log does not contain (index, logTerm).
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new RaftInvariantError(`raft log: entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries (replacing a conflicting suffix); returns the new last index. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (!first) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      throw new RaftInvariantError(`raft log: append after ${first.index - 1} is below committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Index of the first entry of `ents` whose term differs from ours (or that we lack); 0 if none. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * Fast back-off (thesis §5.3 optimization): the largest index <= `index`
   * whose term is <= `term`, with that term.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (let i = index; i >= 0; i--) {
      const t = this.maybeTerm(i);
      if (t === undefined) return [i, 0];
      if (t <= term) return [i, t];
    }
    return [0, 0];
  }

  unstableEntries(): Entry[] {
    return [...this.unstable.entries];
  }

  /** Committed entries not yet applied, up to `maxBytes`. */
  nextCommittedEntries(maxBytes: number | undefined): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, maxBytes);
    return [];
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(index: number): void {
    if (this.committed < index) {
      if (this.lastIndex() < index) {
        throw new RaftInvariantError(`raft log: commit ${index} is past the last index ${this.lastIndex()} (log lost or truncated?)`);
      }
      this.committed = index;
    }
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    if (this.committed < index || index < this.applied) {
      throw new RaftInvariantError(`raft log: applied ${index} outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && lastIndex >= this.lastIndex());
  }

  /** Commits `maxIndex` only if its entry is of `term` (§5.4.2: only current-term entries are committed by counting). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.meta.index;
    this.unstable.restore(s);
  }

  /** Entries from `i` to the end, up to `maxBytes`. */
  entriesFrom(i: number, maxBytes: number | undefined): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi), up to `maxBytes` (at least one). Throws {@link CompactedError} below the first index. */
  slice(lo: number, hi: number, maxBytes?: number): Entry[] {
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(`raft log: index ${lo} is compacted (first index ${first})`, lo);
    const upper = this.lastIndex() + 1;
    if (lo > hi || hi > upper) throw new RaftInvariantError(`raft log: slice[${lo},${hi}) out of bound [${first},${upper})`);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const stored = this.storage.entries(lo, Math.min(hi, off), maxBytes);
      if (stored.length < Math.min(hi, off) - lo) return stored; // size limit reached
      ents = stored;
    }
    if (hi > off) {
      const u = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxBytes);
  }
}
