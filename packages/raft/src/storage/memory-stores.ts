import type { Entry, HardState, Snapshot } from '../core/types';
import { StorageError } from './errors';
import type { LogStore, RaftStores, SnapshotStore, StableStore } from './stores';

/** An in-memory {@link LogStore} (tests, simulations, benchmarks). Not durable. */
export class MemoryLogStore implements LogStore {
  /** entries[i] has index first + i. */
  private entries: Entry[] = [];
  private first = 0;

  async firstIndex(): Promise<number> {
    return this.entries.length === 0 ? 0 : this.first;
  }

  async lastIndex(): Promise<number> {
    return this.entries.length === 0 ? 0 : this.first + this.entries.length - 1;
  }

  async getEntries(lo: number, hi: number): Promise<Entry[]> {
    if (this.entries.length === 0) return [];
    const from = Math.max(lo, this.first) - this.first;
    const to = Math.min(hi, this.first + this.entries.length) - this.first;
    return to > from ? this.entries.slice(from, to) : [];
  }

  async storeEntries(entries: readonly Entry[]): Promise<void> {
    this.storeSync(entries);
  }

  /** Synchronous form of {@link storeEntries}. */
  storeSync(entries: readonly Entry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    checkContiguous(entries);
    if (this.entries.length === 0) {
      this.first = head.index;
      this.entries = entries.slice();
      return;
    }
    const last = this.first + this.entries.length - 1;
    if (head.index > last + 1) {
      throw new StorageError(`memory log: gap, appending index ${head.index} after last index ${last}`);
    }
    if (head.index <= this.first) {
      this.first = head.index;
      this.entries = entries.slice();
      return;
    }
    this.entries.length = head.index - this.first;
    for (const e of entries) this.entries.push(e);
  }

  async deleteRange(lo: number, hi: number): Promise<void> {
    if (this.entries.length === 0 || hi <= lo) return;
    const last = this.first + this.entries.length - 1;
    if (lo <= this.first && hi > last) {
      this.entries = [];
      this.first = 0;
    } else if (lo <= this.first) {
      const n = Math.max(0, hi - this.first);
      this.entries = this.entries.slice(n);
      this.first += n;
    } else if (hi > last) {
      this.entries.length = Math.max(0, lo - this.first);
    } else {
      throw new StorageError(`memory log: deleteRange [${lo}, ${hi}) would leave a hole inside [${this.first}, ${last}]`);
    }
  }
}

/** An in-memory {@link StableStore}. Not durable. */
export class MemoryStableStore implements StableStore {
  private hardState: HardState | null = null;
  private readonly meta = new Map<string, Uint8Array>();

  async getHardState(): Promise<HardState | null> {
    return this.hardState;
  }

  async setHardState(state: HardState): Promise<void> {
    this.hardState = state;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = this.meta.get(key);
    return v === undefined ? undefined : v.slice();
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    this.meta.set(key, value.slice());
  }
}

/** An in-memory {@link SnapshotStore} keeping the newest snapshot. Not durable. */
export class MemorySnapshotStore implements SnapshotStore {
  private snap: Snapshot | null = null;

  async save(snapshot: Snapshot): Promise<void> {
    this.snap = snapshot;
  }

  async latest(): Promise<Snapshot | null> {
    return this.snap;
  }
}

/**
 * The three memory stores bundled for `RaftNode`. Keep the object to
 * "restart" a node from its persisted state in a test (as if from disk).
 */
export function memoryStores(): RaftStores & { log: MemoryLogStore; stable: MemoryStableStore; snapshots: MemorySnapshotStore } {
  return { log: new MemoryLogStore(), stable: new MemoryStableStore(), snapshots: new MemorySnapshotStore() };
}

/** Throws StorageError unless entry indexes increase by one. */
export function checkContiguous(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.index !== entries[i - 1]!.index + 1) {
      throw new StorageError(`entries not contiguous: index ${entries[i]!.index} follows ${entries[i - 1]!.index}`);
    }
  }
}
