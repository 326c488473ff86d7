import {
  parseOptions,
  type Compare,
  type DeleteResult,
  type KeySelector,
  type KeyValue,
  type PutResult,
  type RangeRequest,
  type RangeResult,
  type StateMachine,
  type StoreRequest,
  type StoreWatch,
  type TxnOp,
  type TxnOpResult,
  type WatchEvent,
  type WatchListener,
  type WatchOptions,
} from '@weft/interface';
import { z } from 'zod';
import { ByteReader, ByteWriter, compareBytes } from './bytes';
import { decodeKvRequest } from './command-codec';
import { KvCommandError } from './errors';
import { SortedKeys } from './sorted-keys';
import type { KvResult } from './types';
import { WatchHub } from './watch-hub';

/** Options of {@link KvStore}. */
export interface KvStoreOptions {
  /** How many change events the store keeps for `watch({ fromRevision })` (default 10,000). Not replicated state. */
  readonly historyLimit?: number;
}

const storeOptionsSchema = z.object({ historyLimit: z.number().int().min(1).default(10_000) });
const watchOptionsSchema = z.object({
  fromRevision: z.number().int().min(1).optional(),
  onError: z.custom<(error: unknown) => void>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
});
const isSelector = (v: unknown): boolean => {
  if (typeof v === 'string') return true;
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if ('key' in o) return typeof o.key === 'string' && o.key.length > 0;
  if ('prefix' in o) return typeof o.prefix === 'string';
  return typeof o.start === 'string' && (o.end === undefined || typeof o.end === 'string');
};
const selectorSchema = z.custom<string | KeySelector>(isSelector, {
  message: 'must be a prefix (string) or a selector ({ key }, { prefix } or { start, end? })',
});
const watchArgsSchema = z.object({
  keys: selectorSchema,
  listener: z.custom<WatchListener>((v) => typeof v === 'function', { message: 'must be a function' }),
});

const SNAPSHOT_MAGIC = 0x574b5601; // "WKV" + format 1
const EMPTY = new Uint8Array(0);

/**
 * The replicated key-value state machine (etcd's data model): string keys in
 * order, byte values, a global revision, per-key create/mod revision and
 * version, atomic txns, and watches with a bounded event history.
 *
 * Deterministic and pure: no clock, no randomness; the same commands give the
 * same results and byte-identical snapshots on every replica. Watches and
 * their history are local (not part of snapshots).
 */
export class KvStore implements StateMachine<KvResult> {
  private readonly data = new Map<string, KeyValue>();
  private readonly keys = new SortedKeys();
  private readonly hub: WatchHub;
  private rev = 0;

  /** @throws InvalidOptionsError (from `@weft/interface`) when `historyLimit` is not a positive safe integer. */
  constructor(options?: KvStoreOptions) {
    this.hub = new WatchHub(parseOptions(storeOptionsSchema, options, 'KvStore').historyLimit);
  }

  /** The current store revision (0 for an empty store that never had a write). */
  get revision(): number {
    return this.rev;
  }

  /** Events of revisions ≤ this can no longer be watched. */
  get compactRevision(): number {
    return this.hub.compactRevision;
  }

  /** Number of keys. */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Decodes and executes one committed command. Never throws for bad bytes:
   * returns an `error` result and leaves the store unchanged.
   * @param command - bytes from `encodeKvRequest`; not retained.
   */
  apply(command: Uint8Array, _index?: number): KvResult {
    let request: StoreRequest;
    try {
      request = decodeKvRequest(command);
    } catch (err) {
      const e = err instanceof KvCommandError ? err : new KvCommandError(String(err), 0);
      return { op: 'error', revision: this.rev, error: { name: e.name, message: e.message } };
    }
    // The decoder's values are fresh copies: the store keeps them as they are.
    return this.executeRequest(request, true);
  }

  /** Executes a decoded request (what `apply` does after decoding). Exposed for local, non-replicated use. Values are copied. */
  execute(request: StoreRequest): KvResult {
    return this.executeRequest(request, false);
  }

  /** `owned`: the request's put values belong to the store (no copy needed). */
  private executeRequest(request: StoreRequest, owned: boolean): KvResult {
    const events: WatchEvent[] = [];
    const next = this.rev + 1;
    let result: KvResult;
    if (request.op === 'txn') {
      const succeeded = request.compare.every((c) => this.holds(c));
      const branch = succeeded ? request.success : request.failure;
      const results = branch.map((op) => this.run(op, next, events, owned));
      if (events.length > 0) this.rev = next;
      result = { op: 'txn', revision: this.rev, succeeded, results: results.map((r) => this.stamp(r)) };
    } else {
      const r = this.run(request, next, events, owned);
      if (events.length > 0) this.rev = next;
      result = this.stamp(r);
    }
    this.hub.publish(events);
    return result;
  }

  /** Sets the final revision on a result computed mid-request. */
  private stamp<T extends TxnOpResult>(r: T): T {
    return r.revision === this.rev ? r : { ...r, revision: this.rev };
  }

  /** A linearizable-read helper: the range as of now, without going through the log. */
  range(request: RangeRequest | KeySelector): RangeResult {
    const req: RangeRequest = 'op' in request ? request : { op: 'range', keys: request };
    return this.readRange(req);
  }

  /** One key, or undefined. */
  get(key: string): KeyValue | undefined {
    return this.data.get(key);
  }

