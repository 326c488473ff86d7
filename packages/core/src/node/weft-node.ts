import { isWeftError, kv, parseOptions, type StoreUnavailableError, type DataPlane, type ProgrammedState, type SocketAddress, type Store, type StoreWatch } from '@weft/interface';
import { DnsServer } from '../discovery/dns-server';
import { Services } from '../service/services';
import { AttachRefusedError, EndpointNotFoundError, NodeNotFoundError, NodeRemovalRefusedError, NodeRemovedError, WeftNodeClosedError, OperationTimeoutError } from '../errors';
import { Attachment, type AttachmentHost } from '../endpoint/attachment';
import { attachOptionsSchema, type AttachOptions, type ParsedAttachOptions } from '../endpoint/attach-options';
import { NetworkBatcher } from '../endpoint/network-batcher';
import { KeyRotator } from '../keys/key-rotator';
import { createNetwork } from '../network/create-network';
import { inspectNetwork, listNetworks, networkInfo, type NetworkInfo, type NetworkInspect } from '../network/inspect-network';
import type { CreateNetworkOptions } from '../network/network-options';
import { removeNetwork } from '../network/remove-network';
import { resolveNetwork } from '../network/resolve-network';
import { desiredEndpoint, desiredState, type DesiredState } from '../reconcile/desired-state';
import { Reconciler, type ReconcileStats } from '../reconcile/reconciler';
import { encodeRecord, parseRecord } from '../records/codec';
import { KeyLayout } from '../records/keys';
import { endpointRecordSchema, nodeEndpointRefSchema, type EndpointRecord, type NetworkRecord, type NodeRecord } from '../records/schemas';
import { awaitCluster, ensureCluster } from './cluster-init';
import { cryptoRandomBytes, newId, type CoreContext } from './context';
import { Heartbeat } from './heartbeat';
import { NodeView, type NodeViewStats } from './node-view';
import { weftNodeOptionsSchema, type ResolvedNodeOptions, type WeftNodeOptions } from './node-options';
import { Sweeper, type SweeperStats } from './sweeper';
import { NodeStatusMonitor, listNodes, type NodeInfo } from './node-status';
import { RaftStore } from '../store/raft-store';
import {
  availabilitySchema,
  demoteNode,
  leaveOps,
  nodeIdSchema,
  promoteNode,
  setNodeAvailability,
  watchDesiredRole,
  type Availability,
  type DesiredRole,
  type LifecycleHost,
} from './node-lifecycle';
import { z } from 'zod';

/** Everything a node counts, for tests and diagnostics. */
export interface NodeStats {
  readonly reconcile: ReconcileStats;
  readonly view: NodeViewStats;
  readonly sweeper?: SweeperStats;
  readonly keyRotations?: { rotations: number; ackTimeouts: number };
  /** Txns committed and lost to concurrent writers by this node's attach/detach batches. */
  readonly batches: { commits: number; conflicts: number; operations: number };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, outcomeUnknown: boolean): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OperationTimeoutError(what, ms, outcomeUnknown)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * One node of a Weft cluster: it keeps its data plane equal to what the
 * shared store says it should be (desired state + reconcile loop), creates
 * and removes networks, and attaches endpoints. Managers also reclaim dead
 * nodes' endpoints and rotate encrypted networks' keys.
 *
 * The node holds no shared state of its own: networks, address pools,
 * endpoints and keys live in the `Store`; the data plane is programmed from
 * them (lazily: only networks with a local endpoint are programmed at all).
 * The data plane keeps forwarding when the store is unreachable.
 */
