import { Ipam } from '@weft/ipam';
import { cmp, kv, macForIpv4, parseIpv4, textOf, type Compare, type KeyValue, type TxnOp, type TxnOpResult } from '@weft/interface';
import { EndpointNotFoundError, NameConflictError } from '../errors';
import { newId, type CoreContext } from '../node/context';
import { encodeRecord, parseRecord } from '../records/codec';
import { attachRequestSchema, endpointRecordSchema, type EndpointRecord, type NetworkRecord } from '../records/schemas';
import { poolIdOf } from '../network/pool-id';
import { Conflict, retryConflicts } from '../store/retry';

/** What an attach asks for (validated by the caller). */
export interface AttachSpec {
  readonly requestId: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly ip?: string;
  readonly service?: string;
  readonly sandbox?: string;
  readonly interfaceName?: string;
  /** The node the endpoint lives on. */
  readonly nodeId: string;
}

interface AttachOp {
  readonly kind: 'attach';
  readonly spec: AttachSpec;
  readonly resolve: (record: EndpointRecord) => void;
  readonly reject: (error: unknown) => void;
}

interface DetachOp {
  readonly kind: 'detach';
  readonly endpoint: EndpointRecord;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type Op = AttachOp | DetachOp;

/** Counters of a {@link NetworkBatcher}. */
export interface BatcherStats {
  /** Txns that committed. */
  commits: number;
  /** Txns whose compares failed (another writer changed the pool first). */
  conflicts: number;
  /** Operations carried by committed txns. */
  operations: number;
}

/**
 * Serialises one node's attaches and detaches on one network into batched
 * txns: each txn reads-modifies-writes the network's address pool (an
 * `@weft/ipam` snapshot under one key) together with every endpoint record,
 * name and request index the batch touches, compared on the pool's revision.
 * Concurrent writers on other nodes make a txn fail; its failure branch
 * returns the fresh pool, so a retry costs one round trip. An address is
 * therefore allocated exactly once cluster-wide and every allocation is
 * committed before anyone uses it; batching keeps 64 attaches in flight from
 * costing 64 conflicting txns.
 *
 * Idempotency: an attach carries a request id; the txn requires that id to
 * be new, and a retry of a request that did commit gets the endpoint it
 * created.
 */
export class NetworkBatcher {
  readonly stats: BatcherStats = { commits: 0, conflicts: 0, operations: 0 };
  private queue: Op[] = [];
  private flushing: Promise<void> | undefined;
  /** Attaches queued or in flight, by request id: a second call with the same id shares the first one's outcome. */
  private readonly inflight = new Map<string, Promise<EndpointRecord>>();
  /** The pool as last seen (by a read, a commit, or a failure branch). */
  private pool: { text: string; modRevision: number } | undefined;

  constructor(
    private readonly ctx: CoreContext,
    readonly network: NetworkRecord,
    /** Operations per txn: 24 keeps a txn within etcd's 128 ops (an attach writes 5 keys). */
    private readonly maxBatch = 24,
  ) {}

  /** Allocates an address and writes the endpoint record; resolves with it once committed. */
  attach(spec: AttachSpec): Promise<EndpointRecord> {
    const pending = this.inflight.get(spec.requestId);
    if (pending !== undefined) return pending;
    const p = new Promise<EndpointRecord>((resolve, reject) => this.push({ kind: 'attach', spec, resolve, reject }));
    this.inflight.set(spec.requestId, p);
    const done = (): void => {
      if (this.inflight.get(spec.requestId) === p) this.inflight.delete(spec.requestId);
    };
    p.then(done, done);
    return p;
  }

  /** Releases the endpoint's address and deletes its records; resolves once committed (also when already gone). */
  detach(endpoint: EndpointRecord): Promise<void> {
    return new Promise((resolve, reject) => this.push({ kind: 'detach', endpoint, resolve, reject }));
  }

  /** True while operations are queued or in flight. */
  get busy(): boolean {
    return this.queue.length > 0 || this.flushing !== undefined;
  }

