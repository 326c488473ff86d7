import type { Entry, NodeId, RaftStorage } from '../../src/core/types';

/** A broken Raft safety property, found by the simulation. */
export class SafetyViolation extends Error {
  override name = 'SafetyViolation';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameEntry(a: Entry, b: Entry): boolean {
  return a.term === b.term && a.index === b.index && a.type === b.type && sameBytes(a.data, b.data);
}

/**
 * Checks the Raft paper's safety properties (Figure 3) as the simulation runs:
 * - Election Safety: at most one leader per term;
 * - Leader Completeness: a new leader's persisted log holds every entry known
 *   committed (applied anywhere) that is not already inside its snapshot;
 * - State Machine Safety: every node applies the same entry at an index, and
 *   applies indexes in order without gaps;
 * - Log Matching: two persisted logs that agree on an entry's term agree on
 *   every entry before it (checked on demand, it is O(log length)).
 * Each check throws {@link SafetyViolation} at the first breach.
 */
export class SafetyMonitor {
  private readonly leaders = new Map<number, NodeId>();
  /** Index → the entry first applied there (by any node). */
  private readonly committed: Entry[] = [];
  private maxCommitted = 0;
  leaderElections = 0;
  appliedEntries = 0;

  onLeader(id: NodeId, term: number, storage: RaftStorage): void {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== id) {
      throw new SafetyViolation(`Election Safety: ${prev} and ${id} are both leader in term ${term}`);
    }
    if (prev === undefined) this.leaderElections++;
    this.leaders.set(term, id);
    const from = storage.firstIndex();
    const last = storage.lastIndex();
    for (let i = from; i <= this.maxCommitted; i++) {
      const c = this.committed[i];
      if (!c) continue;
      if (i > last) {
        throw new SafetyViolation(`Leader Completeness: ${id} leads term ${term} with last index ${last} but index ${i} (term ${c.term}) is committed`);
      }
      const t = storage.term(i);
      if (t !== c.term) {
        throw new SafetyViolation(`Leader Completeness: ${id} leads term ${term} with term ${t} at index ${i}, committed entry has term ${c.term}`);
      }
    }
  }

  /** Called for every entry a node applies, in order; `applied` is the node's previous applied index. */
  onApply(id: NodeId, applied: number, entry: Entry): void {
    if (entry.index !== applied + 1) {
      throw new SafetyViolation(`State Machine Safety: ${id} applied index ${entry.index} right after ${applied}`);
    }
    const c = this.committed[entry.index];
    if (c === undefined) {
      this.committed[entry.index] = entry;
      if (entry.index > this.maxCommitted) this.maxCommitted = entry.index;
    } else if (!sameEntry(c, entry)) {
      throw new SafetyViolation(
        `State Machine Safety: ${id} applied term ${entry.term} (${entry.data.length} bytes) at index ${entry.index}, another node applied term ${c.term} (${c.data.length} bytes)`,
      );
    }
    this.appliedEntries++;
  }

  /** A snapshot installed at `index` must agree with what is known committed at that index. */
  onSnapshot(id: NodeId, index: number, term: number): void {
    const c = this.committed[index];
    if (c && c.term !== term) {
      throw new SafetyViolation(`State Machine Safety: ${id} installed a snapshot at ${index} term ${term}, committed entry there has term ${c.term}`);
    }
  }

  /** Log Matching over every pair of persisted logs. */
  checkLogMatching(logs: ReadonlyMap<NodeId, RaftStorage>): void {
    const ids = [...logs.keys()].sort();
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) {
        const x = logs.get(ids[a] as NodeId) as RaftStorage;
        const y = logs.get(ids[b] as NodeId) as RaftStorage;
        const lo = Math.max(x.firstIndex(), y.firstIndex());
        const hi = Math.min(x.lastIndex(), y.lastIndex());
        if (hi < lo) continue;
        const ex = x.entries(lo, hi + 1);
        const ey = y.entries(lo, hi + 1);
        let i = ex.length - 1;
        while (i >= 0 && (ex[i] as Entry).term !== (ey[i] as Entry).term) i--;
        for (; i >= 0; i--) {
          if (!sameEntry(ex[i] as Entry, ey[i] as Entry)) {
            throw new SafetyViolation(`Log Matching: ${ids[a]} and ${ids[b]} agree on a later entry but differ at index ${lo + i}`);
          }
        }
      }
    }
  }
}
