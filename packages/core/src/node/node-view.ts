import type { KeyValue, Store } from '@weft/interface';
import type { ClusterView, PeerEndpointRecord } from '../reconcile/desired-state';
import { WatchedPrefix, type PrefixChange } from '../reconcile/watched-prefix';
import { parseRecord } from '../records/codec';
import type { KeyLayout } from '../records/keys';
import type { ServiceVip } from '@weft/interface';
import type { DnsScope } from '../discovery/dns-scope';
import { dnsScopeOf, serviceVipsOf, type DiscoveryRecords } from '../discovery/dns-view';
import {
  endpointRecordSchema,
  keysRecordSchema,
  serviceBackendSchema,
  serviceRecordSchema,
  type ServiceBackendRecord,
  type ServiceRecord,
  networkRecordSchema,
  nodeEndpointRefSchema,
  nodeRecordSchema,
  removedNodeRecordSchema,
  type EndpointRecord,
  type KeysRecord,
  type NetworkRecord,
  type NodeRecord,
} from '../records/schemas';

/** Records filed under `<prefix><id>` share their id string with the view's map key. */
const byId = (record: { readonly id: string }): string => record.id;

/** One of this node's endpoints, as its index names it: the endpoint id and its network. */
interface LocalRef {
  readonly id: string;
  readonly networkId: string;
}

/** What the view keeps of an endpoint record: all of it for this node's own, the lean part for others'. */
type ViewEndpoint = PeerEndpointRecord | EndpointRecord;

/** Shared by every endpoint record without aliases. */
const NO_ALIASES: readonly string[] = Object.freeze([]);

interface NetworkWatches {
  readonly endpoints: WatchedPrefix<ViewEndpoint>;
  readonly keys: WatchedPrefix<KeysRecord> | undefined;
  /** Service backend entries on the network, keyed `<endpointId>/<serviceId>`. */
  readonly backends: WatchedPrefix<ServiceBackendRecord>;
  readonly started: Promise<void>;
}

/** Counters of a {@link NodeView}. */
export interface NodeViewStats {
  /** Networks this node has started watching (activations), and stopped watching. */
  activations: number;
  deactivations: number;
  /** Records skipped because they did not parse. */
  malformed: number;
}

/**
 * One node's live copy of the records its data plane depends on — and no
 * more (lazy activation): every network's and node's record, its own
 * endpoints, and only for the networks it has endpoints on, their endpoint
 * records and keys. Watches for a network start when the first local
 * endpoint appears on it and stop with the last one.
 */
export class NodeView implements ClusterView {
  private readonly networkWatch: WatchedPrefix<NetworkRecord>;
  private readonly nodeWatch: WatchedPrefix<NodeRecord>;
  /** Ids of nodes removed from the cluster. */
  private readonly removedWatch: WatchedPrefix<string>;
  private readonly localWatch: WatchedPrefix<LocalRef>;
  private readonly localPrefix: string;
  /** The network of each of this node's endpoints as last seen (a deleted entry's network is no longer in the watch). */
  private readonly localNetworkOf = new Map<string, string>();
  /** How many of this node's endpoints each network has (kept with `localNetworkOf`): activation reads it in O(networks). */
  private readonly localCountOf = new Map<string, number>();
  private readonly serviceWatch: WatchedPrefix<ServiceRecord>;
  /** DNS scopes and VIP lists per active network, built on first use after a change. */
  private readonly dnsCache = new Map<string, DnsScope>();
  private readonly vipCache = new Map<string, readonly ServiceVip[]>();
  private readonly perNetwork = new Map<string, NetworkWatches>();
  private readonly stats_: NodeViewStats = { activations: 0, deactivations: 0, malformed: 0 };
  private stopped = false;
  /** `localEndpoints`, computed once per change of the watches it reads. */
  private localCache: ReadonlyMap<string, EndpointRecord> | undefined;