export class WeftNode implements AttachmentHost {
  readonly id: string;
  readonly role: 'manager' | 'worker';
  /** The shared state this node uses. */
  readonly store: Store;
  /** The data plane this node programs. */
  readonly dataPlane: DataPlane;
  private readonly options: ResolvedNodeOptions;
  private readonly ctx: CoreContext;
  private readonly view: NodeView;
  private readonly reconciler: Reconciler;
  private readonly heartbeat: Heartbeat;
  private readonly sweeper: Sweeper | undefined;
  private readonly statusMonitor: NodeStatusMonitor | undefined;
  private readonly rotator: KeyRotator | undefined;
  private readonly batchers = new Map<string, NetworkBatcher>();
  /** Services: VIPs and backends (records; every node's DNS and data plane follow them). */
  readonly services: Services;
  /** This node's embedded DNS server: answers its own endpoints at each active network's DNS address, and the loopback listeners. */
  readonly dns: DnsServer;
  /** Loopback DNS listeners by network id (settled addresses). */
  private readonly dnsListeners = new Map<string, SocketAddress>();
  private dnsSync: Promise<void> = Promise.resolve();
  private dnsSyncAgain = false;
  private dnsSyncing = false;
  private readonly acked = new Map<string, string>();
  private acking: Promise<void> | undefined;
  private ackAgain = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly roleWatches = new Set<StoreWatch>();

  private constructor(options: ResolvedNodeOptions) {
    this.options = options;
    this.id = options.id;
    this.role = options.role;
    this.store = options.store;
    this.dataPlane = options.dataPlane;
    this.ctx = {
      store: options.store,
      keys: new KeyLayout(options.keyPrefix),
      nodeId: options.id,
      now: options.now ?? Date.now,
      randomBytes: options.randomBytes ?? cryptoRandomBytes,
    };
    const onError = (err: unknown): void => options.onError?.(err);
    this.services = new Services(this.ctx, (revision, networkId) => this.caughtUp(revision, networkId));
    this.dns = new DnsServer({
      scopeOf: (networkId) => this.view.dnsScope(networkId),
      upstreams: options.dns.upstreams,
      upstreamTimeoutMs: options.dns.upstreamTimeoutMs,
    });
    this.dataPlane.setDnsHandler((query) => this.dns.handle(query));
    this.view = new NodeView(
      this.store,
      this.ctx.keys,
      this.id,
      (change) => {
        // A node removed: its live control connections to this manager go now (its certificate is refused from here on).
        if (change.prefix === this.ctx.keys.removedNodes() && options.store instanceof RaftStore) options.store.recheckPeers();
        // A node record appeared or changed: judge it now (a node that just joined is listed ready at once).
        if (change.prefix === this.ctx.keys.nodes()) this.statusMonitor?.nudge();
        void this.reconciler.request(change.resync, change.networkId, change.endpoints ? change.keys : undefined);
      },
      onError,
    );
    this.reconciler = new Reconciler({
      dataPlane: this.dataPlane,
      desired: (only) => desiredState(this.view, this.id, only),
      onError: (err) => onError(err),
      onPass: () => {
        this.scheduleAcks();
        this.syncDnsListeners();
      },
      desiredEndpoint: (networkId, endpointId) => desiredEndpoint(this.view, this.id, networkId, endpointId),
    });
    this.heartbeat = new Heartbeat(this.ctx, options.heartbeatIntervalMs, onError);
    if (this.role === 'manager') {
      this.sweeper = new Sweeper(this.ctx, options.orphanGraceMs, (rec) => this.detachRecord(rec), onError);
      // A node is down once its heartbeat has not moved for 3 intervals (Swarm: a missed heartbeat period and grace).
      this.statusMonitor = new NodeStatusMonitor(this.ctx, options.heartbeatIntervalMs, 3 * options.heartbeatIntervalMs, options.store instanceof RaftStore ? options.store : undefined, onError);
      this.rotator = new KeyRotator(
        this.ctx,
        { intervalMs: options.keyRotationIntervalMs, ackTimeoutMs: options.keyAckTimeoutMs, drainMs: options.keyDrainMs },
        onError,
      );
    }
  }

