import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseOptions, type DataPlane, type Store, type StoreWatch } from '@weft/interface';
import { z } from 'zod';
import { UserspaceDataPlane } from '../data-plane/userspace-data-plane';
import type { JoinResult } from '../cluster/join/join-client';
import type { Attachment } from '../endpoint/attachment';
import { KeyLayout } from '../records/keys';
import { RaftStore, type ManagerAddress } from '../store/raft-store';
import { RemoteStore } from '../store/remote/remote-store';
import { workerStorePolicy } from '../store/remote/store-policy';
import { WeftNode } from '../node/weft-node';
import type { ControlMethod, DaemonStats, EndpointSummary, NodeSummary, ParsedParamsOf, PingResult, ReconcileSummary } from './api';
import { ControlServer } from './control-server';
import { DataDirError, LocalEndpointNotFoundError, NotAManagerError } from './errors';
import { jsonLogger, type Logger } from './logger';
import { JOIN_ADDRESS, dataDirPaths, hostPortOf, readCredentials, readNodeState, writeCredentials, writeNodeState, type NodeState, type PemCredentials } from './state-file';
import { ClusterSecurity } from './cluster-security';

/** How a node process starts: a new cluster, joining one, or the node its data dir already holds. */
export type DaemonStart = { readonly kind: 'init' } | { readonly kind: 'join'; readonly token: string; readonly manager: string } | { readonly kind: 'resume' };

/** Options of {@link NodeDaemon.start}. */
export interface NodeDaemonOptions {
  /** Where the node keeps its state: `node.json`, `tls/`, `raft/` (managers) and the control socket. Created if missing. */
  readonly dataDir: string;
  readonly start: DaemonStart;
  /** The node's id (default: a random one for `init`, or the one the join service gives). */
  readonly nodeId?: string;
  /** The address other nodes reach this one at (default 127.0.0.1). */
  readonly advertiseAddr?: string;
  /** The address the control listeners bind (default: `advertiseAddr`). */
  readonly listenAddr?: string;
  /** Control ports: join service (default 2377), store API (2378), Raft (2379). 0 picks a free one. */
  readonly ports?: { readonly join?: number; readonly store?: number; readonly raft?: number };
  /** The data plane's underlay address (default: `advertiseAddr`). */
  readonly dataAddr?: string;
  /** UDP port of plain VXLAN (default 4789; 0: any free port, advertised in the node's record). */
  readonly vxlanPort?: number;
  /** UDP port of sealed (encrypted) VXLAN (default 4790; 0: any free port). */
  readonly encryptedPort?: number;
  /**
   * The data plane: `userspace` (default; endpoints live in this process) or
   * `kernel` (`@weft/linux`: a namespace with a bridge and a kernel VXLAN device per
   * network, endpoints are containers' network namespaces; needs root, one node per
   * host network namespace, VXLAN on UDP 4789).
   */
  readonly dataPlane?: 'userspace' | 'kernel';
  /**
   * Kernel plane: egress for containers on non-`internal` networks through a
   * gateway bridge with nftables masquerade (as Docker's `docker_gwbridge`).
   * Default `{}` (on; the bridge's subnet the first free of 172.18.0.0/16 …
   * 172.31.0.0/16); `false` turns it off. Set at `init`/`join`, kept in the data dir.
   */
  readonly egress?: false | { readonly subnet?: string };
  /**
   * Kernel plane: keep the kernel's state (namespaces, VXLAN devices, the
   * containers' interfaces and entries) when the process stops gracefully,
   * so containers on plain networks keep their traffic while the node is down
   * and the next start adopts it (Docker's `live-restore`). Default false: a
   * stop removes it all. Role changes keep it always. Kept in the data dir;
   * `resume` may change it.
   */
  readonly liveRestore?: boolean;
  /** The control socket (default `<dataDir>/weft.sock`). */
  readonly socketPath?: string;
  /** Lifetime of node certificates issued by this cluster (`init` only; default 90 days). */
  readonly certLifetimeMs?: number;
  /** Raft election timeout (ms, default 1000) and heartbeat (default 100). */
  readonly electionTimeoutMs?: number;
  readonly raftHeartbeatMs?: number;
  /** The node's heartbeat in the store (ms, default 2000; a node is down after 3 missed). */
  readonly heartbeatIntervalMs?: number;
  /** Structured logs (default: JSON lines on standard error at level info). */
  readonly logger?: Logger;
}