  constructor(
    private readonly store: Store,
    private readonly keyLayout: KeyLayout,
    private readonly nodeId: string,
    /**
     * Told about every change; `resync` when a prefix was re-read as a whole; `networkId` when only that network's
     * records changed, and `endpoints` when those were endpoint records (then `keys` are their ids).
     */
    private readonly onChange: (change: PrefixChange & { readonly prefix: string; readonly networkId?: string; readonly endpoints?: boolean }) => void,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.networkWatch = this.watch(keyLayout.networks(), (kv) => parseRecord(networkRecordSchema, kv), byId);
    this.nodeWatch = this.watch(keyLayout.nodes(), (kv) => parseRecord(nodeRecordSchema, kv), byId);
    this.serviceWatch = this.watch(keyLayout.services(), (kv) => parseRecord(serviceRecordSchema, kv), byId);
    const removedPrefix = keyLayout.removedNodes();
    this.removedWatch = this.watch(removedPrefix, (kv) => (parseRecord(removedNodeRecordSchema, kv) === undefined ? undefined : kv.key.slice(removedPrefix.length)), (id) => id);
    const localPrefix = keyLayout.nodeEndpoints(nodeId);
    this.localPrefix = localPrefix;
    this.localWatch = this.watch(
      localPrefix,
      (kv) => {
        const ref = parseRecord(nodeEndpointRefSchema, kv);
        return ref === undefined ? undefined : { id: kv.key.slice(localPrefix.length), networkId: ref.networkId };
      },
      byId,
      () => this.updateActivation(),
    );
  }

  private watch<T>(
    prefix: string,
    parse: (kv: KeyValue) => T | undefined,
    keyIn: ((value: T) => string) | undefined,
    after?: () => void,
    networkId?: string,
    endpoints = false,
  ): WatchedPrefix<T> {
    return new WatchedPrefix<T>(
      this.store,
      prefix,
      parse,
      (change) => {
        this.localCache = undefined;
        if (prefix === this.localPrefix && !change.resync) return this.localChanged(change.keys, after);
        if (prefix === this.localPrefix) {
          this.localNetworkOf.clear();
          this.localCountOf.clear();
          for (const ref of this.localWatch.items.values()) this.setLocalNetwork(ref.id, ref.networkId);
        }
        if (networkId === undefined) {
          this.dnsCache.clear();
          this.vipCache.clear();
        } else {
          this.dnsCache.delete(networkId);
          this.vipCache.delete(networkId);
        }
        after?.();
        // Endpoint changes on a network with VIPs may change a VIP's backends: the whole network is planned then.
        const targeted = endpoints && networkId !== undefined && !this.hasVipServices(networkId);
        this.onChange({ ...change, prefix, ...(networkId !== undefined ? { networkId } : {}), ...(targeted ? { endpoints: true } : {}) });
      },
      this.onError,
      keyIn,
    );
  }

  /**
   * Changes to this node's `node-endpoints` entries, told per network with
   * the endpoint ids (so an attach or detach on this node is planned record
   * by record, like a peer's), after activation is updated.
   */
  private localChanged(keys: readonly string[], after: (() => void) | undefined): void {
    const groups = new Map<string, string[]>();
    for (const id of keys) {
      const now = this.localWatch.items.get(id)?.networkId;
      const before = this.localNetworkOf.get(id);
      this.setLocalNetwork(id, now);
      for (const n of now === before || before === undefined ? [now] : [now, before]) {
        if (n === undefined) continue;
        const list = groups.get(n);
        if (list) list.push(id);
        else groups.set(n, [id]);
      }
    }
    after?.();
    for (const [networkId, ids] of groups) {
      this.dnsCache.delete(networkId);
      this.vipCache.delete(networkId);
      const targeted = !this.hasVipServices(networkId);
      this.onChange({ resync: false, keys: ids, prefix: this.localPrefix, networkId, ...(targeted ? { endpoints: true } : {}) });
    }
  }

  /** Records that local endpoint `id` is now on `networkId` (undefined: gone), keeping the per-network counts. */
  private setLocalNetwork(id: string, networkId: string | undefined): void {
    const before = this.localNetworkOf.get(id);
    if (before === networkId) return;
    if (before !== undefined) {
      const n = (this.localCountOf.get(before) ?? 1) - 1;
      if (n > 0) this.localCountOf.set(before, n);
      else this.localCountOf.delete(before);
      this.localNetworkOf.delete(id);
    }
    if (networkId !== undefined) {
      this.localNetworkOf.set(id, networkId);
      this.localCountOf.set(networkId, (this.localCountOf.get(networkId) ?? 0) + 1);
    }
  }