  /**
   * Starts a node: initialises the cluster if it is the first manager (or
   * waits for one, as a worker), registers the node and its data plane's
   * address, loads its view of the store, and reconciles the data plane.
   * @throws InvalidOptionsError naming the bad option.
   */
  static async start(options: WeftNodeOptions): Promise<WeftNode> {
    const node = new WeftNode(parseOptions(weftNodeOptionsSchema, options, 'WeftNode'));
    try {
      await node.init();
    } catch (err) {
      await node.close().catch(() => undefined);
      throw err;
    }
    return node;
  }

  private async init(): Promise<void> {
    const o = this.options;
    // Both reads at once (one round trip to the store instead of two for a worker).
    const [, removed] = await Promise.all([
      this.role === 'manager'
        ? ensureCluster(this.ctx, { defaultAddressPools: o.defaultAddressPools, vniStart: o.vniStart, createIngress: o.createIngress })
        : awaitCluster(this.ctx, o.operationTimeoutMs),
      this.store.get(this.ctx.keys.removedNode(this.id)),
    ]);
    if (removed !== undefined) throw new NodeRemovedError(this.id);
    const record: NodeRecord = {
      id: this.id,
      role: this.role,
      dataPlane: { ...this.dataPlane.info },
      labels: o.labels,
      startedAt: new Date(this.ctx.now()).toISOString(),
    };
    await this.store.put(this.ctx.keys.node(this.id), encodeRecord(record));
    await this.heartbeat.start();
    await this.view.start();
    await this.reconciler.request(true);
    this.sweeper?.start();
    this.statusMonitor?.start();
    this.rotator?.start();
  }

  private assertOpen(): void {
    if (this.closed) throw new WeftNodeClosedError(this.id);
  }

  // ---- networks ----

  /**
   * Creates an overlay network, visible on every node at once (only nodes
   * that attach endpoints to it program it).
   * @throws InvalidOptionsError, NameConflictError, OverlapError, PoolExhaustedError
   */
  async createNetwork(options: CreateNetworkOptions): Promise<NetworkInfo> {
    this.assertOpen();
    return networkInfo(await createNetwork(this.ctx, options));
  }

  /**
   * Removes a network that has no endpoints.
   * @throws NetworkNotFoundError, NetworkInUseError
   */
  async removeNetwork(nameOrId: string): Promise<void> {
    this.assertOpen();
    await removeNetwork(this.ctx, nameOrId);
  }

  /** Every network of the cluster (whether or not this node has endpoints on it). */
  listNetworks(): Promise<NetworkInfo[]> {
    this.assertOpen();
    return listNetworks(this.ctx);
  }

  /**
   * A network in `docker network inspect` vocabulary: its settings, its
   * endpoints (`Containers`) and its peers (nodes that have endpoints on it).
   * @throws NetworkNotFoundError
   */
  inspectNetwork(nameOrId: string): Promise<NetworkInspect> {
    this.assertOpen();
    return inspectNetwork(this.ctx, nameOrId);
  }

  // ---- endpoints ----

  /**
   * Attaches an endpoint on this node: allocates its address exactly once
   * cluster-wide, writes its record, and resolves once this node's data plane
   * has it (peers program it as their watches deliver the record).
   * Idempotent by `requestId`.
   * @throws InvalidOptionsError, NetworkNotFoundError, AttachRefusedError, NameConflictError,
   *   PoolExhaustedError / AddressInUseError / AddressOutOfRangeError (from @weft/ipam), OperationTimeoutError
   */
  async attach(network: string, options: AttachOptions): Promise<Attachment> {
    this.assertOpen();
    const o = parseOptions(attachOptionsSchema, options, 'attach');
    // The request id is fixed before the first try, so a second try after a stale view cannot allocate twice.
    const requestId = o.requestId ?? `${this.id}.${newId(this.ctx)}`;
    // This node's view of the networks (watch-fed) names the network without a linearizable read; a network
    // the view does not know yet, or one removed since (its pool is gone, so the txn refuses), is read from
    // the store and tried once more.
    const seen = this.viewNetwork(network);
    if (seen !== undefined) {
      try {
        return await this.attachTo(seen, o, requestId);
      } catch (err) {
        if (!(err instanceof EndpointNotFoundError)) throw err;
      }
    }
    return this.attachTo((await resolveNetwork(this.ctx, network)).value, o, requestId);
  }