const port = z.number().int().min(0).max(65535);
const optionsSchema = z.object({
  dataDir: z.string().min(1),
  start: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('init') }),
    z.object({ kind: z.literal('join'), token: z.string().min(1), manager: z.string().regex(JOIN_ADDRESS, 'must be HOST:PORT of a manager\'s join service') }),
    z.object({ kind: z.literal('resume') }),
  ]),
  nodeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, "_", "." or "-"').optional(),
  advertiseAddr: z.string().min(1).default('127.0.0.1'),
  listenAddr: z.string().min(1).optional(),
  ports: z.object({ join: port.default(2377), store: port.default(2378), raft: port.default(2379) }).default({ join: 2377, store: 2378, raft: 2379 }),
  dataAddr: z.string().min(1).optional(),
  vxlanPort: port.default(4789),
  encryptedPort: port.default(4790),
  socketPath: z.string().min(1).max(107, 'must be at most 107 bytes (the limit of a Unix socket path)').optional(),
  dataPlane: z.enum(['userspace', 'kernel']).default('userspace'),
  egress: z.union([z.literal(false), z.object({ subnet: z.string().min(1).optional() }).strict()]).default({}),
  liveRestore: z.boolean().optional(),
  certLifetimeMs: z.number().int().min(1000).optional(),
  electionTimeoutMs: z.number().int().min(2).default(1000),
  raftHeartbeatMs: z.number().int().min(1).default(100),
  heartbeatIntervalMs: z.number().int().min(1).default(2000),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).info === 'function', { message: 'must be a Logger' }).optional(),
});
type Parsed = z.output<typeof optionsSchema>;

/** A TCP port that was free a moment ago on `host`. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, host, () => {
      const { port: p } = s.address() as { port: number };
      s.close(() => resolve(p));
    });
  });
}


/** The node's store: a Raft replica (manager) or a connection to the managers (worker). */
async function openStore(o: Parsed, state: NodeState, security: ClusterSecurity, raftDir: string, log: Logger, joined: boolean): Promise<Store> {
  const tls = security.controlTls;
  if (state.role === 'worker') {
    if (state.managers.length === 0) throw new DataDirError(o.dataDir, 'a worker without any known manager');
    return new RemoteStore({ endpoints: state.managers.map((m) => m.store), tls, requestTimeoutMs: 10_000 });
  }
  const { LevelStorage } = await import('@weft/raft/level');
  const fresh = !existsSync(raftDir);
  const stores = await LevelStorage.open(raftDir);
  const self: ManagerAddress = {
    id: state.id,
    raft: { host: state.advertiseAddr, port: state.ports.raft },
    store: { host: state.advertiseAddr, port: state.ports.store },
  };
  const others = state.managers.filter((m) => m.id !== state.id).map((m) => ({ id: m.id, raft: m.raft, store: m.store }));
  try {
    const store = await RaftStore.open({
      id: state.id,
      managers: [self, ...others],
      stores,
      electionTimeoutMs: o.electionTimeoutMs,
      heartbeatIntervalMs: o.raftHeartbeatMs,
      tls,
      authorize: workerStorePolicy(new KeyLayout('weft/')),
      ...security.raftJoinOptions(fresh, joined),
    });
    log.info('raft replica open', { fresh, managers: [self, ...others].map((m) => m.id) });
    return store;
  } catch (err) {
    await stores.close?.().catch(() => undefined);
    throw err;
  }
}