  /** One of this node's own endpoints (its `node-endpoints` entry and its record both present), without building `localEndpoints`. */
  localEndpoint(endpointId: string): EndpointRecord | undefined {
    const ref = this.localWatch.items.get(endpointId);
    if (ref === undefined) return undefined;
    const rec = this.perNetwork.get(ref.networkId)?.endpoints.items.get(endpointId);
    return rec !== undefined && 'requestId' in rec && rec.nodeId === this.nodeId ? rec : undefined;
  }

  /**
   * An endpoint record of an active network, reduced to what the data plane
   * programs for it: the view holds one per endpoint of every network this
   * node is on, so a full record (name, aliases, request id, timestamps)
   * would cost several times as much. The node id is the node record's own
   * string when that node is known (one copy per node, not per endpoint).
   */
  private peerEndpointOf(kv: KeyValue): ViewEndpoint | undefined {
    const r = parseRecord(endpointRecordSchema, kv);
    if (r === undefined) return undefined;
    // This node's own endpoints are kept whole: they are programmed as local endpoints (name, sandbox, ...).
    if (r.nodeId === this.nodeId) return r;
    return {
      id: r.id,
      ip: r.ip,
      mac: r.mac,
      nodeId: this.nodeWatch.items.get(r.nodeId)?.id ?? r.nodeId,
      name: r.name,
      aliases: r.aliases.length === 0 ? NO_ALIASES : r.aliases,
    };
  }

  /** Loads everything and starts the watches; resolves once the view is current. */
  async start(): Promise<void> {
    await Promise.all([this.networkWatch.start(), this.nodeWatch.start(), this.serviceWatch.start(), this.localWatch.start(), this.removedWatch.start()]);
    await this.settled();
  }

  /** Resolves once the watches of every active network have loaded. */
  async settled(): Promise<void> {
    await Promise.all([...this.perNetwork.values()].map((w) => w.started));
  }

  /** Stops every watch. */
  stop(): void {
    this.stopped = true;
    for (const w of [this.networkWatch, this.nodeWatch, this.serviceWatch, this.localWatch, this.removedWatch]) w.stop();
    for (const id of [...this.perNetwork.keys()]) this.deactivate(id);
  }

  get stats(): NodeViewStats {
    let malformed = this.networkWatch.stats.malformed + this.nodeWatch.stats.malformed + this.serviceWatch.stats.malformed + this.localWatch.stats.malformed;
    for (const w of this.perNetwork.values()) malformed += w.endpoints.stats.malformed + (w.keys?.stats.malformed ?? 0) + w.backends.stats.malformed;
    return { ...this.stats_, malformed };
  }

  /** Networks this node watches peers of (those with a local endpoint). */
  activeNetworks(): string[] {
    return [...this.perNetwork.keys()].sort();
  }

  private updateActivation(): void {
    if (this.stopped) return;
    // localCountOf holds exactly the networks with at least one of this node's endpoints.
    for (const id of [...this.perNetwork.keys()]) if (!this.localCountOf.has(id)) this.deactivate(id);
    for (const id of this.localCountOf.keys()) if (!this.perNetwork.has(id)) this.activate(id);
  }

  private activate(networkId: string): void {
    const endpoints = this.watch(this.keyLayout.endpoints(networkId), (kv) => this.peerEndpointOf(kv), byId, undefined, networkId, true);
    const keys = this.watch(
      this.keyLayout.networkKeys(networkId),
      (kv) => (kv.key === this.keyLayout.networkKeys(networkId) ? parseRecord(keysRecordSchema, kv) : undefined),
      undefined,
      undefined,
      networkId,
    );
    const backends = this.watch(this.keyLayout.serviceBackends(networkId), (kv) => parseRecord(serviceBackendSchema, kv), undefined, undefined, networkId);
    const started = Promise.all([endpoints.start(), keys.start(), backends.start()]).then(
      () => undefined,
      (err: unknown) => this.onError(err),
    );
    this.perNetwork.set(networkId, { endpoints, keys, backends, started });
    this.stats_.activations += 1;
  }

  private deactivate(networkId: string): void {
    const w = this.perNetwork.get(networkId);
    if (w === undefined) return;
    this.localCache = undefined;
    w.endpoints.stop();
    w.keys?.stop();
    w.backends.stop();
    this.dnsCache.delete(networkId);
    this.vipCache.delete(networkId);
    this.perNetwork.delete(networkId);
    this.stats_.deactivations += 1;
  }