  /** A network this node's view holds, by id or name (undefined: not seen here yet). */
  private viewNetwork(nameOrId: string): NetworkRecord | undefined {
    const nets = this.view.networks;
    const byId = nets.get(nameOrId);
    if (byId !== undefined) return byId;
    for (const n of nets.values()) if (n.name === nameOrId) return n;
    return undefined;
  }

  private async attachTo(net: NetworkRecord, o: ParsedAttachOptions, requestId: string): Promise<Attachment> {
    if (net.ingress && o.service === undefined) throw new AttachRefusedError(net.name, 'the ingress network is reserved for the routing mesh');
    if (!net.attachable && o.service === undefined) {
      throw new AttachRefusedError(net.name, 'the network is not attachable: only a service task (the `service` option) may join');
    }
    const record = await withTimeout(
      this.batcherFor(net).attach({
        requestId,
        name: o.name,
        aliases: o.aliases,
        nodeId: this.id,
        ...(o.ip !== undefined ? { ip: o.ip } : {}),
        ...(o.service !== undefined ? { service: o.service } : {}),
        ...(o.sandbox !== undefined ? { sandbox: o.sandbox } : {}),
        ...(o.interfaceName !== undefined ? { interfaceName: o.interfaceName } : {}),
        ...(o.resolvConf !== undefined ? { resolvConf: o.resolvConf } : {}),
      }),
      this.options.operationTimeoutMs,
      `attach ${o.name} to ${net.name}`,
      true,
    );
    // A retried request may return an endpoint an earlier attempt made on another node: it is programmed there.
    if (record.nodeId === this.id) {
      await withTimeout(
        this.reconciler.until(() => this.closed || this.reconciler.hasLocal(net.id, record.id)),
        this.options.operationTimeoutMs,
        `programming ${o.name} on ${net.name}`,
        false,
      );
    }
    this.assertOpen();
    return new Attachment(this, record, net.name);
  }

