import {
  StoreClosedError,
  StoreUnavailableError,
  valueBytes,
  type DeleteResult,
  type KeySelector,
  type KeyValue,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type ReadOptions,
  type Store,
  type StoreWatch,
  type TxnInput,
  type TxnResult,
  type ValueInput,
  type WatchListener,
  type WatchOptions,
} from '@weft/interface';
import { Etcd3 } from 'etcd3';
import { EtcdRequestRefusedError } from './errors';
import { EtcdWatch, type EtcdWatchStats } from './etcd-watch';
import { classifyFailure } from './failures';
import { KeySpace } from './key-space';
import { ownedClientOptions, resolveOptions, type EtcdStoreOptions } from './options';
import { deleteRequest, putRequest, rangeRequest, txnRequest } from './requests';
import { deleteResultOf, kvOf, putResultOf, rangeResultOf, revisionOf, txnResultOf } from './responses';

/** Counters of an {@link EtcdStore}. */
export interface EtcdStoreStats extends EtcdWatchStats {
  /** Requests sent again after a failure that did not apply them (reads, and writes that never left the client). */
  retries: number;
}

/** Per-call gRPC options the store sets. */
interface CallOptions {
  /** Absolute deadline, ms since the epoch. */
  readonly deadline: number;
}

const FIRST_RETRY_MS = 25;
const MAX_RETRY_MS = 500;
/** etcd has no empty key; `\0` is the smallest one. */
const SMALLEST_KEY = Buffer.from([0]);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a txn writes (and so must not be blindly re-sent). */
function txnWrites(txn: TxnInput): boolean {
  return [...(txn.success ?? []), ...(txn.failure ?? [])].some((op) => op.op !== 'range');
}

/**
 * A `Store` on an etcd v3 cluster, through the `etcd3` client — for users who
 * already run etcd (the pre-swarm "cluster-store" model). The data model is
 * etcd's own, so revisions, versions and txn semantics map one to one; int64
 * revisions become numbers (`EtcdRevisionRangeError` past 2^53).
 *
 * Requests: each has a time budget (`requestTimeoutMs`). Reads, and writes
 * that surely never reached etcd (no connection), are retried with back-off
 * within it; a write that failed after it may have reached etcd is not, and
 * rejects with `StoreUnavailableError` with `outcomeUnknown: true`. etcd
 * refusing a request (empty key, too large, too many txn ops, a key written
 * twice in one txn, permission) rejects with `EtcdRequestRefusedError`.
 *
 * Watches: one etcd watch stream each, resumed on a new stream from the
 * revision after the last delivered event when a stream fails — nothing lost
 * or delivered twice — and ended with `WatchCompactedError` when etcd has
 * compacted that revision away. Every event carries `prevKv` when the key
 * existed before.
 *
 * Differences from the other backends, all etcd's: keys order by UTF-8 bytes
 * (differs from UTF-16 order only between astral characters and
 * U+E000–U+FFFF); a txn may write each key at most once and hold at most
 * etcd's `--max-txn-ops` (default 128) ops; a request is at most
 * `--max-request-bytes` (default 1.5 MiB); the empty key exists only inside
 * a namespace.
 *
 * @example
 * const store = await EtcdStore.connect({ endpoints: ['http://127.0.0.1:2379'], namespace: 'weft/' });
 * await store.put('nodes/n1', 'up');
 * await store.close();
 */
export class EtcdStore implements Store {
  /** Counters, for tests and metrics. */
  readonly stats: EtcdStoreStats = { retries: 0, watchStreams: 0, watchResumes: 0, duplicateEvents: 0, progressNotices: 0 };
  /** The etcd key prefix every key of this store lives under. */
  readonly namespace: string;
  private readonly client: Etcd3;
  private readonly ownsClient: boolean;
  private readonly space: KeySpace;
  private readonly timeoutMs: number;
  private closed = false;
  private readonly pending = new Set<(error: unknown) => void>();
  private readonly watches = new Set<EtcdWatch>();