  private push(op: Op): void {
    this.queue.push(op);
    this.startFlush();
  }

  private startFlush(): void {
    if (this.flushing !== undefined) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.startFlush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await retryConflicts(`attach/detach on network ${this.network.name}`, () => this.attempt(batch));
      } catch (err) {
        for (const op of batch) op.reject(err);
      }
    }
  }

  private async readPool(): Promise<{ text: string; modRevision: number }> {
    const kv = await this.ctx.store.get(this.ctx.keys.pool(this.network.id));
    if (kv === undefined) throw new EndpointNotFoundError(`network ${this.network.id} has no address pool (removed?)`);
    return { text: textOf(kv), modRevision: kv.modRevision };
  }

  /**
   * One optimistic attempt for what is left of `batch` (ops settled here are
   * removed from it). Throws Conflict to be retried.
   */
  private async attempt(batch: Op[]): Promise<void> {
    const k = this.ctx.keys;
    const net = this.network;
    // A cached pool may be stale (another node released addresses since): an allocation it refuses is re-checked on a fresh read.
    const cached = this.pool !== undefined;
    this.pool ??= await this.readPool();
    const ipam = Ipam.restore(this.pool.text);
    const poolId = poolIdOf(net.subnet);
    const prefixLength = Number(net.subnet.slice(net.subnet.indexOf('/') + 1));

    const compare: Compare[] = [cmp.modRevision(k.pool(net.id), 'equal', this.pool.modRevision)];
    const success: TxnOp[] = [];
    const failure: TxnOp[] = [kv.get(k.pool(net.id))];
    const planned: { op: Op; record?: EndpointRecord; failureAt: number; freedNameOf?: string }[] = [];
    const names = new Map<string, string>();
    /** Names that detaches in this batch free: lowercase name → the detached endpoint's id. */
    const freed = new Map<string, string>();

    // Detaches first: within one txn ops apply in order, so an attach may take a name a detach frees.
    for (const op of batch) {
      if (op.kind !== 'detach') continue;
      const ep = op.endpoint;
      try {
        ipam.release(poolId, ep.ip);
      } catch {
        // Not allocated in the pool (already released): the records still go.
      }
      freed.set(ep.name.toLowerCase(), ep.id);
      compare.push(cmp.version(k.endpoint(net.id, ep.id), 'greater', 0));
      success.push(
        kv.delete(k.endpoint(net.id, ep.id)),
        kv.delete(k.nodeEndpoint(ep.nodeId, ep.id)),
        kv.delete(k.attachRequest(ep.requestId)),
      );
      planned.push({ op, failureAt: failure.length });
      failure.push(kv.get(k.endpoint(net.id, ep.id)));
    }
    for (const op of [...batch]) {
      if (op.kind !== 'attach') continue;
      const s = op.spec;
      const lname = s.name.toLowerCase();
      if (names.has(lname)) {
        remove(batch, op);
        op.reject(new NameConflictError('endpoint', s.name, names.get(lname)!));
        continue;
      }
      let ip: string;
      try {
        ip = ipam.allocate(poolId, s.ip);
      } catch (err) {
        if (cached) {
          this.pool = undefined;
          throw new Conflict('the cached address pool refused an allocation; re-reading it');
        }
        remove(batch, op);
        op.reject(err);
        continue;
      }
      const id = newId(this.ctx);
      names.set(lname, id);
      const record: EndpointRecord = {
        id,
        networkId: net.id,
        name: s.name,
        aliases: [...s.aliases],
        ip,
        prefixLength,
        mac: macForIpv4(parseIpv4(ip)),
        nodeId: s.nodeId,
        requestId: s.requestId,
        createdAt: new Date(this.ctx.now()).toISOString(),
        ...(s.sandbox !== undefined ? { sandbox: s.sandbox } : {}),
        ...(s.interfaceName !== undefined ? { interfaceName: s.interfaceName } : {}),
        ...(s.service !== undefined ? { service: s.service } : {}),
      };
      const bytes = encodeRecord(record);
      const freedBy = freed.get(lname);
      compare.push(
        cmp.missing(k.attachRequest(s.requestId)),
        freedBy === undefined ? cmp.missing(k.endpointName(net.id, s.name)) : cmp.value(k.endpointName(net.id, s.name), 'equal', freedBy),
      );
      success.push(
        kv.put(k.endpoint(net.id, id), bytes),
        kv.put(k.nodeEndpoint(s.nodeId, id), bytes),
        kv.put(k.endpointName(net.id, s.name), id),
        kv.put(k.attachRequest(s.requestId), encodeRecord({ networkId: net.id, endpointId: id })),
      );
      planned.push({ op, record, failureAt: failure.length, ...(freedBy !== undefined ? { freedNameOf: freedBy } : {}) });
      failure.push(kv.get(k.attachRequest(s.requestId)), kv.get(k.endpointName(net.id, s.name)));
    }
    if (planned.length === 0) return;
    // A detached endpoint's name index entry goes, unless an attach in this batch takes the name over.
    for (const p of planned) {
      if (p.op.kind === 'detach' && !names.has(p.op.endpoint.name.toLowerCase())) success.push(kv.delete(k.endpointName(net.id, p.op.endpoint.name)));
    }
    const newPool = ipam.snapshot();
    success.unshift(kv.put(k.pool(net.id), newPool));

    const r = await this.ctx.store.txn({ compare, success, failure });
    if (r.succeeded) {
      this.pool = { text: newPool, modRevision: r.revision };
      this.stats.commits += 1;
      this.stats.operations += planned.length;
      batch.length = 0;
      for (const p of planned) {
        if (p.op.kind === 'attach') p.op.resolve(p.record!);
        else p.op.resolve();
      }
      return;
    }
    this.stats.conflicts += 1;
    const poolKv = first(r.results[0]);
    if (poolKv === undefined) {
      this.pool = undefined;
      const err = new EndpointNotFoundError(`network ${net.id} has no address pool (removed?)`);
      for (const op of batch) op.reject(err);
      batch.length = 0;
      return;
    }
    this.pool = { text: textOf(poolKv), modRevision: poolKv.modRevision };
    await this.settleFromFailure(batch, planned, r.results);
    if (batch.length > 0) throw new Conflict('the address pool changed');
  }

  /** After a failed txn: settle ops whose outcome the failure branch already tells. */
  private async settleFromFailure(
    batch: Op[],
    planned: { op: Op; failureAt: number; freedNameOf?: string }[],
    results: readonly TxnOpResult[],
  ): Promise<void> {
    for (const p of planned) {
      if (p.op.kind === 'attach') {
        const existingRequest = first(results[p.failureAt]);
        const existingName = first(results[p.failureAt + 1]);
        if (existingRequest !== undefined) {
          remove(batch, p.op);
          const req = parseRecord(attachRequestSchema, existingRequest);
          const epKv = req === undefined ? undefined : await this.ctx.store.get(this.ctx.keys.endpoint(req.networkId, req.endpointId));
          const rec = epKv === undefined ? undefined : parseRecord(endpointRecordSchema, epKv);
          if (rec !== undefined) p.op.resolve(rec);
          else p.op.reject(new EndpointNotFoundError(req?.endpointId ?? p.op.spec.requestId));
        } else if (existingName !== undefined && textOf(existingName) !== p.freedNameOf) {
          remove(batch, p.op);
          p.op.reject(new NameConflictError('endpoint', p.op.spec.name, textOf(existingName)));
        }
      } else if (first(results[p.failureAt]) === undefined) {
        // Already detached (a retry, or the sweeper got there first).
        remove(batch, p.op);
        p.op.resolve();
      }
    }
  }
}

function first(r: TxnOpResult | undefined): KeyValue | undefined {
  return r?.op === 'range' ? r.kvs[0] : undefined;
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
