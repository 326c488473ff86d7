import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions, type SocketAddress, type Store } from '@weft/interface';
import { MemoryTransportNetwork, memoryStores, type RaftStores } from '@weft/raft';
import { MemoryNetwork, type LinkConditions } from '@weft/vxlan';
import { z } from 'zod';
import { UserspaceDataPlane, memoryUnderlayFactory, udpUnderlayFactory, type UnderlayFactory } from '../data-plane';
import type { WeftNodeOptions } from '../node/node-options';
import { WeftNode } from '../node/weft-node';
import { RaftStore, type ManagerAddress } from '../store/raft-store';
import { RemoteStore } from '../store/remote/remote-store';
import { tlsStoreConnector, type ControlTls } from '../store/remote/control-tls';
import { workerStorePolicy } from '../store/remote/store-policy';
import { KeyLayout } from '../records/keys';
import { PartitionedUnderlay } from './partitioned-underlay';

/** Node options a test may set for every node of a {@link LocalCluster}. */
export type LocalNodeSettings = Partial<
  Pick<
    WeftNodeOptions,
    | 'heartbeatIntervalMs'
    | 'orphanGraceMs'
    | 'keyRotationIntervalMs'
    | 'keyAckTimeoutMs'
    | 'keyDrainMs'
    | 'operationTimeoutMs'
    | 'onError'
    | 'defaultAddressPools'
    | 'dns'
  >
>;

/** Options of {@link LocalCluster.start}. */
export interface LocalClusterOptions {
  /** Managers (each runs a Raft replica of the store unless `store` is given). Default 3. */
  managers?: number;
  /** Workers (no replica; they use the managers' stores over TCP on loopback). Default 2. */
  workers?: number;
  /** Raft between managers: real TCP on loopback (default) or an in-process `MemoryTransportNetwork`. */
  control?: 'tcp' | 'memory';
  /** The data plane's underlay: real UDP on 127.0.0.x (default) or an in-process vxlan `MemoryNetwork`. */
  underlay?: 'udp' | 'memory';
  /** Raft storage: LevelDB with fsync in a temporary directory (default) or memory. */
  storage?: 'level' | 'memory';
  /** Seed of every simulated randomness (memory underlay and memory Raft transport). Default 1. */
  seed?: number;
  /** Loss, duplication, reordering, latency of the memory underlay. */
  link?: LinkConditions;
  /** Raft timing (ms). Defaults: election 300, heartbeat 30 — fast, for tests. */
  electionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Underlay MTU every node advertises. Default 1500. */
  underlayMtu?: number;
  /** Settings of every node. */
  node?: LocalNodeSettings;
  /**
   * Use an external store instead of Raft (etcd, a `MemoryStore`): called once
   * per node start; the node owns (closes) what it returns.
   */
  store?: () => Promise<Store>;
  /** First octet pattern of node addresses: node i gets `127.0.<subnet>.<10+i>`. Default a value from the pid, so parallel test files do not collide. */
  addressSubnet?: number;
  /**
   * Mutual TLS on every control connection (Raft and the store protocol), as
   * an authenticated cluster runs: a cluster CA is made at start and every
   * node gets a certificate for its id and role (`@weft/core/pki`), and the
   * managers' store servers give workers only what they need
   * (`workerStorePolicy`: e.g. workers cannot create networks). Needs
   * `control: 'tcp'`. Default false.
   */
  tls?: boolean;
}

const optionsSchema = z
  .object({
    managers: z.number().int().min(1).max(9).default(3),
    workers: z.number().int().min(0).max(64).default(2),
    control: z.enum(['tcp', 'memory']).default('tcp'),
    underlay: z.enum(['udp', 'memory']).default('udp'),
    storage: z.enum(['level', 'memory']).default('level'),
    seed: z.number().int().default(1),
    link: z.record(z.string(), z.number()).optional(),
    electionTimeoutMs: z.number().int().min(2).default(300),
    heartbeatIntervalMs: z.number().int().min(1).default(30),
    underlayMtu: z.number().int().min(576).max(65535).default(1500),
    node: z.record(z.string(), z.unknown()).default({}),
    store: z.custom<() => Promise<Store>>((v) => typeof v === 'function', { message: 'must be a function returning a Store' }).optional(),
    addressSubnet: z.number().int().min(0).max(255).optional(),
    tls: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.tls || o.control === 'tcp', { message: "needs control: 'tcp' (TLS is on the TCP connections)", path: ['tls'] });

type Resolved = z.output<typeof optionsSchema>;

interface Member {
  readonly id: string;
  readonly role: 'manager' | 'worker';
  readonly address: string;
  /** Raft storage kept across restarts (memory storage). */
  memoryStores?: RaftStores;
  node: WeftNode | undefined;
  raftStore: RaftStore | undefined;
  remoteStores: Set<RemoteStore>;
  /** Its control-plane TLS (when the cluster runs with `tls`). */
  tls?: ControlTls;
}

/** True when `err` (or an error in its `cause` chain) is EADDRINUSE. */
function addressInUse(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 'EADDRINUSE') return true;
    if (/EADDRINUSE/.test(String((e as { message?: unknown }).message ?? ''))) return true;
  }
  return false;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/**
 * A whole Weft cluster in one process, for testing an orchestrator (or Weft
 * itself) against real behaviour: managers with Raft replicas (LevelDB or
 * memory), workers reaching them over TCP on loopback, userspace data planes
 * on distinct 127.0.x.y addresses (real UDP) or on a seeded in-process
 * underlay with loss, duplication, reordering and latency. Faults: `partition`
 * (data plane, Raft and store connections between groups of nodes), `heal`,
 * `crash` (a node stops without leaving) and `restart` (from its storage).
 */