  /** The endpoints attached on this node (after a restart too), with their data-plane handles. */
  attachments(): Attachment[] {
    const out: Attachment[] = [];
    for (const rec of this.view.localEndpoints.values()) {
      const net = this.view.networks.get(rec.networkId);
      if (rec.nodeId === this.id) out.push(new Attachment(this, rec, net?.name ?? rec.networkId));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** @internal {@link AttachmentHost}: the data plane's handle of a local endpoint. */
  handleOf(endpointId: string): unknown {
    return this.reconciler.handle(endpointId);
  }

  /** @internal {@link AttachmentHost}: detaches a record (from an Attachment, or the sweeper for a dead node's endpoint). */
  async detachRecord(record: EndpointRecord): Promise<void> {
    this.assertOpen();
    const net = this.view.networks.get(record.networkId) ?? (await resolveNetwork(this.ctx, record.networkId)).value;
    await withTimeout(this.batcherFor(net).detach(record), this.options.operationTimeoutMs, `detach ${record.name}`, true);
    if (record.nodeId === this.id) {
      await withTimeout(
        this.reconciler.until(() => this.closed || !this.reconciler.hasLocal(record.networkId, record.id)),
        this.options.operationTimeoutMs,
        `removing ${record.name} from the data plane`,
        false,
      );
    }
  }

  private batcherFor(net: NetworkRecord): NetworkBatcher {
    let b = this.batchers.get(net.id);
    if (b === undefined) {
      b = new NetworkBatcher(this.ctx, net);
      this.batchers.set(net.id, b);
    }
    return b;
  }

  // ---- discovery ----

  /**
   * The loopback DNS listener serving a network on this node (UDP and TCP on
   * one port; the network is the scope of every answer), or undefined when
   * the node is not active on it or listeners are off (`dns.loopback: false`).
   * Resolves once listeners have caught up with the node's active networks.
   */
  async dnsListener(network: string): Promise<SocketAddress | undefined> {
    this.assertOpen();
    await this.reconciled();
    await this.dnsSync;
    const id = this.view.networks.has(network) ? network : [...this.view.networks.values()].find((n) => n.name === network)?.id;
    const at = id === undefined ? undefined : this.dnsListeners.get(id);
    return at === undefined ? undefined : { ...at };
  }

  /** Resolves once this node's view has applied a write at `revision` (see `NodeView.caughtUp`) and reconciled it; bounded. */
  private async caughtUp(revision: number, networkId?: string): Promise<void> {
    await withTimeout(
      this.reconciler.until(() => this.closed || this.view.caughtUp(revision, networkId)),
      this.options.operationTimeoutMs,
      'waiting for this node to apply a service change',
      false,
    );
    await this.reconciled();
  }

  /** Opens a loopback listener for every active network and closes those of networks left (serialized, coalesced). */
  private syncDnsListeners(): void {
    const host = this.options.dns.loopback;
    if (host === false || this.closed) return;
    if (this.dnsSyncing) {
      this.dnsSyncAgain = true;
      return;
    }
    this.dnsSyncing = true;
    this.dnsSync = (async () => {
      do {
        this.dnsSyncAgain = false;
        const wanted = new Set(this.closed ? [] : this.view.activeNetworks());
        for (const id of [...this.dnsListeners.keys()]) {
          if (wanted.has(id)) continue;
          this.dnsListeners.delete(id);
          await this.dns.unlisten(id);
        }
        for (const id of wanted) {
          if (this.dnsListeners.has(id) || this.closed) continue;
          try {
            this.dnsListeners.set(id, await this.dns.listen(id, { host, port: 0 }));
          } catch (err) {
            this.options.onError?.(err);
          }
        }
      } while (this.dnsSyncAgain && !this.closed);
    })()
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => {
        this.dnsSyncing = false;
        if (this.dnsSyncAgain) this.syncDnsListeners();
      });
  }

  // ---- keys ----

  /**
   * Rotates an encrypted network's key now (managers only), in three
   * acknowledged phases; resolves with the new generation.
   * @throws NetworkNotFoundError; CoreError on a worker.
   */
  async rotateNetworkKey(network: string): Promise<number> {
    this.assertOpen();
    if (this.rotator === undefined) throw new AttachRefusedError(network, 'key rotation runs on managers');
    const net = (await resolveNetwork(this.ctx, network)).value;
    return this.rotator.rotate(net.id);
  }

  // ---- nodes ----

  /**
   * Every node of the cluster: id, role, underlay address, `ready`/`down` as
   * the managers judge its heartbeat (down after 3 heartbeat intervals
   * without one), and which manager is the Raft leader. Works on any node.
   */
  async listNodes(): Promise<NodeInfo[]> {
    this.assertOpen();
    return listNodes(this.ctx);
  }

  /** Whether `nodeId` was removed from the cluster (as this node's view has seen so far): control connections from it are refused. */
  isRemoved(nodeId: string): boolean {
    return this.view.isRemoved(nodeId);
  }

  /**
   * Removes a worker from the cluster (managers only), as `docker node rm`:
   * records the removal first — from then on its certificate is refused on
   * every control connection (`controlTlsFor`'s `removed`) and it cannot
   * start under its id again — then detaches its endpoints (their addresses
   * are released and its peer records vanish from every node), and deletes
   * its node, heartbeat and status records. A node that is up is refused
   * unless `force` (it may still be serving containers); a manager is
   * refused (demote it first); so is this node itself.
   * @throws NodeNotFoundError; NodeRemovalRefusedError (also when called on a worker).
   */
  async removeNode(nodeId: string, options: { readonly force?: boolean } = {}): Promise<void> {
    this.assertOpen();
    if (this.role !== 'manager') throw new NodeRemovalRefusedError(nodeId, 'only managers remove nodes');
    if (nodeId === this.id) throw new NodeRemovalRefusedError(nodeId, 'a node cannot remove itself (use close() and remove it from another manager)');
    const k = this.ctx.keys;
    const info = (await listNodes(this.ctx)).find((n) => n.id === nodeId);
    if (info === undefined) {
      if ((await this.store.get(k.removedNode(nodeId))) !== undefined) return; // already removed: idempotent
      throw new NodeNotFoundError(nodeId);
    }
    if (info.role === 'manager') throw new NodeRemovalRefusedError(nodeId, 'it is a manager: demote it first');
    if (info.status === 'ready' && options.force !== true) throw new NodeRemovalRefusedError(nodeId, 'it is up (status ready): stop it first, or pass force');
    await this.store.put(k.removedNode(nodeId), encodeRecord({ removedAt: new Date(this.ctx.now()).toISOString(), by: this.id }));
    const refs = await this.store.range({ prefix: k.nodeEndpoints(nodeId) });
    for (const refKv of refs.kvs) {
      const ref = parseRecord(nodeEndpointRefSchema, refKv);
      if (ref === undefined) continue;
      const recKv = await this.store.get(k.endpoint(ref.networkId, refKv.key.slice(k.nodeEndpoints(nodeId).length)));
      const rec = recKv === undefined ? undefined : parseRecord(endpointRecordSchema, recKv);
      if (rec === undefined) await this.store.delete(refKv.key);
      else await this.detachRecord(rec);
    }
    await this.store.txn({ success: [kv.delete(k.node(nodeId)), kv.delete(k.heartbeat(nodeId)), kv.delete(k.nodeStatus(nodeId))] });
  }

  // ---- lifecycle: roles and leaving ----

  private lifecycle(): LifecycleHost {
    return { ctx: this.ctx, role: this.role, raft: this.store instanceof RaftStore ? this.store : undefined };
  }

  /**
   * Turns a manager into a worker (managers only, as `docker node demote`):
   * removes it from the managers' Raft membership — refused by the quorum
   * guard when the managers left would not have a reachable majority, and
   * for the last manager; the leader hands leadership to another manager
   * first when it is the one demoted — then records its desired role
   * `worker` (`roles/<id>`), which the node's process acts on (see
   * {@link WeftNode.onRoleChange}). Resolves once it is out of the Raft
   * configuration this manager has applied. Idempotent (a worker: only the record).
   * @throws InvalidOptionsError (bad id); NodeNotFoundError; RoleChangeRefusedError (called on a worker);
   *   ManagerRemovalRefusedError naming the reason; OperationTimeoutError; the store's errors.
   */
  async demote(nodeId: string): Promise<void> {
    this.assertOpen();
    await demoteNode(this.lifecycle(), parseOptions(z.object({ nodeId: nodeIdSchema }), { nodeId }, 'demote').nodeId);
  }

  /**
   * Records that a node should become a manager (managers only, as `docker
   * node promote`): writes its desired role `manager` (`roles/<id>`). Its
   * process acts on it (see {@link WeftNode.onRoleChange}): it obtains a
   * manager certificate, opens a Raft replica with `RaftStore.open({ join: true, ... })`,
   * and a manager adds it with `RaftStore.addManager` — then `listNodes()`
   * reports it as a manager. Idempotent.
   * @throws InvalidOptionsError (bad id); NodeNotFoundError; RoleChangeRefusedError (called on a worker); the store's errors.
   */
  async promote(nodeId: string): Promise<void> {
    this.assertOpen();
    await promoteNode(this.lifecycle(), parseOptions(z.object({ nodeId: nodeIdSchema }), { nodeId }, 'promote').nodeId);
  }

  /**
   * Calls `listener` with this node's desired role when `promote`/`demote`
   * changes it: at once if the recorded role already differs from
   * {@link WeftNode.role} (a role changed while the node was down), then on
   * every change. A manager with an embedded Raft store is also told
   * `worker` when it sees itself removed from the Raft voters. Listeners run on the store's watch delivery and must not
   * throw. Cancel the returned watch when done (close() cancels it too).
   * @throws the store's errors (reading the current record).
   */
  async onRoleChange(listener: (role: DesiredRole) => void): Promise<StoreWatch> {
    this.assertOpen();
    const w = await watchDesiredRole(this.ctx, this.role, listener, this.role === 'manager' ? this.lifecycle().raft : undefined, this.options.heartbeatIntervalMs);
    this.roleWatches.add(w);
    return w;
  }

  /**
   * Records a node's availability (managers only): `active` (default),
   * `pause` or `drain`, as `docker node update --availability`. Weft
   * schedules nothing itself: it is shown in `listNodes()` for orchestrators.
   * @throws InvalidOptionsError (bad id or availability); NodeNotFoundError; RoleChangeRefusedError (called on a worker).
   */
  async setAvailability(nodeId: string, availability: Availability): Promise<void> {
    this.assertOpen();
    const o = parseOptions(z.object({ nodeId: nodeIdSchema, availability: availabilitySchema }), { nodeId, availability }, 'setAvailability');
    await setNodeAvailability(this.lifecycle(), o.nodeId, o.availability);
  }

  /**
   * Leaves the cluster gracefully, then closes the node (as `docker swarm
   * leave`). A manager first checks the quorum guard (refused, with nothing
   * changed, when the managers left would not have a reachable majority, or
   * it is the last manager). Then: detaches this node's endpoints (their
   * addresses are released, peers drop them), stops its heartbeat and
   * manager loops, and in one txn marks itself removed (as `removeNode`
   * does: its id cannot start again, its certificate is refused) and deletes
   * its records — for a manager its managers-registry record too, whereupon
   * the Raft leader removes it (handing leadership off first when it leads);
   * it stays up until its removal is applied here (bounded by
   * `operationTimeoutMs`; past that it closes anyway: the leader completes
   * the removal). Then {@link WeftNode.close}.
   * @throws ManagerRemovalRefusedError (nothing changed); the store's errors (the node stays open: retry).
   */
  async leave(): Promise<void> {
    this.assertOpen();
    const host = this.lifecycle();
    if (this.role === 'manager') await host.raft?.checkManagerRemoval(this.id);
    for (const a of this.attachments()) await this.detachRecord(a.record);
    await Promise.all([this.heartbeat.stop(), this.sweeper?.stop(), this.statusMonitor?.stop(), this.rotator?.stop()]);
    try {
      await this.store.txn({ success: leaveOps(host) });
    } catch (err) {
      // With TLS the managers cut this node's connections as soon as its removed mark applies, which
      // can be before the answer is sent: a write lost in flight is taken as done (it is all or nothing).
      if (!(isWeftError(err, 'StoreUnavailableError') && (err as StoreUnavailableError).outcomeUnknown)) throw err;
    }
    const raft = host.raft;
    if (raft !== undefined) {
      const deadline = performance.now() + this.options.operationTimeoutMs;
      const member = (): boolean => {
        const c = raft.node.status().confState;
        return [...c.voters, ...c.learners].includes(this.id);
      };
      while (member() && performance.now() < deadline && !this.closed) await new Promise((r) => setTimeout(r, 20));
      if (member()) this.options.onError?.(new OperationTimeoutError(`leave: ${this.id}'s removal from Raft`, this.options.operationTimeoutMs, true));
    }
    await this.close();
  }

  // ---- state, for tests and debugging ----

  /** What this node's data plane should hold, computed from its view of the store. */
  desiredState(): DesiredState {
    return desiredState(this.view, this.id);
  }

  /** What this node's data plane holds, read back from it. */
  programmedState(): Promise<ProgrammedState> {
    return this.dataPlane.programmed();
  }

  /** Resolves once every change seen so far is reconciled (a pass runs if one is pending). */
  async reconciled(): Promise<void> {
    await this.view.settled();
    await this.reconciler.request(false);
  }

  /** Forces a full resync: reads the data plane back and fixes any difference. */
  resync(): Promise<void> {
    return this.reconciler.request(true);
  }

  /** Networks this node is active on (has endpoints on, so watches and programs). */
  activeNetworks(): string[] {
    return this.view.activeNetworks();
  }

  /** Counters of every part of the node. */
  get stats(): NodeStats {
    const batches = { commits: 0, conflicts: 0, operations: 0 };
    for (const b of this.batchers.values()) {
      batches.commits += b.stats.commits;
      batches.conflicts += b.stats.conflicts;
      batches.operations += b.stats.operations;
    }
    return {
      reconcile: this.reconciler.stats,
      view: this.view.stats,
      batches,
      ...(this.sweeper ? { sweeper: this.sweeper.stats } : {}),
      ...(this.rotator ? { keyRotations: this.rotator.stats } : {}),
    };
  }

  /** Runs one sweep for dead nodes' endpoints now (managers); returns how many were reclaimed. */
  async sweepOrphans(): Promise<number> {
    this.assertOpen();
    return this.sweeper === undefined ? 0 : this.sweeper.sweep();
  }

  /**
   * Stops the node: timers, watches, the reconcile loop; closes the data
   * plane (its endpoints stop forwarding) and the store. The node's records
   * stay in the store (a restart with the same id picks them up; managers
   * reclaim them after `orphanGraceMs` if it never returns). Idempotent.
   *
   * With `keepDataPlane`, a data plane that can ({@link DataPlane.release},
   * the kernel's) is released instead of closed: what it programmed stays and
   * keeps forwarding, for the next node started with the same id to adopt
   * (a restart or a role change that must not take containers' networking
   * down). Only the first call's options count.
   */
  close(options: { readonly keepDataPlane?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.keepDataPlane === true);
    return this.closing;
  }

  private async shutdown(keepDataPlane: boolean): Promise<void> {
    this.closed = true;
    for (const w of this.roleWatches) w.cancel();
    this.roleWatches.clear();
    // Background store writes (a heartbeat, a key ack, a sweep, a rotation) are not waited for before the
    // store closes: without a quorum they would only time out. Closing the store settles them at once.
    const background = [this.heartbeat.stop(), this.sweeper?.stop(), this.statusMonitor?.stop(), this.rotator?.stop(), this.acking];
    this.view.stop();
    await this.reconciler.close();
    this.dataPlane.setDnsHandler(undefined);
    await this.dnsSync;
    await this.dns.close();
    if (keepDataPlane && this.dataPlane.release !== undefined) await this.dataPlane.release();
    else await this.dataPlane.close();
    await this.store.close();
    await Promise.allSettled(background);
  }

  private scheduleAcks(): void {
    if (this.closed) return;
    if (this.acking !== undefined) {
      this.ackAgain = true;
      return;
    }
    this.acking = this.ackKeys()
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => {
        this.acking = undefined;
        if (this.ackAgain) {
          this.ackAgain = false;
          this.scheduleAcks();
        }
      });
  }

  /** Writes this node's key acknowledgement for each encrypted network whose programmed keys changed. */
  private async ackKeys(): Promise<void> {
    for (const spec of this.reconciler.programmedSpecs()) {
      const enc = spec.encryption;
      if (enc === undefined) continue;
      const ack = { nodeId: this.id, receive: enc.keys.map((k) => k.generation), send: enc.sendGeneration };
      const text = JSON.stringify(ack);
      if (this.acked.get(spec.id) === text) continue;
      await this.store.put(this.ctx.keys.keyAck(spec.id, this.id), text);
      this.acked.set(spec.id, text);
    }
  }
}
