import { Ipam } from '@weft/ipam';
import { cmp, kv, macForIpv4, parseIpv4, textOf, type Compare, type KeyValue, type TxnInput, type TxnOp, type TxnOpResult } from '@weft/interface';
import { EndpointNotFoundError, NameConflictError } from '../errors';
import { endpointIdFor, type CoreContext } from '../node/context';
import { poolIdOf } from '../network/pool-id';
import { encodeRecord, parseRecord } from '../records/codec';
import { endpointRecordSchema, type EndpointRecord, type NetworkRecord } from '../records/schemas';

/** What an attach asks for (validated by the caller). */
export interface AttachSpec {
  readonly requestId: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly ip?: string;
  readonly service?: string;
  readonly sandbox?: string;
  readonly interfaceName?: string;
  readonly resolvConf?: string;
  /** The node the endpoint lives on. */
  readonly nodeId: string;
}

interface OpBase {
  /** Txns this operation was sent in and that were refused. */
  attempts: number;
}

/** A queued attach. */
export interface AttachOp extends OpBase {
  readonly kind: 'attach';
  readonly spec: AttachSpec;
  readonly resolve: (record: EndpointRecord) => void;
  readonly reject: (error: unknown) => void;
}

/** A queued detach. */
export interface DetachOp extends OpBase {
  readonly kind: 'detach';
  readonly endpoint: EndpointRecord;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export type Op = AttachOp | DetachOp;

interface Planned {
  readonly op: Op;
  readonly record?: EndpointRecord;
  /** Index of this op's first read in the failure branch. */
  readonly failureAt: number;
  /** The detached endpoint whose name this attach takes over in the same txn. */
  readonly freedNameOf?: string;
}

/** One batch as a txn, built on a known pool state. */
export interface BuiltTxn {
  readonly txn: TxnInput;
  /** The pool text after this txn commits. */
  readonly newPool: string;
  readonly planned: readonly Planned[];
}

/** Thrown by {@link buildTxn} when the pool it was given refused an allocation it may not refuse when fresh. */
export class StalePool {
  constructor(readonly reason: string) {}
}

/**
 * Builds the txn of one batch on the pool state `poolText`: releases for the
 * detaches (first: ops in a txn apply in order, so an attach may take a name
 * a detach frees), allocations for the attaches, every record, index and the
 * new pool — guarded by comparing the pool's value with `poolText` (so a txn
 * built on another txn's result commits only right after it), each endpoint
 * id (derived from its request id) being new and each name free. Operations that cannot be (a duplicate name
 * inside the batch, an allocation a fresh pool refuses) are rejected at once
 * and removed from `batch`.
 * @throws StalePool when an allocation is refused and `fresh` is false (re-read and rebuild).
 * @returns undefined when nothing is left to send.
 */
export function buildTxn(ctx: CoreContext, net: NetworkRecord, batch: Op[], poolText: string, fresh: boolean): BuiltTxn | undefined {
  const k = ctx.keys;
  const ipam = Ipam.restore(poolText);
  const poolId = poolIdOf(net.subnet);
  const prefixLength = Number(net.subnet.slice(net.subnet.indexOf('/') + 1));
  const compare: Compare[] = [cmp.value(k.pool(net.id), 'equal', poolText)];
  const success: TxnOp[] = [];
  const failure: TxnOp[] = [kv.get(k.pool(net.id))];
  const planned: Planned[] = [];
  const names = new Map<string, string>();
  const freed = new Map<string, string>();

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
    success.push(kv.delete(k.endpoint(net.id, ep.id)), kv.delete(k.nodeEndpoint(ep.nodeId, ep.id)), kv.delete({ prefix: k.endpointBackends(net.id, ep.id) }));
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
      if (!fresh) throw new StalePool('a pool state that may be stale refused an allocation');
      remove(batch, op);
      op.reject(err);
      continue;
    }
    const id = endpointIdFor(net.id, s.requestId);
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
      createdAt: new Date(ctx.now()).toISOString(),
      ...(s.sandbox !== undefined ? { sandbox: s.sandbox } : {}),
      ...(s.interfaceName !== undefined ? { interfaceName: s.interfaceName } : {}),
      ...(s.resolvConf !== undefined ? { resolvConf: s.resolvConf } : {}),
      ...(s.service !== undefined ? { service: s.service } : {}),
    };
    const freedBy = freed.get(lname);
    compare.push(
      cmp.missing(k.endpoint(net.id, id)),
      freedBy === undefined ? cmp.missing(k.endpointName(net.id, s.name)) : cmp.value(k.endpointName(net.id, s.name), 'equal', freedBy),
    );
    success.push(
      kv.put(k.endpoint(net.id, id), encodeRecord(record)),
      // The node's index holds only the network id: the record itself is read from endpoints/<network>/.
      kv.put(k.nodeEndpoint(s.nodeId, id), encodeRecord({ networkId: net.id })),
      kv.put(k.endpointName(net.id, s.name), id),
    );
    planned.push({ op, record, failureAt: failure.length, ...(freedBy !== undefined ? { freedNameOf: freedBy } : {}) });
    failure.push(kv.get(k.endpoint(net.id, id)), kv.get(k.endpointName(net.id, s.name)));
  }
  if (planned.length === 0) return undefined;
  // A detached endpoint's name index entry goes, unless an attach in this batch takes the name over.
  for (const p of planned) {
    if (p.op.kind === 'detach' && !names.has(p.op.endpoint.name.toLowerCase())) success.push(kv.delete(k.endpointName(net.id, p.op.endpoint.name)));
  }
  const newPool = ipam.snapshot();
  success.unshift(kv.put(k.pool(net.id), newPool));
  return { txn: { compare, success, failure }, newPool, planned };
}

/**
 * After a refused txn: settles the operations whose outcome its failure
 * branch already tells — an attach whose endpoint exists (an earlier try of
 * the same request committed: it gets that endpoint), an attach whose name is
 * taken, a detach of an endpoint already gone — and returns the rest, to be
 * sent again.
 */
export function settleRefused(built: BuiltTxn, results: readonly TxnOpResult[]): Op[] {
  const again: Op[] = [];
  for (const p of built.planned) {
    if (p.op.kind === 'attach') {
      const existing = first(results[p.failureAt]);
      const existingName = first(results[p.failureAt + 1]);
      if (existing !== undefined) {
        // The endpoint this request names exists: an earlier try committed. Its record is the answer.
        const rec = parseRecord(endpointRecordSchema, existing);
        if (rec !== undefined) p.op.resolve(rec);
        else p.op.reject(new EndpointNotFoundError(p.record?.id ?? p.op.spec.requestId));
      } else if (existingName !== undefined && textOf(existingName) !== p.freedNameOf) {
        p.op.reject(new NameConflictError('endpoint', p.op.spec.name, textOf(existingName)));
      } else {
        again.push(p.op);
      }
    } else if (first(results[p.failureAt]) === undefined) {
      p.op.resolve(); // already detached (a retry, or the sweeper got there first)
    } else {
      again.push(p.op);
    }
  }
  return again;
}

/** The pool text a refused txn's failure branch read (its first op), or undefined when the pool is gone. */
export function refusedPool(results: readonly TxnOpResult[]): KeyValue | undefined {
  return first(results[0]);
}

function first(r: TxnOpResult | undefined): KeyValue | undefined {
  return r?.op === 'range' ? r.kvs[0] : undefined;
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