export class LocalCluster {
  private readonly members = new Map<string, Member>();
  private readonly managerAddresses: ManagerAddress[] = [];
  private readonly dir: string | undefined;
  private readonly raftNetwork: MemoryTransportNetwork | undefined;
  /** The in-process underlay network (when `underlay: 'memory'`), for link conditions and counters. */
  readonly underlayNetwork: MemoryNetwork | undefined;
  /** Partition groups of the data plane and of store connections (undefined: no partition). */
  private dataGroups: Map<string, number> | undefined;
  private controlGroups: Map<string, number> | undefined;
  private closed = false;

  private constructor(private readonly o: Resolved) {
    this.dir = o.storage === 'level' && o.store === undefined ? mkdtempSync(join(tmpdir(), 'weft-local-cluster-')) : undefined;
    this.raftNetwork = o.control === 'memory' ? new MemoryTransportNetwork({ seed: o.seed }) : undefined;
    this.underlayNetwork = o.underlay === 'memory' ? new MemoryNetwork({ seed: o.seed, ...(o.link as LinkConditions | undefined) }) : undefined;
  }

  /**
   * Starts every manager (in parallel, so Raft elects a leader), then every
   * worker. Manager ids are `m1…`, worker ids `w1…`.
   * @throws InvalidOptionsError naming the bad option.
   */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const o = parseOptions(optionsSchema, options, 'LocalCluster');
    const c = new LocalCluster(o);
    try {
      await c.init();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  private async init(): Promise<void> {
    const subnet = this.o.addressSubnet ?? (process.pid % 200) + 20;
    let host = 10;
    for (let i = 1; i <= this.o.managers; i++) {
      const id = `m${i}`;
      this.members.set(id, { id, role: 'manager', address: `127.0.${subnet}.${host++}`, node: undefined, raftStore: undefined, remoteStores: new Set() });
      if (this.o.store === undefined) {
        this.managerAddresses.push({
          id,
          raft: { host: '127.0.0.1', port: this.o.control === 'tcp' ? await freePort() : 0 },
          store: { host: '127.0.0.1', port: await freePort() },
        });
      }
    }
    for (let i = 1; i <= this.o.workers; i++) {
      const id = `w${i}`;
      this.members.set(id, { id, role: 'worker', address: `127.0.${subnet}.${host++}`, node: undefined, raftStore: undefined, remoteStores: new Set() });
    }
    if (this.o.tls) await this.issueCertificates();
    await this.startManagers();
    for (const id of this.workerIds) await this.startMember(id);
  }

  /** Makes the cluster CA and gives every member a certificate for its id and role (the PKI is loaded only here). */
  private async issueCertificates(): Promise<void> {
    const pki = await import('../cluster/pki');
    const ca = await pki.ClusterCa.create({ clusterId: 'local-cluster' });
    for (const m of this.members.values()) {
      const keys = await pki.generateNodeKey();
      const certPem = await ca.issue({ csrPem: await pki.createCsr(m.id, keys), nodeId: m.id, role: m.role });
      // A node removed from the cluster (as any running node's view has seen it) is refused.
      const removed = (nodeId: string): boolean => [...this.members.values()].some((x) => x.node?.isRemoved(nodeId) === true);
      m.tls = pki.controlTlsFor({ caPem: ca.certificatePem, certPem, keyPem: await pki.exportNodeKeyPem(keys) }, { removed });
    }
  }

  /**
   * Starts every manager in parallel. The Raft and store ports are picked
   * free before the managers start (each must know the others' addresses), so
   * another process can take one in between: on EADDRINUSE every manager
   * started is closed, its fresh storage wiped, new ports are picked and the
   * start is tried again (at most 5 times).
   */
  private async startManagers(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const started = await Promise.allSettled(this.managerIds.map((id) => this.startMember(id)));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed === undefined) return;
      if (attempt >= 5 || this.o.store !== undefined || !addressInUse(failed.reason)) {
        await this.stopManagersForRetry();
        throw failed.reason;
      }
      await this.stopManagersForRetry();
      for (let i = 0; i < this.managerAddresses.length; i++) {
        const a = this.managerAddresses[i]!;
        this.managerAddresses[i] = {
          id: a.id,
          raft: { host: '127.0.0.1', port: this.o.control === 'tcp' ? await freePort() : 0 },
          store: { host: '127.0.0.1', port: await freePort() },
        };
      }
    }
  }

  /** Closes the managers a failed start left running and forgets their (fresh) storage. */
  private async stopManagersForRetry(): Promise<void> {
    await Promise.allSettled(
      this.managerIds.map(async (id) => {
        const m = this.members.get(id)!;
        const node = m.node;
        m.node = undefined;
        m.raftStore = undefined;
        m.memoryStores = undefined;
        await node?.close();
        if (this.dir !== undefined) rmSync(join(this.dir, id), { recursive: true, force: true });
      }),
    );
  }

  /** Ids of the managers. */
  get managerIds(): string[] {
    return [...this.members.values()].filter((m) => m.role === 'manager').map((m) => m.id);
  }

  /** Ids of the workers. */
  get workerIds(): string[] {
    return [...this.members.values()].filter((m) => m.role === 'worker').map((m) => m.id);
  }

  /** Every running node, by id. */
  get nodes(): ReadonlyMap<string, WeftNode> {
    const out = new Map<string, WeftNode>();
    for (const m of this.members.values()) if (m.node !== undefined) out.set(m.id, m.node);
    return out;
  }

  /** A running node. @throws Error when it is not running. */
  node(id: string): WeftNode {
    const n = this.members.get(id)?.node;
    if (n === undefined) throw new Error(`LocalCluster: node ${id} is not running`);
    return n;
  }

  /** The underlay address of a node. */
  addressOf(id: string): string {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`LocalCluster: no node ${id}`);
    return m.address;
  }

  /** The id of the Raft leader among running managers, if one is known. */
  raftLeader(): string | undefined {
    for (const m of this.members.values()) if (m.raftStore?.isLeader) return m.id;
    return undefined;
  }

  /** Waits (bounded) for a Raft leader. */
  async awaitRaftLeader(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = this.raftLeader();
      if (l !== undefined) return l;
      if (Date.now() > deadline) throw new Error('LocalCluster: no Raft leader');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The Raft replica of a running manager. */
  raftStoreOf(id: string): RaftStore | undefined {
    return this.members.get(id)?.raftStore;
  }

  private isCut(fromHost: string, toHost: string): boolean {
    const g = this.dataGroups;
    if (g === undefined) return false;
    const ga = g.get(this.idOfAddress(fromHost) ?? '');
    const gb = g.get(this.idOfAddress(toHost) ?? '');
    return ga !== undefined && gb !== undefined && ga !== gb;
  }

  private controlCut(a: string, b: string): boolean {
    const g = this.controlGroups;
    if (g === undefined) return false;
    const ga = g.get(a);
    const gb = g.get(b);
    return ga !== undefined && gb !== undefined && ga !== gb;
  }

  private idOfAddress(host: string): string | undefined {
    for (const m of this.members.values()) if (m.address === host) return m.id;
    return undefined;
  }

  private underlayFactory(): UnderlayFactory {
    const base = this.underlayNetwork ? memoryUnderlayFactory(this.underlayNetwork) : udpUnderlayFactory();
    return async (address: SocketAddress) => new PartitionedUnderlay(await base(address), (a, b) => this.isCut(a, b));
  }

  /** A node's control-plane TLS (clusters started with `tls`), e.g. to dial a manager as that node in a test. */
  controlTlsOf(id: string): ControlTls | undefined {
    return this.members.get(id)?.tls;
  }

  private connectStore(member: Member): (address: SocketAddress) => Socket {
    return (address) => {
      const manager = this.managerAddresses.find((m) => m.store.port === address.port);
      if (manager !== undefined && this.controlCut(member.id, manager.id)) {
        const s = new Socket();
        setImmediate(() => s.destroy(new Error('partitioned')));
        return s;
      }
      if (member.tls !== undefined) return tlsStoreConnector(() => member.tls!)(address);
      return netConnect({ host: address.host, port: address.port });
    };
  }

  private async startMember(id: string): Promise<WeftNode> {
    const m = this.members.get(id)!;
    let store: Store;
    if (this.o.store !== undefined) {
      store = await this.o.store();
    } else if (m.role === 'manager') {
      let stores: RaftStores;
      if (this.dir !== undefined) {
        const { LevelStorage } = await import('@weft/raft/level');
        stores = await LevelStorage.open(join(this.dir, id));
      } else {
        m.memoryStores ??= memoryStores();
        stores = m.memoryStores;
      }
      let raftStore: RaftStore;
      try {
        raftStore = await RaftStore.open({
          id,
          managers: this.managerAddresses,
          stores,
          electionTimeoutMs: this.o.electionTimeoutMs,
          heartbeatIntervalMs: this.o.heartbeatIntervalMs,
          requestTimeoutMs: 5000,
          ...(this.raftNetwork ? { transport: this.raftNetwork.transport(id) } : {}),
          ...(m.tls !== undefined ? { tls: m.tls, authorize: workerStorePolicy(new KeyLayout((this.o.node as { keyPrefix?: string }).keyPrefix ?? 'weft/')) } : {}),
        });
      } catch (err) {
        // The store never started, so it did not take over the storage: release it (LevelDB's lock) here.
        if (this.dir !== undefined) await stores.close?.().catch(() => undefined);
        throw err;
      }
      m.raftStore = raftStore;
      store = raftStore;
    } else {
      const remote = new RemoteStore({ endpoints: this.managerAddresses.map((x) => x.store), connect: this.connectStore(m), requestTimeoutMs: 5000, reconnectMs: 20 });
      m.remoteStores.add(remote);
      store = remote;
    }
    const dataPlane = await UserspaceDataPlane.open({
      nodeId: id,
      address: m.address,
      vxlanPort: 0,
      encryptedPort: 0,
      underlayMtu: this.o.underlayMtu,
      underlay: this.underlayFactory(),
    });
    try {
      m.node = await WeftNode.start({
        id,
        role: m.role,
        store,
        dataPlane,
        heartbeatIntervalMs: 200,
        operationTimeoutMs: 20_000,
        ...(this.o.node as LocalNodeSettings),
      });
    } catch (err) {
      await dataPlane.close();
      await store.close();
      m.raftStore = undefined;
      throw err;
    }
    return m.node;
  }

  /**
   * Stops a node the way a crash does: no detach, no goodbye; its records
   * stay in the store, its Raft replica (if a manager) stops voting, its data
   * plane stops forwarding. Its storage stays for {@link restart}.
   */
  async crash(id: string): Promise<void> {
    const m = this.members.get(id);
    if (m?.node === undefined) return;
    const node = m.node;
    m.node = undefined;
    m.raftStore = undefined;
    m.remoteStores.clear();
    await node.close();
  }

  /** Starts a crashed node again with the same id, address and storage. */
  async restart(id: string): Promise<WeftNode> {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`LocalCluster: no node ${id}`);
    if (m.node !== undefined) return m.node;
    return this.startMember(id);
  }

  /**
   * Splits the nodes into groups that cannot reach each other: data-plane
   * datagrams between groups are dropped, workers cannot reach the store of
   * a manager in another group, and (with `control: 'memory'`) Raft messages
   * between groups are dropped. Nodes in no group reach everyone.
   */
  partition(...groups: string[][]): void {
    const g = new Map<string, number>();
    groups.forEach((ids, i) => ids.forEach((id) => g.set(id, i)));
    this.dataGroups = g;
    this.controlGroups = g;
    this.raftNetwork?.partition(...groups.map((ids) => ids.filter((id) => this.members.get(id)?.role === 'manager')));
    this.dropCutConnections();
  }

  /**
   * Cuts one node off from the control plane only — its store connections
   * (and, with `control: 'memory'`, its Raft messages) — while its data plane
   * keeps forwarding, as when a node loses the managers but not its peers.
   */
  isolateControl(id: string): void {
    const g = new Map<string, number>([[id, 1]]);
    for (const other of this.members.keys()) if (other !== id) g.set(other, 0);
    this.controlGroups = g;
    if (this.members.get(id)?.role === 'manager') this.raftNetwork?.isolate(id);
    this.dropCutConnections();
  }

  private dropCutConnections(): void {
    for (const m of this.members.values()) {
      for (const r of m.remoteStores) {
        const at = r.connectedTo;
        const manager = at === undefined ? undefined : this.managerAddresses.find((x) => x.store.port === at.port);
        if (manager !== undefined && this.controlCut(m.id, manager.id)) r.dropConnection();
      }
    }
  }

  /** Removes every partition and isolation. */
  heal(): void {
    this.dataGroups = undefined;
    this.controlGroups = undefined;
    this.raftNetwork?.heal();
  }

  /** Stops every node and removes temporary storage. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.workerIds, ...this.managerIds]) await this.crash(id);
    await this.raftNetwork?.close();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