  // ---- ClusterView ----

  get networks(): ReadonlyMap<string, NetworkRecord> {
    return this.networkWatch.items;
  }

  /** Whether `nodeId` was removed from the cluster (as this view has seen so far). */
  isRemoved(nodeId: string): boolean {
    return this.removedWatch.items.has(nodeId);
  }

  get nodes(): ReadonlyMap<string, NodeRecord> {
    return this.nodeWatch.items;
  }

  /**
   * This node's endpoints: those its index (`node-endpoints/<me>/`) names
   * whose record its network's watch holds (so an endpoint is programmed once
   * both have arrived, and not after either is gone).
   */
  get localEndpoints(): ReadonlyMap<string, EndpointRecord> {
    if (this.localCache !== undefined) return this.localCache;
    const out = new Map<string, EndpointRecord>();
    for (const ref of this.localWatch.items.values()) {
      const rec = this.perNetwork.get(ref.networkId)?.endpoints.items.get(ref.id);
      if (rec !== undefined && 'requestId' in rec && rec.nodeId === this.nodeId) out.set(rec.id, rec);
    }
    this.localCache = out;
    return out;
  }

  get networkEndpoints(): ReadonlyMap<string, ReadonlyMap<string, PeerEndpointRecord>> {
    const out = new Map<string, ReadonlyMap<string, PeerEndpointRecord>>();
    for (const [id, w] of this.perNetwork) out.set(id, w.endpoints.items);
    return out;
  }

  get keys(): ReadonlyMap<string, KeysRecord> {
    const out = new Map<string, KeysRecord>();
    for (const [id, w] of this.perNetwork) {
      const rec = w.keys?.items.get('');
      if (rec !== undefined) out.set(id, rec);
    }
    return out;
  }

  // ---- discovery ----

  /**
   * True when the view has applied every change up to store `revision` that
   * a service write touches: the service records, and the backend entries of
   * `networkId` when this node is active on it.
   */
  caughtUp(revision: number, networkId?: string): boolean {
    if (this.serviceWatch.revision < revision && networkId === undefined) return false;
    if (networkId === undefined) return true;
    const w = this.perNetwork.get(networkId);
    return w === undefined || w.backends.revision >= revision;
  }

  /** Every service record of the cluster, by id. */
  get services(): ReadonlyMap<string, ServiceRecord> {
    return this.serviceWatch.items;
  }

  private hasVipServices(networkId: string): boolean {
    for (const s of this.serviceWatch.items.values()) if (s.mode === 'vip' && s.networks.some((n) => n.networkId === networkId)) return true;
    return false;
  }

  private discoveryRecords(networkId: string): DiscoveryRecords | undefined {
    const w = this.perNetwork.get(networkId);
    const network = this.networkWatch.items.get(networkId);
    if (w === undefined || network === undefined) return undefined;
    return { network, endpoints: w.endpoints.items, services: this.serviceWatch.items.values(), backends: w.backends.items };
  }

  /**
   * The DNS scope of an active network (its names, services and PTRs, see
   * `dnsScopeOf`), rebuilt on first use after any of its records changed;
   * undefined for a network this node is not active on.
   */
  dnsScope(networkId: string): DnsScope | undefined {
    const cached = this.dnsCache.get(networkId);
    if (cached !== undefined) return cached;
    const records = this.discoveryRecords(networkId);
    if (records === undefined) return undefined;
    const scope = dnsScopeOf(records);
    this.dnsCache.set(networkId, scope);
    return scope;
  }

  /** Service VIPs of the active networks with their backends (see `serviceVipsOf`), by network id. */
  get vips(): ReadonlyMap<string, readonly ServiceVip[]> {
    const out = new Map<string, readonly ServiceVip[]>();
    for (const id of this.perNetwork.keys()) {
      let v = this.vipCache.get(id);
      if (v === undefined) {
        const records = this.discoveryRecords(id);
        v = records === undefined ? [] : serviceVipsOf(records);
        this.vipCache.set(id, v);
      }
      if (v.length > 0) out.set(id, v);
    }
    return out;
  }

  /** The DNS address of each active network that has one. */
  get dnsAddresses(): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    for (const id of this.perNetwork.keys()) {
      const a = this.networkWatch.items.get(id)?.dnsAddress;
      if (a !== undefined) out.set(id, a);
    }
    return out;
  }
}
