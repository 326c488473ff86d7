import { Ipam } from '@weft/ipam';
import { cmp, kv, parseOptions, textOf, type Compare, type TxnOp } from '@weft/interface';
import { z } from 'zod';
import { BackendRefusedError, NameConflictError, ServiceNotFoundError } from '../errors';
import { newId, type CoreContext } from '../node/context';
import { poolIdOf } from '../network/pool-id';
import { resolveNetwork } from '../network/resolve-network';
import { encodeRecord, parseRecord, parseVersioned, type Versioned } from '../records/codec';
import { endpointRecordSchema, serviceBackendSchema, serviceRecordSchema, type EndpointRecord, type ServiceRecord } from '../records/schemas';
import { Conflict, retryConflicts } from '../store/retry';

/** A service name: a DNS label (letters, digits, `-`, `_`; 1–63 characters; starts and ends with a letter or digit). */
const serviceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/, 'must be a DNS label: 1-63 letters, digits, "-" or "_", starting and ending with a letter or digit');

/** Schema of {@link CreateServiceOptions}. */
export const createServiceOptionsSchema = z
  .object({
    /** The service's name, unique in the cluster (case-insensitively); what its clients resolve. */
    name: serviceNameSchema,
    /** Networks (names or ids) the service is reachable on: one VIP on each in `vip` mode. */
    networks: z.array(z.string().min(1)).min(1).max(64),
    /** `vip` (default): the name resolves to a virtual IP balanced client-side; `dnsrr`: to every backend, rotating. */
    mode: z.enum(['vip', 'dnsrr']).default('vip'),
    /** Labels of the service record. */
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

/** Options of `node.services.create`. */
export type CreateServiceOptions = z.input<typeof createServiceOptionsSchema>;

const backendStateSchema = z.object({ state: z.enum(['up', 'draining']).default('up') }).strict();

/** A service as `list`/`inspect` show it. */
export interface ServiceInfo {
  readonly id: string;
  readonly name: string;
  readonly mode: 'vip' | 'dnsrr';
  /** Each network with the service's VIP on it (null in `dnsrr` mode). */
  readonly networks: readonly { readonly networkId: string; readonly vip: string | null }[];
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

/** One backend of a service, as `inspect` shows it. */
export interface ServiceBackendInfo {
  readonly endpointId: string;
  readonly networkId: string;
  /** The endpoint's address on that network. */
  readonly ip: string;
  readonly name: string;
  readonly nodeId: string;
  readonly state: 'up' | 'draining';
}

/** An endpoint as the backend calls take it: an `Attachment`, or anything with its id and network id. */
export interface BackendRef {
  readonly id: string;
  readonly networkId: string;
}

function infoOf(r: ServiceRecord): ServiceInfo {
  return { id: r.id, name: r.name, mode: r.mode, networks: r.networks.map((n) => ({ ...n })), labels: { ...r.labels }, createdAt: r.createdAt };
}

/**
 * Services: a name clients resolve, one virtual IP per network (mode `vip`,
 * allocated from the network's subnet) balanced client-side over the
 * endpoints the orchestrator names as backends, or (mode `dnsrr`) a name
 * that resolves to the backends themselves. Records only: every node's DNS
 * server and data plane derive their answers and VIP tables from them.
 *
 * Keys (see docs/discovery.md): `services/<id>`, `service-names/<name>`, and
 * `service-backends/<networkId>/<endpointId>/<serviceId>` → `{ state }` — so
 * a node watches only the backends of networks it is active on, and an
 * endpoint's detach deletes every backend entry it had in the same txn.
 */
export class Services {
  /**
   * @internal Built by `WeftNode`. `committed(revision, networkId?)` resolves
   * once this node's view (and data plane) has caught up with a write at that
   * store revision, so a call's effect is visible on the calling node when it
   * resolves (read-your-writes); other nodes follow through their watches.
   */
  constructor(
    private readonly ctx: CoreContext,
    private readonly committed: (revision: number, networkId?: string) => Promise<void> = async () => undefined,
  ) {}

  /**
   * Creates a service on one or more networks; in `vip` mode allocates its
   * VIP in each network's pool (in the same txn as the record). Resolves once
   * this node answers for it (every other node within its watch latency).
   * @throws InvalidOptionsError, NameConflictError, NetworkNotFoundError, PoolExhaustedError (from @weft/ipam).
   */
  async create(options: CreateServiceOptions): Promise<ServiceInfo> {
    const o = parseOptions(createServiceOptionsSchema, options, 'services.create');
    const k = this.ctx.keys;
    let attempted: ServiceRecord | undefined;
    return retryConflicts('services.create', async () => {
      if (attempted !== undefined) {
        const mine = await this.ctx.store.get(k.serviceName(o.name));
        if (mine !== undefined && textOf(mine) === attempted.id) return infoOf(attempted);
      }
      const existing = await this.ctx.store.get(k.serviceName(o.name));
      if (existing !== undefined) throw new NameConflictError('service', o.name, textOf(existing));
      const nets = await Promise.all([...new Set(o.networks)].map((n) => resolveNetwork(this.ctx, n)));
      const unique = [...new Map(nets.map((n) => [n.value.id, n])).values()];
      const pools = await Promise.all(unique.map((n) => this.ctx.store.get(k.pool(n.value.id))));
      const compare: Compare[] = [cmp.missing(k.serviceName(o.name))];
      const success: TxnOp[] = [];
      const networks: { networkId: string; vip: string | null }[] = [];
      unique.forEach((net, i) => {
        const poolKv = pools[i];
        if (poolKv === undefined) throw new Conflict(`network ${net.value.name} has no pool yet`);
        const ipam = Ipam.restore(textOf(poolKv));
        const vip = o.mode === 'vip' ? ipam.allocate(poolIdOf(net.value.subnet)) : null;
        networks.push({ networkId: net.value.id, vip });
        compare.push(cmp.modRevision(k.network(net.value.id), 'equal', net.modRevision), cmp.modRevision(k.pool(net.value.id), 'equal', poolKv.modRevision));
        // Rewritten in dnsrr mode too: a network removal racing this create sees its pool change and re-checks.
        success.push(kv.put(k.pool(net.value.id), ipam.snapshot()));
      });
      const record: ServiceRecord = {
        id: newId(this.ctx),
        name: o.name,
        mode: o.mode,
        networks,
        labels: o.labels,
        createdAt: new Date(this.ctx.now()).toISOString(),
      };
      success.push(kv.put(k.service(record.id), encodeRecord(record)), kv.put(k.serviceName(o.name), record.id));
      attempted = record;
      const r = await this.ctx.store.txn({ compare, success, failure: [kv.get(k.serviceName(o.name))] });
      if (!r.succeeded) {
        const held = r.results[0];
        if (held?.op === 'range' && held.kvs[0] !== undefined) throw new NameConflictError('service', o.name, textOf(held.kvs[0]));
        throw new Conflict('a network of the service changed concurrently');
      }
      await this.committed(r.revision);
      return infoOf(record);
    });
  }

  /**
   * Removes a service: its record, name, every backend entry, and its VIPs
   * back to their pools (quarantined like any released address).
   * @throws ServiceNotFoundError
   */
  async remove(nameOrId: string): Promise<void> {
    const k = this.ctx.keys;
    let attempted: string | undefined;
    await retryConflicts('services.remove', async () => {
      if (attempted !== undefined && (await this.ctx.store.get(k.service(attempted))) === undefined) return;
      const svc = await this.resolve(nameOrId);
      const s = svc.value;
      const compare: Compare[] = [cmp.modRevision(k.service(s.id), 'equal', svc.modRevision)];
      const success: TxnOp[] = [kv.delete(k.service(s.id)), kv.delete(k.serviceName(s.name))];
      for (const n of s.networks) {
        const [poolKv, netKv, backends] = await Promise.all([
          this.ctx.store.get(k.pool(n.networkId)),
          this.ctx.store.get(k.network(n.networkId)),
          this.ctx.store.range({ prefix: k.serviceBackends(n.networkId) }),
        ]);
        for (const b of backends.kvs) if (b.key.endsWith(`/${s.id}`)) success.push(kv.delete(b.key));
        if (n.vip === null || poolKv === undefined || netKv === undefined) continue;
        const ipam = Ipam.restore(textOf(poolKv));
        const subnet = JSON.parse(textOf(netKv)).subnet as string;
        if (ipam.isAllocated(poolIdOf(subnet), n.vip)) ipam.release(poolIdOf(subnet), n.vip);
        compare.push(cmp.modRevision(k.pool(n.networkId), 'equal', poolKv.modRevision));
        success.push(kv.put(k.pool(n.networkId), ipam.snapshot()));
      }
      attempted = s.id;
      const r = await this.ctx.store.txn({ compare, success, failure: [] });
      if (!r.succeeded) throw new Conflict('the service or a pool changed concurrently');
      await this.committed(r.revision);
    });
  }

  /** Every service of the cluster, by name. */
  async list(): Promise<ServiceInfo[]> {
    const r = await this.ctx.store.range({ prefix: this.ctx.keys.services() });
    const out: ServiceInfo[] = [];
    for (const x of r.kvs) {
      const rec = parseRecord(serviceRecordSchema, x);
      if (rec !== undefined) out.push(infoOf(rec));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * A service with its backends (those whose endpoint still exists).
   * @throws ServiceNotFoundError
   */
  async inspect(nameOrId: string): Promise<ServiceInfo & { readonly backends: readonly ServiceBackendInfo[] }> {
    const k = this.ctx.keys;
    const s = (await this.resolve(nameOrId)).value;
    const backends: ServiceBackendInfo[] = [];
    for (const n of s.networks) {
      const [entries, endpoints] = await Promise.all([
        this.ctx.store.range({ prefix: k.serviceBackends(n.networkId) }),
        this.ctx.store.range({ prefix: k.endpoints(n.networkId) }),
      ]);
      const byId = new Map<string, EndpointRecord>();
      for (const e of endpoints.kvs) {
        const rec = parseRecord(endpointRecordSchema, e);
        if (rec !== undefined) byId.set(rec.id, rec);
      }
      const prefix = k.serviceBackends(n.networkId);
      for (const b of entries.kvs) {
        const [endpointId, serviceId] = b.key.slice(prefix.length).split('/');
        if (serviceId !== s.id || endpointId === undefined) continue;
        const ep = byId.get(endpointId);
        const st = parseRecord(serviceBackendSchema, b);
        if (ep === undefined || st === undefined) continue;
        backends.push({ endpointId, networkId: n.networkId, ip: ep.ip, name: ep.name, nodeId: ep.nodeId, state: st.state });
      }
    }
    backends.sort((a, b) => (a.networkId + a.ip < b.networkId + b.ip ? -1 : 1));
    return { ...infoOf(s), backends };
  }

  /**
   * Makes an endpoint a backend of the service (or changes its state):
   * `up` (default) takes new flows and is in DNS answers; `draining` takes no
   * new flow and leaves DNS answers, while flows already pinned to it go on.
   * The endpoint must be on one of the service's networks and exist; its
   * detach removes it from every service at once.
   * @throws ServiceNotFoundError, BackendRefusedError, InvalidOptionsError
   */
  async addBackend(service: string, endpoint: BackendRef, options: { state?: 'up' | 'draining' } = {}): Promise<void> {
    const { state } = parseOptions(backendStateSchema, options, 'services.addBackend');
    const k = this.ctx.keys;
    await retryConflicts('services.addBackend', async () => {
      const svc = await this.resolve(service);
      const s = svc.value;
      if (!s.networks.some((n) => n.networkId === endpoint.networkId)) {
        throw new BackendRefusedError(s.name, endpoint.id, `the endpoint's network ${endpoint.networkId} is not one of the service's networks`);
      }
      const epKey = k.endpoint(endpoint.networkId, endpoint.id);
      const r = await this.ctx.store.txn({
        compare: [cmp.modRevision(k.service(s.id), 'equal', svc.modRevision), cmp.version(epKey, 'greater', 0)],
        success: [kv.put(k.serviceBackend(endpoint.networkId, endpoint.id, s.id), JSON.stringify({ state }))],
        failure: [kv.get(k.service(s.id)), kv.get(epKey)],
      });
      if (r.succeeded) {
        await this.committed(r.revision, endpoint.networkId);
        return;
      }
      const [svcNow, epNow] = r.results;
      if (svcNow?.op === 'range' && svcNow.kvs.length === 0) throw new ServiceNotFoundError(service);
      if (epNow?.op === 'range' && epNow.kvs.length === 0) throw new BackendRefusedError(s.name, endpoint.id, 'the endpoint does not exist (detached?)');
      throw new Conflict('the service changed concurrently');
    });
  }

  /** Marks a backend draining (same as `addBackend(service, endpoint, { state: 'draining' })`). */
  drainBackend(service: string, endpoint: BackendRef): Promise<void> {
    return this.addBackend(service, endpoint, { state: 'draining' });
  }

  /**
   * Removes an endpoint from the service's backends: no new flow goes to it,
   * flows pinned to it move on their next packet, DNS answers drop it. A
   * no-op when it was not one. @throws ServiceNotFoundError
   */
  async removeBackend(service: string, endpoint: BackendRef): Promise<void> {
    const s = (await this.resolve(service)).value;
    const r = await this.ctx.store.delete(this.ctx.keys.serviceBackend(endpoint.networkId, endpoint.id, s.id));
    await this.committed(r.revision, endpoint.networkId);
  }

  private async resolve(nameOrId: string): Promise<Versioned<ServiceRecord>> {
    const k = this.ctx.keys;
    let id = nameOrId;
    if (/^[A-Za-z0-9_-]{1,63}$/.test(nameOrId)) {
      const byName = await this.ctx.store.get(k.serviceName(nameOrId));
      if (byName !== undefined) id = textOf(byName);
    }
    if (id.includes('/')) throw new ServiceNotFoundError(nameOrId);
    const rec = parseVersioned(serviceRecordSchema, await this.ctx.store.get(k.service(id)));
    if (rec === undefined) throw new ServiceNotFoundError(nameOrId);
    return rec;
  }
}
