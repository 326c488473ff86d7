import { parseOptions } from '@weft/interface';
import { Level } from 'level';
import { z } from 'zod';
import type { Entry, HardState, Snapshot } from '../core/types';
import { StorageError } from '../storage/errors';
import { checkContiguous } from '../storage/memory-stores';
import type { LogStore, RaftStores, ReadyWrite, SnapshotStore, StableStore } from '../storage/stores';
import { decodeEntry, encodeEntry } from '../transport/codec/entry-codec';
import { decodeHardState, decodeSnapshotMeta, encodeHardState, encodeSnapshotMeta } from '../transport/codec/snapshot-codec';

type Bytes = Uint8Array;
type Op = { type: 'put'; key: Bytes; value: Bytes } | { type: 'del'; key: Bytes };

const LOG = 0x01;
const HARD_STATE = Uint8Array.of(0x02);
const META = 0x03;
const SNAP_META = Uint8Array.of(0x04, 0x01);
const SNAP_DATA = Uint8Array.of(0x04, 0x02);
const encoder = new TextEncoder();

function logKey(index: number): Bytes {
  const k = new Uint8Array(9);
  const v = new DataView(k.buffer);
  k[0] = LOG;
  v.setUint32(1, Math.floor(index / 0x1_0000_0000));
  v.setUint32(5, index >>> 0);
  return k;
}

function keyIndex(k: Bytes): number {
  const v = new DataView(k.buffer, k.byteOffset, k.byteLength);
  return v.getUint32(1) * 0x1_0000_0000 + v.getUint32(5);
}

function metaKey(key: string): Bytes {
  const b = encoder.encode(key);
  const k = new Uint8Array(b.length + 1);
  k[0] = META;
  k.set(b, 1);
  return k;
}

/** Options of {@link LevelStorage.open}. */
export interface LevelStorageOptions {
  /** fsync every write (default true). Turning it off loses the last writes on a power cut, which breaks Raft's safety. */
  sync?: boolean;
}

const pathSchema = z.object({ path: z.string().min(1, 'must be a non-empty directory path') });
const optionsSchema = z.object({ sync: z.boolean().default(true) });

/**
 * All durable Raft state in one LevelDB database (through `level`): the log
 * (key 0x01 + 8-byte big-endian index), the hard state, metadata and the newest
 * snapshot. It implements {@link LogStore}, {@link StableStore} and
 * {@link SnapshotStore}, and {@link RaftStores.writeReady}, which writes a
 * whole Ready (snapshot, entries with conflict truncation, hard state) as one
 * batch with `sync: true` — one fsync per Ready (none when the Ready only
 * moved the commit index: `mustSync` false).
 *
 * Single writer: first/last index are cached in memory, so only one
 * LevelStorage (one process) may use a directory at a time; LevelDB's lock
 * file enforces this.
 */
export class LevelStorage implements LogStore, StableStore, SnapshotStore, RaftStores {
  readonly log: LogStore = this;
  readonly stable: StableStore = this;
  readonly snapshots: SnapshotStore = this;
  private first = 0;
  private last = 0;
  private closed = false;

  private constructor(
    private readonly db: Level<Bytes, Bytes>,
    private readonly sync: boolean,
  ) {}

  /**
   * Opens (creating if needed) the database in directory `path`.
   * @throws InvalidOptionsError (from `@weft/interface`, as a rejection) for an empty `path` or a bad option;
   *   the `level` open error (e.g. LEVEL_DATABASE_NOT_OPEN when another process holds the lock).
   */
  static async open(path: string, options?: LevelStorageOptions): Promise<LevelStorage> {
    const dir = parseOptions(pathSchema, { path }, 'LevelStorage.open').path;
    const { sync } = parseOptions(optionsSchema, options, 'LevelStorage.open');
    const db = new Level<Bytes, Bytes>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const s = new LevelStorage(db, sync);
    await s.loadBounds();
    return s;
  }

  private async loadBounds(): Promise<void> {
    const range = { gte: logKey(0), lte: logKey(Number.MAX_SAFE_INTEGER) };
    const firstKeys = await this.db.keys({ ...range, limit: 1 }).all();
    const lastKeys = await this.db.keys({ ...range, limit: 1, reverse: true }).all();
    this.first = firstKeys[0] ? keyIndex(firstKeys[0]) : 0;
    this.last = lastKeys[0] ? keyIndex(lastKeys[0]) : 0;
  }

  private check(): void {
    if (this.closed) throw new StorageError('level storage: used after close');
  }