/** The node's data plane: userspace, or the Linux kernel's (loaded only then). */
async function openDataPlane(state: NodeState): Promise<DataPlane> {
  if (state.dataPlane === 'kernel') {
    const { KernelDataPlane } = await import('@weft/linux');
    // the kernel plane's ports are fixed (its VXLAN devices' dstport, its encrypted relay's socket): 0 (any) means the default
    const ports = { ...(state.vxlanPort > 0 ? { vxlanPort: state.vxlanPort } : {}), ...(state.encryptedPort > 0 ? { encryptedPort: state.encryptedPort } : {}) };
    return (await KernelDataPlane.open({ nodeId: state.id, underlayAddress: state.dataAddr, egress: state.egress, ...ports })) as unknown as DataPlane;
  }
  return UserspaceDataPlane.open({ nodeId: state.id, address: state.dataAddr, vxlanPort: state.vxlanPort, encryptedPort: state.encryptedPort });
}

/** The kernel plane's `reconcile()` (the userspace plane has none). */
interface Reconcilable {
  reconcile(): Promise<{
    readonly changes: readonly { readonly action: string; readonly kind: string; readonly namespace: string; readonly target: string }[];
    readonly errors: readonly { readonly namespace: string; readonly error: Error }[];
  }>;
}

/**
 * Reconciles the data plane with the desired state it was given (the store's,
 * programmed by `WeftNode`): the kernel plane lists its namespaces, removes a
 * crashed run's leftovers and restores what is missing. The userspace plane
 * keeps nothing outside the process: `supported: false`.
 */
async function reconcilePlane(plane: DataPlane): Promise<ReconcileSummary> {
  const at = new Date().toISOString();
  if (typeof (plane as Partial<Reconcilable>).reconcile !== 'function') return { supported: false, changes: [], errors: [], at };
  const r = await (plane as unknown as Reconcilable).reconcile();
  return {
    supported: true,
    changes: r.changes.map((c) => ({ action: c.action, kind: c.kind, namespace: c.namespace, target: c.target })),
    errors: r.errors.map((e) => ({ namespace: e.namespace, error: `${e.error.name}: ${e.error.message}` })),
    at,
  };
}

/**
 * Opens the node's parts in its role: store (a manager that has just joined
 * or been promoted starts a fresh Raft replica and asks to be a member), data
 * plane, `WeftNode`, the deny list, the join service (managers) and renewal;
 * then records the managers it knows in `node.json`. Closes what it opened
 * when a step fails.
 */
async function bringUp(o: Parsed, state: NodeState, security: ClusterSecurity, log: Logger, joined: boolean): Promise<{ node: WeftNode; state: NodeState; reconcile?: ReconcileSummary }> {
  const paths = dataDirPaths(o.dataDir);
  let store: Store | undefined;
  let dataPlane: DataPlane | undefined;
  let node: WeftNode | undefined;
  try {
    const fresh = !existsSync(paths.raft);
    store = await openStore(o, state, security, paths.raft, log, joined);
    if (fresh && joined && state.role === 'manager' && store instanceof RaftStore) {
      await security.registerManager({ id: state.id, raft: { host: state.advertiseAddr, port: state.ports.raft }, store: { host: state.advertiseAddr, port: state.ports.store } }, state.managers, store);
      log.info('raft member', { nodeId: state.id });
    }
    dataPlane = await openDataPlane(state);
    node = await WeftNode.start({
      id: state.id,
      role: state.role,
      store,
      dataPlane,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      onError: (err) => log.warn('background error', { err }),
    });
    // The kernel's state outlives the process: WeftNode has programmed the store's desired state (existing
    // namespaces and containers' interfaces adopted); now remove a crashed run's leftovers and restore what is missing.
    const reconcile = state.dataPlane === 'kernel' ? await reconcilePlane(dataPlane) : undefined;
    if (reconcile !== undefined) log.info('data plane reconciled', { nodeId: state.id, changes: reconcile.changes, errors: reconcile.errors });
    await security.attachNode(node, store);
    security.onRenewed = (c) => writeCredentials(o.dataDir, c);
    await security.startServices(store, state);
    // Remember the managers (their addresses for the next start) and the node once it is up.
    const next = { ...state, managers: await security.knownManagers(store, state) };
    writeNodeState(o.dataDir, next);
    return { node, state: next, ...(reconcile !== undefined ? { reconcile } : {}) };
  } catch (err) {
    await security.stopServices();
    await node?.close().catch(() => undefined);
    if (node === undefined) {
      await dataPlane?.close().catch(() => undefined);
      await store?.close().catch(() => undefined);
    }
    throw err;
  }
}

