import {
  StoreClosedError,
  StoreUnavailableError,
  kv as ops,
  parseOptions,
  type DeleteResult,
  type KeySelector,
  type KeyValue,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type Store,
  type StoreRequest,
  type StoreWatch,
  type TxnInput,
  type TxnResult,
  type ValueInput,
  type WatchListener,
  type WatchOptions,
} from '@weft/interface';
import { KvStore, type KvResult } from '@weft/raft';
import { z } from 'zod';

const memoryStoreOptionsSchema = z.object({ historyLimit: z.number().int().min(1).optional() }).strict();

/** Options of a {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Change events kept for watches that start from an older revision (default 10,000). */
  readonly historyLimit?: number;
}

/**
 * A `Store` in one process's memory: the same state machine as the embedded
 * Raft store (`@weft/raft`'s `KvStore`), without replication. For tests, and
 * for every node of a single-process cluster sharing one store. Watch events
 * are delivered on a later microtask, never inside the write's call, as a
 * remote store would.
 */
export class MemoryStore implements Store {
  private readonly kv: KvStore;
  private closed = false;
  private readonly watches = new Set<StoreWatch>();

  /** @throws InvalidOptionsError naming the bad option. */
  constructor(options: MemoryStoreOptions = {}) {
    const o = parseOptions(memoryStoreOptionsSchema, options, 'MemoryStore');
    this.kv = new KvStore(o.historyLimit !== undefined ? { historyLimit: o.historyLimit } : {});
  }

  /** The store's current revision. */
  get revision(): number {
    return this.kv.revision;
  }

  private run(request: StoreRequest): KvResult {
    if (this.closed) throw new StoreClosedError('memory store is closed');
    const r = this.kv.execute(request);
    if (r.op === 'error') throw new StoreUnavailableError(`memory store refused the request: ${r.error.message}`, false);
    return r;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    if (this.closed) throw new StoreClosedError('memory store is closed');
    return this.kv.get(key);
  }

  async range(keys: KeySelector, options: RangeOptions = {}): Promise<RangeResult> {
    return this.run(ops.range(keys, options.limit ? { limit: options.limit } : {})) as RangeResult;
  }

  async put(key: string, value: ValueInput, options: { readonly prevKv?: boolean } = {}): Promise<PutResult> {
    return this.run(ops.put(key, value, options)) as PutResult;
  }

  async delete(keys: string | KeySelector, options: { readonly prevKv?: boolean } = {}): Promise<DeleteResult> {
    return this.run(ops.delete(keys, options)) as DeleteResult;
  }

  async txn(request: TxnInput): Promise<TxnResult> {
    return this.run(ops.txn(request)) as TxnResult;
  }

  async watch(keys: string | KeySelector, listener: WatchListener, options: WatchOptions = {}): Promise<StoreWatch> {
    if (this.closed) throw new StoreClosedError('memory store is closed');
    // Deliver asynchronously (in order) so a listener never runs inside the writer's call.
    let chain = Promise.resolve();
    let active = true;
    const inner = this.kv.watch(
      keys,
      (events) => {
        chain = chain.then(() => {
          if (active) listener(events);
        });
      },
      {
        ...(options.fromRevision !== undefined ? { fromRevision: options.fromRevision } : {}),
        onError: (err) => {
          chain = chain.then(() => {
            if (!active) return;
            active = false;
            options.onError?.(err);
          });
        },
      },
    );
    const handle: StoreWatch = {
      cancel: () => {
        active = false;
        inner.cancel();
        this.watches.delete(handle);
      },
      get active() {
        return active && inner.active;
      },
    };
    this.watches.add(handle);
    return handle;
  }

  /** Ends every watch and refuses further requests. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.watches]) w.cancel();
  }
}
