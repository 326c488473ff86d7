import { isWeftError, textOf, type TxnResult } from '@weft/interface';
import { ContentionError, EndpointNotFoundError } from '../errors';
import type { CoreContext } from '../node/context';
import type { EndpointRecord, NetworkRecord } from '../records/schemas';
import { StalePool, buildTxn, refusedPool, settleRefused, type AttachSpec, type BuiltTxn, type Op } from './batch-txn';

export type { AttachSpec } from './batch-txn';

/** Counters of a {@link NetworkBatcher}. */
export interface BatcherStats {
  /** Txns that committed. */
  commits: number;
  /** Txns refused because the pool was not what they were built on (another writer, or an earlier refused txn). */
  conflicts: number;
  /** Operations carried by committed txns. */
  operations: number;
}

/** Settings of a {@link NetworkBatcher}. */
export interface BatcherSettings {
  /** Operations per txn: 24 keeps a txn within etcd's 128 ops (an attach writes 5 keys). */
  readonly maxBatch: number;
  /** Txns in flight at once, each built on the one before it (pipelining). */
  readonly maxInFlight: number;
  /** An operation refused this many times fails with ContentionError. */
  readonly maxAttempts: number;
}

const DEFAULTS: BatcherSettings = { maxBatch: 24, maxInFlight: 4, maxAttempts: 50 };

/**
 * One node's attaches and detaches on one network, as batched, pipelined
 * txns. Each txn reads-modifies-writes the network's address pool (an
 * `@weft/ipam` snapshot under one key) together with every endpoint record,
 * name and request index its batch touches, and commits only if the pool is
 * exactly the state it was built on (a value compare). Up to `maxInFlight`
 * txns go out at once, each built on the pool the previous one leaves, so
 * the store's log carries them back to back; they commit in order.
 *
 * When one is refused — another node changed the pool first — those built on
 * it are refused too (their expected pool never existed). The batcher sends
 * nothing more until every txn in flight has returned, takes the pool the
 * last one reported (results come back in commit order), settles what the
 * refusals already tell (a request id that committed earlier gets its
 * endpoint; a name taken), and sends the rest again after a short jittered
 * pause. An address is thus allocated exactly once cluster-wide and
 * committed before anyone uses it. A write whose outcome is unknown (a
 * connection lost) is re-sent the same way: its compares make a second
 * application impossible.
 *
 * Idempotency: an attach carries a request id; the txn requires that id to
 * be new, and a retry of a request that did commit gets the endpoint it
 * created.
 */
export class NetworkBatcher {
  readonly stats: BatcherStats = { commits: 0, conflicts: 0, operations: 0 };
  private readonly settings: BatcherSettings;
  private queue: Op[] = [];
  private inFlight = 0;
  /** The pool once every txn sent so far commits; undefined: read it before building the next txn. */
  private tip: string | undefined;
  /** True when `tip` was read from the store just now (a refused allocation on it is real, not staleness). */
  private tipFresh = false;
  /** The pool as of the last txn that returned (its new pool, or the pool its refusal read). */
  private known: string | undefined;
  /** A txn was refused: send nothing until every txn in flight has returned. */
  private draining = false;
  private paused: NodeJS.Timeout | undefined;
  private reading = false;
  private streak = 0;
  /** Attaches queued or in flight, by request id: a second call with the same id shares the first one's outcome. */
  private readonly pending = new Map<string, Promise<EndpointRecord>>();

  constructor(
    private readonly ctx: CoreContext,
    readonly network: NetworkRecord,
    settings: Partial<BatcherSettings> = {},
  ) {
    this.settings = { ...DEFAULTS, ...settings };
  }

  /** Allocates an address and writes the endpoint record; resolves with it once committed. */
  attach(spec: AttachSpec): Promise<EndpointRecord> {
    const same = this.pending.get(spec.requestId);
    if (same !== undefined) return same;
    const p = new Promise<EndpointRecord>((resolve, reject) => this.push({ kind: 'attach', spec, resolve, reject, attempts: 0 }));
    this.pending.set(spec.requestId, p);
    const done = (): void => {
      if (this.pending.get(spec.requestId) === p) this.pending.delete(spec.requestId);
    };
    p.then(done, done);
    return p;
  }

  /** Releases the endpoint's address and deletes its records; resolves once committed (also when already gone). */
  detach(endpoint: EndpointRecord): Promise<void> {
    return new Promise((resolve, reject) => this.push({ kind: 'detach', endpoint, resolve, reject, attempts: 0 }));
  }

  /** True while operations are queued or in flight. */
  get busy(): boolean {
    return this.queue.length > 0 || this.inFlight > 0;
  }

  private push(op: Op): void {
    this.queue.push(op);
    this.pump();
  }