  async firstIndex(): Promise<number> {
    this.check();
    return this.first;
  }

  async lastIndex(): Promise<number> {
    this.check();
    return this.last;
  }

  /** See {@link LogStore.getEntries}. Entry data are fresh buffers owned by the caller. */
  async getEntries(lo: number, hi: number): Promise<Entry[]> {
    this.check();
    if (hi <= lo) return [];
    const values = await this.db.values({ gte: logKey(lo), lt: logKey(hi) }).all();
    return values.map((v) => decodeEntry(v));
  }

  /** See {@link LogStore.storeEntries}. One synced batch. */
  async storeEntries(entries: readonly Entry[]): Promise<void> {
    await this.writeReady({ entries });
  }

  /** See {@link LogStore.deleteRange}. Throws StorageError for a range that would leave a hole. */
  async deleteRange(lo: number, hi: number): Promise<void> {
    this.check();
    if (hi <= lo || this.last === 0) return;
    const from = Math.max(lo, this.first);
    const to = Math.min(hi, this.last + 1);
    if (to <= from) return;
    if (from > this.first && to <= this.last) {
      throw new StorageError(`level storage: deleteRange [${lo}, ${hi}) would leave a hole inside [${this.first}, ${this.last}]`);
    }
    await this.db.clear({ gte: logKey(from), lt: logKey(to) });
    if (from <= this.first && to > this.last) this.first = this.last = 0;
    else if (from <= this.first) this.first = to;
    else this.last = from - 1;
  }

  async getHardState(): Promise<HardState | null> {
    this.check();
    const v = await this.db.get(HARD_STATE);
    return v === undefined ? null : decodeHardState(v);
  }

  async setHardState(state: HardState): Promise<void> {
    await this.writeReady({ entries: [], hardState: state });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.check();
    return this.db.get(metaKey(key));
  }

  /** See {@link StableStore.set}. Synced. */
  async set(key: string, value: Uint8Array): Promise<void> {
    this.check();
    await this.db.put(metaKey(key), value, { sync: this.sync });
  }

  /** Saves a snapshot (meta and data in one synced batch). Does not touch the log: compaction is `deleteRange`. */
  async save(snapshot: Snapshot): Promise<void> {
    this.check();
    await this.db.batch(
      [
        { type: 'put', key: SNAP_META, value: encodeSnapshotMeta(snapshot.meta) },
        { type: 'put', key: SNAP_DATA, value: snapshot.data },
      ],
      { sync: this.sync },
    );
  }

  async latest(): Promise<Snapshot | null> {
    this.check();
    const [meta, data] = await this.db.getMany([SNAP_META, SNAP_DATA]);
    if (meta === undefined) return null;
    return { meta: decodeSnapshotMeta(meta), data: data ?? new Uint8Array(0) };
  }

  /**
   * Persists one Ready as a single synced batch: a received snapshot (which
   * discards the whole log), entries (deleting the stored suffix after them),
   * then the hard state.
   */
  async writeReady(write: ReadyWrite): Promise<void> {
    this.check();
    const ops: Op[] = [];
    let first = this.first;
    let last = this.last;
    if (write.snapshot) {
      ops.push({ type: 'put', key: SNAP_META, value: encodeSnapshotMeta(write.snapshot.meta) });
      ops.push({ type: 'put', key: SNAP_DATA, value: write.snapshot.data });
      for (let i = first; last > 0 && i <= last; i++) ops.push({ type: 'del', key: logKey(i) });
      first = last = 0;
    }
    const entries = write.entries;
    const head = entries[0];
    if (head !== undefined) {
      checkContiguous(entries);
      if (last > 0 && head.index > last + 1) {
        throw new StorageError(`level storage: gap, appending index ${head.index} after last index ${last}`);
      }
      const newLast = head.index + entries.length - 1;
      for (const e of entries) ops.push({ type: 'put', key: logKey(e.index), value: encodeEntry(e) });
      for (let i = newLast + 1; last > 0 && i <= last; i++) ops.push({ type: 'del', key: logKey(i) });
      if (last === 0 || head.index < first) first = head.index;
      last = newLast;
    }
    if (write.hardState) ops.push({ type: 'put', key: HARD_STATE, value: encodeHardState(write.hardState) });
    if (ops.length === 0) return;
    await this.db.batch(ops, { sync: this.sync && write.mustSync !== false });
    this.first = first;
    this.last = last;
  }

  /** Closes the database (releases its lock). Idempotent; later calls throw StorageError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}