/**
 * One Weft node as a process — what `weft init`, `weft join` and `weft run`
 * start (dockerd's part): its store (a Raft replica on managers, a
 * connection to the managers on workers) over mutual TLS, its userspace data
 * plane, the `WeftNode` reconciling it, the join service (managers),
 * certificate renewal, and the local control API on a Unix socket that the
 * `weft` command and `WeftClient` talk to. Endpoints attached through the
 * API live in this process.
 */
export class NodeDaemon {
  private controlServer: ControlServer | undefined;
  private closing: Promise<void> | undefined;
  private readonly names = new Map<string, string>();

  private roleWatch: StoreWatch | undefined;
  private switching: Promise<void> | undefined;
  /** The data plane's reconcile when the node (last) came up (kernel plane only). */
  private startupReconcile: ReconcileSummary | undefined;

  private constructor(
    private readonly o: Parsed,
    private state: NodeState,
    private current: WeftNode,
    private readonly security: ClusterSecurity,
    private readonly log: Logger,
  ) {}

  /** The node (a new one after a role change). */
  get node(): WeftNode {
    return this.current;
  }

  /** Follows this node's desired role (`promote`/`demote` on a manager): the process switches its own role. */
  private async watchRole(): Promise<void> {
    this.roleWatch = await this.current.onRoleChange((role) => {
      if (role !== this.state.role) void this.switchRole(role);
    });
  }

  /** Resolves once a role change in progress (if any) has finished. */
  async roleSettled(): Promise<void> {
    await this.switching;
  }

  /**
   * Becomes a manager or a worker in place: a certificate for the new role
   * (the join service issues the role recorded for this node and deny-lists
   * the old serial), then the node is restarted on the new store — a fresh
   * Raft replica that asks to be a member, or a connection to the managers —
   * with the same id, data plane addresses and endpoints (re-programmed from
   * the store). The control socket stays up; requests in between fail.
   */
  private switchRole(role: 'manager' | 'worker'): Promise<void> {
    if (this.switching !== undefined || this.closing !== undefined) return this.switching ?? Promise.resolve();
    this.switching = (async () => {
      const from = this.state.role;
      this.log.info('role change', { nodeId: this.state.id, from, to: role });
      try {
        const managers = await this.security.knownManagers(this.current.store, this.state);
        await this.security.renewNow({ ...this.state, managers });
        const cert = this.security.certificateRole();
        if (cert !== role) throw new Error(`the renewed certificate says ${cert}, not ${role}`);
        await this.roleWatch?.cancel();
        await this.security.stopServices();
        await this.current.close({ keepDataPlane: true }); // the containers keep their interfaces and traffic; the new node adopts them
        rmSync(dataDirPaths(this.o.dataDir).raft, { recursive: true, force: true });
        this.state = { ...this.state, role, managers };
        writeNodeState(this.o.dataDir, this.state);
        const up = await bringUp(this.o, this.state, this.security, this.log, role === 'manager');
        this.current = up.node;
        this.state = up.state;
        this.startupReconcile = up.reconcile ?? this.startupReconcile;
        await this.watchRole();
        this.log.info('role changed', { nodeId: this.state.id, role });
      } catch (err) {
        this.log.error('role change failed', { nodeId: this.state.id, to: role, err });
      }
    })().finally(() => {
      this.switching = undefined;
    });
    return this.switching;
  }