  /**
   * Watches every key under `keys` (a string is a prefix; or a selector):
   * `listener` gets the events of each write revision as one ordered batch,
   * synchronously while the write is applied. A listener must not throw: a
   * throw cancels the watch and goes to `options.onError`. History from
   * `options.fromRevision` is replayed before this returns. Local to this
   * replica: watches are not replicated state.
   * @throws WatchCompactedError (from `@weft/interface`) when `fromRevision ≤ compactRevision`.
   * @throws InvalidOptionsError (from `@weft/interface`) for a `fromRevision` below 1, a bad selector or listener.
   */
  watch(keys: string | KeySelector, listener: WatchListener, options?: WatchOptions): StoreWatch {
    parseOptions(watchArgsSchema, { keys, listener }, 'KvStore.watch');
    const opts = parseOptions(watchOptionsSchema, options, 'KvStore.watch');
    const selector: KeySelector = typeof keys === 'string' ? { prefix: keys } : keys;
    return this.hub.add(selector, this.rev, listener, opts);
  }

  private run(op: TxnOp, rev: number, events: WatchEvent[], owned: boolean): TxnOpResult {
    switch (op.op) {
      case 'range':
        return this.readRange(op);
      case 'put': {
        const prev = this.data.get(op.key);
        const kv: KeyValue = {
          key: op.key,
          value: owned ? op.value : op.value.slice(),
          createRevision: prev ? prev.createRevision : rev,
          modRevision: rev,
          version: prev ? prev.version + 1 : 1,
        };
        this.data.set(op.key, kv);
        if (!prev) this.keys.insert(op.key);
        events.push(prev ? { type: 'put', kv, prevKv: prev, revision: rev } : { type: 'put', kv, revision: rev });
        const r: PutResult = { op: 'put', revision: rev };
        return op.prevKv && prev ? { ...r, prevKv: prev } : r;
      }
      case 'delete': {
        const gone: KeyValue[] = [];
        for (const key of this.keys.select(op.keys)) {
          const prev = this.data.get(key) as KeyValue;
          this.data.delete(key);
          this.keys.remove(key);
          gone.push(prev);
          const tomb: KeyValue = { key, value: EMPTY, createRevision: 0, modRevision: rev, version: 0 };
          events.push({ type: 'delete', kv: tomb, prevKv: prev, revision: rev });
        }
        const r: DeleteResult = { op: 'delete', revision: gone.length > 0 ? rev : this.rev, deleted: gone.length };
        return op.prevKv ? { ...r, prevKvs: gone } : r;
      }
    }
  }

  private readRange(op: RangeRequest): RangeResult {
    const keys = this.keys.select(op.keys);
    const limit = op.limit && op.limit > 0 ? op.limit : keys.length;
    const kvs = keys.slice(0, limit).map((k) => this.data.get(k) as KeyValue);
    return { op: 'range', revision: this.rev, kvs, count: keys.length, more: keys.length > limit };
  }

  private holds(c: Compare): boolean {
    const kv = this.data.get(c.key);
    let d: number;
    if (c.target === 'value') {
      if (!kv) return false;
      d = compareBytes(kv.value, c.value);
    } else {
      const have = kv ? kv[c.target] : 0;
      d = have - c.value;
    }
    switch (c.result) {
      case 'equal':
        return d === 0;
      case 'notEqual':
        return d !== 0;
      case 'greater':
        return d > 0;
      case 'less':
        return d < 0;
    }
  }

  /**
   * The whole replicated state as bytes: magic, revision, then every key in
   * order with value, createRevision, modRevision, version. Canonical: equal
   * states give equal bytes.
   */
  snapshot(): Uint8Array {
    const w = new ByteWriter();
    w.uint(SNAPSHOT_MAGIC);
    w.uint(this.rev);
    const all = this.keys.all();
    w.uint(all.length);
    for (const key of all) {
      const kv = this.data.get(key) as KeyValue;
      w.string(key);
      w.bytes(kv.value);
      w.uint(kv.createRevision);
      w.uint(kv.modRevision);
      w.uint(kv.version);
    }
    return w.finish();
  }

  /**
   * Replaces the state with a {@link snapshot}. The watch history is dropped
   * (`compactRevision` becomes the snapshot's revision) and every active watch
   * ends with a WatchCompactedError through its `onError`.
   * @throws KvCommandError when `data` is not a valid snapshot (the store is then unchanged).
   */
  restore(data: Uint8Array): void {
    const r = new ByteReader(data);
    if (r.uint() !== SNAPSHOT_MAGIC) r.fail('not a KvStore snapshot (bad magic)');
    const rev = r.uint();
    const n = r.uint();
    const kvs: KeyValue[] = [];
    let last: string | undefined;
    for (let i = 0; i < n; i++) {
      const key = r.string();
      if (last !== undefined && key <= last) r.fail(`keys out of order at ${JSON.stringify(key)}`);
      last = key;
      const value = r.bytes();
      const createRevision = r.uint();
      const modRevision = r.uint();
      const version = r.uint();
      kvs.push({ key, value, createRevision, modRevision, version });
    }
    if (!r.done) r.fail('trailing bytes after the snapshot');
    this.data.clear();
    this.keys.clear();
    for (const kv of kvs) {
      this.data.set(kv.key, kv);
      this.keys.insert(kv.key);
    }
    this.rev = rev;
    this.hub.reset(rev);
  }
}