  /**
   * Sends what it may: batches built on the tip, unless draining or pausing.
   * A txn goes out when none is in flight, or — pipelining — when a full
   * batch is waiting and fewer than `maxInFlight` are: partial batches wait
   * for the txn in flight, so operations arriving meanwhile share one txn.
   */
  private pump(): void {
    while (
      this.queue.length > 0 &&
      (this.inFlight === 0 || (this.inFlight < this.settings.maxInFlight && this.queue.length >= this.settings.maxBatch)) &&
      !this.draining &&
      this.paused === undefined
    ) {
      if (this.tip === undefined) {
        if (this.inFlight === 0) this.read();
        return;
      }
      const batch = this.queue.splice(0, this.settings.maxBatch);
      let built: BuiltTxn | undefined;
      try {
        built = buildTxn(this.ctx, this.network, batch, this.tip, this.tipFresh);
      } catch (err) {
        if (!(err instanceof StalePool)) throw err;
        this.queue.unshift(...batch);
        this.tip = undefined;
        this.tipFresh = false;
        if (this.inFlight > 0) this.draining = true;
        else this.read();
        return;
      }
      // A read is fresh for the build right after it only: later, other nodes may have changed the pool.
      this.tipFresh = false;
      if (built === undefined) continue;
      this.tip = built.newPool;
      this.inFlight += 1;
      void this.send(built);
    }
  }

  private read(): void {
    if (this.reading) return;
    this.reading = true;
    this.ctx.store.get(this.ctx.keys.pool(this.network.id)).then(
      (kv) => {
        this.reading = false;
        if (kv === undefined) {
          this.failAll(new EndpointNotFoundError(`network ${this.network.id} has no address pool (removed?)`));
          return;
        }
        this.tip = textOf(kv);
        this.tipFresh = true;
        this.known = this.tip;
        this.pump();
      },
      (err: unknown) => {
        this.reading = false;
        if (isWeftError(err, 'StoreUnavailableError')) this.pauseThenPump();
        else this.failAll(err);
      },
    );
  }

  private failAll(err: unknown): void {
    for (const op of this.queue.splice(0)) op.reject(err);
  }

  private async send(built: BuiltTxn): Promise<void> {
    let result: TxnResult | undefined;
    let error: unknown;
    try {
      result = await this.ctx.store.txn(built.txn);
    } catch (err) {
      error = err;
    }
    let again: Op[] = [];
    if (result?.succeeded) {
      this.known = built.newPool;
      this.stats.commits += 1;
      this.stats.operations += built.planned.length;
      this.streak = 0;
      for (const p of built.planned) {
        if (p.op.kind === 'attach') p.op.resolve(p.record!);
        else p.op.resolve();
      }
    } else if (result !== undefined) {
      this.stats.conflicts += 1;
      const pool = refusedPool(result.results);
      if (pool === undefined) {
        const gone = new EndpointNotFoundError(`network ${this.network.id} has no address pool (removed?)`);
        for (const p of built.planned) p.op.reject(gone);
        this.known = undefined;
      } else {
        this.known = textOf(pool);
        again = settleRefused(built, result.results);
      }
      this.draining = true;
    } else if (isWeftError(error, 'StoreUnavailableError')) {
      // Not served, or the outcome is unknown: re-sending is safe (the compares refuse a second application).
      again = built.planned.map((p) => p.op);
      this.known = undefined;
      this.draining = true;
    } else {
      for (const p of built.planned) p.op.reject(error);
    }
    this.requeue(again);
    this.inFlight -= 1;
    if (this.inFlight > 0) return;
    if (this.draining) {
      this.draining = false;
      this.tip = this.known;
      this.tipFresh = false;
      this.streak += 1;
      this.pauseThenPump();
    } else {
      this.pump();
    }
  }

  /** Puts refused operations back at the front, failing those refused too often. */
  private requeue(ops: Op[]): void {
    const keep: Op[] = [];
    for (const op of ops) {
      op.attempts += 1;
      if (op.attempts >= this.settings.maxAttempts) op.reject(new ContentionError(`attach/detach on network ${this.network.name}`, op.attempts, 'the address pool kept changing'));
      else keep.push(op);
    }
    this.queue.unshift(...keep);
  }

  /** A short jittered pause (growing with consecutive refusals, at most 200 ms), then sends again. */
  private pauseThenPump(): void {
    if (this.paused !== undefined) return;
    const ms = Math.min(200, 2 * 2 ** Math.min(this.streak, 7)) * (0.5 + Math.random());
    this.paused = setTimeout(() => {
      this.paused = undefined;
      this.pump();
    }, ms);
    this.paused.unref?.();
  }
}