  /**
   * Starts the node: creates the cluster (`init`), joins one (`join`) or
   * resumes the node in the data dir (`resume`), then serves the control socket.
   * `internal.joining` (for `weft join`): the join exchange of this very start, begun by the caller
   * (see `startJoin`) while it loaded the node's modules; used in place of a new exchange.
   * @throws InvalidOptionsError naming the bad option; DataDirError (init/join on a dir that
   *   holds a node, resume on one that holds none); the join service's refusals (JoinTokenRejectedError, ...).
   */
  static async start(options: NodeDaemonOptions, internal?: { readonly joining?: Promise<JoinResult> | undefined }): Promise<NodeDaemon> {
    const o = parseOptions(optionsSchema, options, 'NodeDaemon');
    const log = o.logger ?? jsonLogger('info');
    const paths = dataDirPaths(o.dataDir);
    const existing = readNodeState(o.dataDir);
    if (o.start.kind !== 'resume' && existing !== undefined) {
      throw new DataDirError(o.dataDir, `it already holds node ${existing.id} (${existing.role}); start it with \`weft run --data-dir ${o.dataDir}\`, or use an empty data dir`);
    }
    if (o.start.kind === 'resume' && existing === undefined) throw new DataDirError(o.dataDir, 'it holds no node: create one with `weft init` or `weft join`');
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });

    let state: NodeState;
    let creds: PemCredentials;
    let security: ClusterSecurity;
    if (existing !== undefined) {
      state = o.liveRestore !== undefined && o.liveRestore !== existing.liveRestore ? { ...existing, liveRestore: o.liveRestore } : existing;
      if (state !== existing) writeNodeState(o.dataDir, state);
      creds = readCredentials(o.dataDir);
      security = await ClusterSecurity.resume(creds, state, o, log);
    } else {
      const listenAddr = o.listenAddr ?? o.advertiseAddr;
      const ports = {
        join: o.ports.join || (await freePort(listenAddr)),
        store: o.ports.store || (await freePort(listenAddr)),
        raft: o.ports.raft || (await freePort(listenAddr)),
      };
      const base = {
        advertiseAddr: o.advertiseAddr,
        listenAddr,
        ports,
        dataAddr: o.dataAddr ?? o.advertiseAddr,
        vxlanPort: o.vxlanPort,
        encryptedPort: o.encryptedPort,
        dataPlane: o.dataPlane,
        egress: o.egress,
        liveRestore: o.liveRestore ?? false,
      };
      if (o.start.kind === 'init') {
        const init = await ClusterSecurity.init(o, paths.raft, base, log);
        security = init.security;
        creds = init.credentials;
        state = { version: 1, id: init.nodeId, role: 'manager', ...base, managers: [], joinAddresses: [{ host: base.advertiseAddr, port: ports.join }] };
      } else if (o.start.kind === 'join') {
        const joined = await ClusterSecurity.join(o, o.start.token, o.start.manager, base, log, internal?.joining);
        security = joined.security;
        creds = joined.credentials;
        state = { version: 1, id: joined.nodeId, role: joined.role, ...base, managers: joined.managers, joinAddresses: [hostPortOf(o.start.manager)] };
      } else {
        throw new DataDirError(o.dataDir, 'it holds no node');
      }
      writeCredentials(o.dataDir, creds);
    }

    let node: WeftNode;
    let startupReconcile: ReconcileSummary | undefined;
    try {
      const up = await bringUp(o, state, security, log, o.start.kind === 'join');
      node = up.node;
      state = up.state;
      startupReconcile = up.reconcile;
    } catch (failure) {
      // A restarted node refused everywhere (removed, certificate deny-listed) learns why from a manager's join service.
      const err = existing !== undefined ? await security.explainStartFailure(failure, state) : failure;
      await security.close();
      if (existing === undefined) {
        // A node that never started leaves nothing behind: the next init/join starts clean.
        for (const p of [paths.state, paths.tls, paths.raft]) rmSync(p, { recursive: true, force: true });
      }
      throw err;
    }
    const daemon = new NodeDaemon(o, state, node, security, log);
    daemon.startupReconcile = startupReconcile;
    try {
      await daemon.watchRole();
      daemon.controlServer = await ControlServer.listen({ path: o.socketPath ?? paths.socket, handle: (m, p) => daemon.handle(m, p) });
    } catch (err) {
      await daemon.close();
      throw err;
    }
    log.info('node ready', { nodeId: state.id, role: state.role, socket: daemon.controlServer.path, join: state.role === 'manager' ? `${state.advertiseAddr}:${state.ports.join}` : undefined });
    return daemon;
  }

  /** The control socket path. */
  get socketPath(): string {
    return this.controlServer?.path ?? '';
  }

  /** What `info` answers. */
  summary(): NodeSummary {
    const s = this.state;
    const cert = this.security.certificateInfo();
    return {
      id: s.id,
      role: this.node.role,
      address: s.dataAddr,
      ...(s.role === 'manager' ? { joinAddress: `${s.advertiseAddr}:${s.ports.join}` } : {}),
      ...(this.node.store instanceof RaftStore ? { leader: this.node.store.node.leader } : {}),
      pid: process.pid,
      dataDir: this.o.dataDir,
      tls: true,
      ...(cert !== undefined ? { certificateSerial: cert.serial, certificateNotAfter: cert.notAfter.toISOString() } : {}),
    };
  }

  private manager(operation: string): void {
    if (this.node.role !== 'manager') throw new NotAManagerError(operation);
  }

  private endpointSummary(a: Attachment): EndpointSummary {
    return { id: a.id, name: a.name, network: a.networkName, networkId: a.networkId, ip: a.ip, mac: a.mac };
  }

  private findAttachment(nameOrId: string): Attachment {
    const all = this.node.attachments();
    const a = all.find((x) => x.id === nameOrId) ?? all.find((x) => x.name === nameOrId);
    if (a === undefined) throw new LocalEndpointNotFoundError(nameOrId);
    return a;
  }

  private async stats(): Promise<DaemonStats> {
    const programmed = await this.node.programmedState();
    const peers: Record<string, string[]> = {};
    for (const net of programmed.networks) {
      const ids = new Set<string>();
      for (const r of net.remote) ids.add(r.peer.id);
      for (const f of net.flood) ids.add(f.id);
      peers[this.names.get(net.spec.id) ?? net.spec.name] = [...ids].sort();
    }
    const store = this.node.store;
    return {
      node: this.node.stats,
      ...(store instanceof RaftStore ? { raft: { ...store.node.status(), stats: store.stats }, storeServer: store.storeServer?.stats } : {}),
      ...(store instanceof RemoteStore ? { remoteStore: store.stats } : {}),
      ...this.security.stats(),
      control: this.controlServer?.stats ?? {},
      dataPlane: typeof (this.node.dataPlane as { counters?: unknown }).counters === 'function' ? await (this.node.dataPlane as UserspaceDataPlane).counters() : {},
      peers,
      ...(this.startupReconcile !== undefined ? { startupReconcile: this.startupReconcile } : {}),
    };
  }

  private async handle(method: ControlMethod, params: unknown): Promise<unknown> {
    const p = params as Record<string, unknown>;
    switch (method) {
      case 'info':
        return this.summary();
      case 'stats':
        return this.stats();
      case 'reconcile': {
        const r = await reconcilePlane(this.node.dataPlane);
        if (r.supported) this.log.info('data plane reconciled', { nodeId: this.state.id, changes: r.changes, errors: r.errors });
        return r;
      }
      case 'network.create': {
        const info = await this.node.createNetwork(params as ParsedParamsOf<'network.create'> as Parameters<WeftNode['createNetwork']>[0]);
        this.names.set(info.id, info.name);
        return info;
      }
      case 'network.ls': {
        const list = await this.node.listNetworks();
        for (const n of list) this.names.set(n.id, n.name);
        return list;
      }
      case 'network.inspect':
        return this.node.inspectNetwork(p.network as string);
      case 'network.rm':
        await this.node.removeNetwork(p.network as string);
        return {};
      case 'node.ls':
        this.manager('node ls');
        return this.node.listNodes();
      case 'node.rm':
        this.manager('node rm');
        await this.node.removeNode(p.node as string, { force: p.force as boolean });
        return {};
      case 'node.promote':
        this.manager('node promote');
        await this.node.promote(p.node as string);
        return {};
      case 'node.demote':
        this.manager('node demote');
        await this.node.demote(p.node as string);
        return {};
      case 'join-token': {
        this.manager('join-token');
        const q = params as ParsedParamsOf<'join-token'>;
        return this.security.joinToken(this.node.store, q.role, q.rotate, [`${this.state.advertiseAddr}:${this.state.ports.join}`]);
      }
      case 'endpoint.attach': {
        const q = params as ParsedParamsOf<'endpoint.attach'>;
        const a = await this.node.attach(q.network, {
          name: q.name,
          ...(q.aliases !== undefined ? { aliases: q.aliases } : {}),
          ...(q.ip !== undefined ? { ip: q.ip } : {}),
          ...(q.netns !== undefined ? { sandbox: q.netns } : {}),
          ...(q.interfaceName !== undefined ? { interfaceName: q.interfaceName } : {}),
          ...(q.resolvConf !== undefined ? { resolvConf: q.resolvConf } : {}),
        });
        if (!this.names.has(a.networkId)) this.names.set(a.networkId, q.network);
        this.log.info('endpoint attached', { endpoint: a.name, network: q.network, ip: a.ip });
        return this.endpointSummary(a);
      }
      case 'endpoint.ls':
        return this.node.attachments().map((a) => this.endpointSummary(a));
      case 'endpoint.ping':
        return this.ping(params as ParsedParamsOf<'endpoint.ping'>);
      case 'leave':
        // Graceful: endpoints detached, leadership handed off, out of the Raft membership, marked removed; then the process stops.
        await this.node.leave();
        this.log.info('left the cluster', { nodeId: this.state.id });
        setImmediate(() => void this.close());
        return {};
      case 'endpoint.rm': {
        const a = this.findAttachment(p.endpoint as string);
        await a.detach();
        return {};
      }
    }
  }

  private async ping(q: ParsedParamsOf<'endpoint.ping'>): Promise<PingResult> {
    const ep = this.findAttachment(q.endpoint).endpoint;
    const rtt: number[] = [];
    const errors: string[] = [];
    for (let i = 0; i < q.count; i++) {
      if (i > 0 && q.intervalMs > 0) await new Promise((r) => setTimeout(r, q.intervalMs));
      try {
        rtt.push(await ep.ping(q.target, { timeoutMs: q.timeoutMs }));
      } catch (err) {
        errors.push(`${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    return { target: q.target, sent: q.count, received: rtt.length, rttMs: rtt, errors };
  }

  /** Resolves once the node process's parts are closed (`close()`, or after `leave`). */
  get closed(): Promise<void> {
    return this.closedPromise;
  }
  private resolveClosed: () => void = () => undefined;
  private readonly closedPromise = new Promise<void>((r) => (this.resolveClosed = r));

  /**
   * Stops the node process's parts: control socket, services, node (data
   * plane and store). With `liveRestore` the kernel plane's state stays
   * ({@link NodeDaemonOptions.liveRestore}). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.switching;
      await this.roleWatch?.cancel();
      await this.controlServer?.close();
      await this.security.close();
      const keep = this.state.liveRestore && this.state.dataPlane === 'kernel';
      await this.node.close({ keepDataPlane: keep });
      this.log.info('node stopped', { nodeId: this.state.id, ...(keep ? { dataPlaneKept: true } : {}) });
    })().finally(() => this.resolveClosed());
    return this.closing;
  }
}