  /**
   * Creates the store without contacting etcd (the first request does). Use
   * {@link EtcdStore.connect} to fail early when etcd is unreachable.
   * @throws InvalidOptionsError naming the bad option.
   */
  constructor(options: EtcdStoreOptions) {
    const o = resolveOptions(options);
    this.namespace = o.namespace;
    this.space = new KeySpace(o.namespace);
    this.timeoutMs = o.requestTimeoutMs;
    this.ownsClient = o.client === undefined;
    this.client = o.client ?? new Etcd3(ownedClientOptions(o.hosts ?? []));
  }

  /**
   * Creates the store and checks that etcd answers a linearizable read
   * (so that a quorum is up) within `requestTimeoutMs`.
   * @throws InvalidOptionsError naming the bad option.
   * @throws StoreUnavailableError (rejects) when etcd does not answer; the store is then closed.
   */
  static async connect(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.currentRevision();
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  /**
   * The etcd cluster's current revision (a linearizable read).
   * @throws StoreUnavailableError, StoreClosedError.
   */
  async currentRevision(): Promise<number> {
    const key = this.space.prefix.length > 0 ? this.space.prefix : SMALLEST_KEY;
    const res = await this.call('read', false, (o) => this.client.kv.range({ key, keys_only: true, limit: '1' }, o));
    return revisionOf(res.header);
  }

  /**
   * The key's current key-value, or undefined; `serializable` reads the
   * answering member's local copy (etcd's serializable range).
   */
  async get(key: string, options: ReadOptions = {}): Promise<KeyValue | undefined> {
    const res = await this.call('get', false, (o) => this.client.kv.range(rangeRequest(this.space, { key }, 0, options.serializable === true), o));
    const kv = res.kvs?.[0];
    return kv ? kvOf(this.space, kv) : undefined;
  }

  /** Key-values a selector covers, in (etcd's byte) key order, with count, `more` and the revision read. */
  async range(keys: KeySelector, options: RangeOptions = {}): Promise<RangeResult> {
    const req = rangeRequest(this.space, keys, options.limit ?? 0, options.serializable === true);
    return rangeResultOf(this.space, await this.call('range', false, (o) => this.client.kv.range(req, o)));
  }

  /** Sets a key (text becomes UTF-8; bytes are sent as they are, not copied). */
  async put(key: string, value: ValueInput, options: { readonly prevKv?: boolean } = {}): Promise<PutResult> {
    const req = putRequest(this.space, key, valueBytes(value), options.prevKv === true);
    return putResultOf(this.space, await this.call('put', true, (o) => this.client.kv.put(req, o)));
  }

  /** Deletes one key (a string) or every key a selector covers. */
  async delete(keys: string | KeySelector, options: { readonly prevKv?: boolean } = {}): Promise<DeleteResult> {
    const prevKv = options.prevKv === true;
    const req = deleteRequest(this.space, typeof keys === 'string' ? { key: keys } : keys, prevKv);
    return deleteResultOf(this.space, await this.call('delete', true, (o) => this.client.kv.deleteRange(req, o)), prevKv);
  }

  /** An atomic compare → then/else as one etcd txn; every result carries the txn's revision. */
  async txn(request: TxnInput): Promise<TxnResult> {
    const req = txnRequest(this.space, request);
    return txnResultOf(this.space, request, await this.call('txn', txnWrites(request), (o) => this.client.kv.txn(req, o)));
  }

  /**
   * Watches every key under `prefix` (a string) or a selector. Resolves once
   * etcd has created the watch. Without `fromRevision` it starts after the
   * revision a linearizable read sees when called; with it, a read at that
   * revision first tells whether etcd still has it. The read and the
   * creation each get `requestTimeoutMs`. Events of one etcd watch response
   * (one revision, or several while replaying history) form one batch.
   * @throws WatchCompactedError (rejects) when `fromRevision` is compacted; a compaction met on a later resume goes to `onError`.
   * @throws StoreUnavailableError (rejects) when etcd cannot be read or the watch is not created in time.
   */
  async watch(keys: string | KeySelector, listener: WatchListener, options: WatchOptions = {}): Promise<StoreWatch> {
    if (this.closed) throw new StoreClosedError('etcd store is closed');
    const range = this.space.range(typeof keys === 'string' ? { prefix: keys } : keys);
    const from = options.fromRevision !== undefined ? Math.max(1, options.fromRevision) : undefined;
    const probe = { key: range.key.length > 0 ? range.key : SMALLEST_KEY, keys_only: true, limit: '1', ...(from !== undefined ? { revision: String(from) } : {}) };
    let startRevision: number;
    let expectCompaction = false;
    try {
      const res = await this.call('watch', false, (o) => this.client.kv.range(probe, o));
      startRevision = from ?? revisionOf(res.header) + 1;
    } catch (err) {
      // OUT_OF_RANGE: the revision is compacted (the watch will be cancelled with the compact revision) or in the future (fine).
      if (from === undefined || !(err instanceof EtcdRequestRefusedError) || err.grpcCode !== 11) throw err;
      expectCompaction = /required revision has been compacted/.test(err.reason);
      startRevision = from;
    }
    if (this.closed) throw new StoreClosedError('etcd store is closed');
    const watch: EtcdWatch = new EtcdWatch({
      client: this.client,
      space: this.space,
      range,
      startRevision,
      listener,
      onError: options.onError,
      establishTimeoutMs: this.timeoutMs,
      expectCompaction,
      stats: this.stats,
      onEnd: () => this.watches.delete(watch),
    });
    this.watches.add(watch);
    watch.start();
    return watch.established;
  }

  /**
   * Rejects requests in flight with StoreClosedError (a write among them may
   * still be applied by etcd), ends every watch without calling `onError`,
   * and closes the etcd3 client if the store created it. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const reject of [...this.pending]) reject(new StoreClosedError('etcd store is closed'));
    this.pending.clear();
    for (const w of [...this.watches]) w.close();
    this.watches.clear();
    if (this.ownsClient) this.client.close();
  }

  /** Runs one request within the time budget, rejecting with StoreClosedError if the store closes meanwhile. */
  private call<T>(operation: string, write: boolean, send: (options: CallOptions) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError('etcd store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      this.attempt(operation, write, send).then(
        (value) => {
          this.pending.delete(reject);
          resolve(value);
        },
        (err: unknown) => {
          this.pending.delete(reject);
          reject(err);
        },
      );
    });
  }

  private async attempt<T>(operation: string, write: boolean, send: (options: CallOptions) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    let pause = FIRST_RETRY_MS;
    let mayHaveApplied = false;
    for (;;) {
      try {
        return await send({ deadline });
      } catch (err) {
        if (this.closed) throw new StoreClosedError('etcd store is closed');
        const failure = classifyFailure(err);
        if (failure.kind === 'closed') throw new StoreClosedError(`etcd store: the etcd client is closed (${operation})`, { cause: err });
        if (failure.kind === 'refused') throw new EtcdRequestRefusedError(operation, failure.reason, failure.grpcCode, { cause: err });
        if (!failure.notSent) mayHaveApplied = true;
        const retry = (!write || failure.notSent) && Date.now() + pause < deadline;
        if (!retry) {
          throw new StoreUnavailableError(`etcd ${operation} failed (request timeout ${this.timeoutMs} ms): ${failure.reason}`, write && mayHaveApplied, { cause: err });
        }
        this.stats.retries += 1;
        await sleep(pause);
        pause = Math.min(MAX_RETRY_MS, pause * 2);
        if (this.closed) throw new StoreClosedError('etcd store is closed');
      }
    }
  }
}
