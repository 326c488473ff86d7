import { existsSync } from 'node:fs';
import type { SocketAddress, Store } from '@weft/interface';
import { MemoryTransportNetwork } from '@weft/raft';
import type { JoinResult } from '../cluster/join/join-client';
import type { JoinServer } from '../cluster/join/join-server';
import type { NodeCredentials } from '../cluster/pki/tls';
import type { WeftNode } from '../node/weft-node';
import { KeyLayout } from '../records/keys';
import { managerRecordSchema } from '../store/manager-registry';
import { RaftStore, type ManagerAddress } from '../store/raft-store';
import type { ControlTls } from '../store/remote/control-tls';
import { RemoteStore } from '../store/remote/remote-store';
import type { JoinTokenInfo } from './api';
import type { Logger } from './logger';
import { hostPortOf, type NodeState, type PemCredentials } from './state-file';

type Pki = typeof import('../cluster/pki');
type Join = typeof import('../cluster/join');

/** The keys every node run by `weft` uses (`WeftNode`'s default `keyPrefix`). */
export const DAEMON_KEYS = new KeyLayout('weft/');

/** @internal Options the security layer needs from the daemon's. */
export interface SecurityOptions {
  readonly nodeId?: string | undefined;
  readonly certLifetimeMs?: number | undefined;
  readonly dataDir: string;
  readonly electionTimeoutMs: number;
  readonly raftHeartbeatMs: number;
}

type Addresses = Pick<NodeState, 'advertiseAddr' | 'listenAddr' | 'ports'>;

/** A random node id: `weft init` / `weft join` without `--node-id`. */
function randomNodeId(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * @internal The node process's credentials and the cluster services built on
 * them: control-plane TLS (deny list, removed nodes), the join service on
 * managers, certificate renewal, the managers registry.
 */
export class ClusterSecurity {
  private node: WeftNode | undefined;
  private store: Store | undefined;
  private tls: ControlTls;
  private joinServer: JoinServer | undefined;
  private denyList: { has(serial: string): boolean; close(): Promise<void> | void } | undefined;
  private renewer: { stop(): void } | undefined;
  private closed = false;

  private constructor(
    private credentials: PemCredentials,
    private readonly pki: Pki,
    private readonly join: Join,
    private readonly o: SecurityOptions,
    private readonly log: Logger,
  ) {
    this.tls = this.build();
  }

  private build(): ControlTls {
    return this.pki.controlTlsFor(this.credentials, {
      removed: (id) => this.node?.isRemoved(id) ?? false,
      denied: (serial) => this.denyList?.has(serial) ?? false,
    });
  }

  private static async modules(): Promise<{ pki: Pki; join: Join }> {
    return { pki: await import('../cluster/pki'), join: await import('../cluster/join') };
  }

  /**
   * Creates the cluster: the CA, the join tokens and this first manager's
   * certificate go into the new Raft replica's storage (a one-node Raft on an
   * in-process transport that listens on nothing), which the node then opens
   * over mutual TLS with that certificate.
   */
  static async init(o: SecurityOptions, raftDir: string, a: Addresses, log: Logger): Promise<{ security: ClusterSecurity; credentials: PemCredentials; nodeId: string }> {
    const { pki, join } = await ClusterSecurity.modules();
    const nodeId = o.nodeId ?? randomNodeId('m');
    if (existsSync(raftDir)) throw new Error(`${raftDir} exists: not a new cluster`);
    const { LevelStorage } = await import('@weft/raft/level');
    const self: ManagerAddress = { id: nodeId, raft: { host: a.advertiseAddr, port: a.ports.raft }, store: { host: a.advertiseAddr, port: a.ports.store } };
    const boot = await RaftStore.open({
      id: nodeId,
      managers: [self],
      stores: await LevelStorage.open(raftDir),
      transport: new MemoryTransportNetwork().transport(nodeId),
      serve: false,
      electionTimeoutMs: Math.min(o.electionTimeoutMs, 200),
      heartbeatIntervalMs: Math.min(o.raftHeartbeatMs, 50),
    });
    let credentials: NodeCredentials;
    try {
      const r = await join.initClusterPki(boot, { clusterId: 'weft', nodeId, ...(o.certLifetimeMs !== undefined ? { certLifetimeMs: o.certLifetimeMs } : {}) });
      credentials = r.credentials;
      // The lifetime every manager's join service gives the certificates it issues and renews.
      if (o.certLifetimeMs !== undefined) await boot.put(DAEMON_KEYS.pkiSettings(), JSON.stringify({ certLifetimeMs: o.certLifetimeMs }));
    } finally {
      await boot.close();
    }
    log.info('cluster created', { nodeId, caDigest: pki.caDigestOf(credentials.caPem) });
    const creds = { caPem: credentials.caPem, certPem: credentials.certPem, keyPem: credentials.keyPem };
    return { security: new ClusterSecurity(creds, pki, join, o, log), credentials: creds, nodeId };
  }

  /**
   * Joins through a manager's join service (token + CSR → certificate). The
   * answer carries the managers registry (where every manager is); from a
   * manager that does not send it, the registry is read over mutual TLS.
   */
  static async join(
    o: SecurityOptions,
    token: string,
    manager: string,
    _a: Addresses,
    log: Logger,
    started?: Promise<JoinResult>,
  ): Promise<{ security: ClusterSecurity; credentials: PemCredentials; nodeId: string; role: 'manager' | 'worker'; managers: NodeState['managers'] }> {
    const { pki, join } = await ClusterSecurity.modules();
    const joinAddress = hostPortOf(manager);
    // With the process start time (performance.timeOrigin) in it: where a join's time goes (debug level).
    log.debug('joining', { via: manager, startedEarly: started !== undefined, sinceProcessStartMs: Math.round(performance.now()) });
    const joined = await (started ?? join.joinCluster({ token, manager: joinAddress, ...(o.nodeId !== undefined ? { nodeId: o.nodeId } : {}) }));
    const creds = { caPem: joined.credentials.caPem, certPem: joined.credentials.certPem, keyPem: joined.credentials.keyPem };
    const security = new ClusterSecurity(creds, pki, join, o, log);
    const storeAddresses = (joined.managers ?? []) as readonly SocketAddress[];
    if (storeAddresses.length === 0) throw new Error(`the join service at ${manager} named no manager store address`);
    const sent = (joined.registry ?? []).flatMap((m) => {
      const r = managerRecordSchema.safeParse(m);
      return r.success ? [r.data] : [];
    });
    const managers = sent.length > 0 ? sent : await security.readRegistry(storeAddresses);
    log.info('joined', { nodeId: joined.nodeId, role: joined.role, via: manager, managers: managers.map((m) => m.id), sinceProcessStartMs: Math.round(performance.now()) });
    return { security, credentials: creds, nodeId: joined.nodeId, role: joined.role, managers };
  }

  /** Resumes with the credentials in the data dir. */
  static async resume(credentials: PemCredentials, _state: NodeState, o: SecurityOptions, log: Logger): Promise<ClusterSecurity> {
    const { pki, join } = await ClusterSecurity.modules();
    return new ClusterSecurity(credentials, pki, join, o, log);
  }

  /** The managers registry, read through one of `storeAddresses` as this node. */
  private async readRegistry(storeAddresses: readonly SocketAddress[]): Promise<ManagerAddress[]> {
    const remote = new RemoteStore({ endpoints: [...storeAddresses], tls: this.tls, requestTimeoutMs: 10_000 });
    try {
      const r = await remote.range({ prefix: DAEMON_KEYS.managers() });
      const out: ManagerAddress[] = [];
      for (const kv of r.kvs) {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.from(kv.value).toString('utf8'));
        } catch {
          continue;
        }
        const m = managerRecordSchema.safeParse(json);
        if (m.success) out.push(m.data);
      }
      return out;
    } finally {
      await remote.close();
    }
  }

  /** Current control-plane TLS. */
  get controlTls(): ControlTls {
    return this.tls;
  }

  /** Extra `RaftStore.open` options: a fresh manager that joined starts with no bootstrap voters. */
  raftJoinOptions(fresh: boolean, joined: boolean): { join?: true } {
    return fresh && joined ? { join: true } : {};
  }

  /**
   * A manager that just joined asks to become a Raft member: it writes its
   * registry record through the other managers' store (its certificate says
   * manager), and the leader adds it (learner, then voter once caught up).
   */
  async registerManager(self: ManagerAddress, others: readonly ManagerAddress[], replica: RaftStore, timeoutMs = 30_000): Promise<void> {
    const remote = new RemoteStore({ endpoints: others.map((m) => m.store), tls: this.tls, requestTimeoutMs: 10_000 });
    try {
      await remote.put(DAEMON_KEYS.manager(self.id), JSON.stringify({ id: self.id, raft: self.raft, store: self.store }));
    } finally {
      await remote.close();
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const me = replica.managerList().find((m) => m.id === self.id);
      if (me?.voter === true) return;
      if (Date.now() > deadline) throw new Error(`manager ${self.id} was not made a Raft voter within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The node is up: its removed-node view and store feed the TLS checks; the deny list starts. */
  async attachNode(node: WeftNode, store: Store): Promise<void> {
    this.node = node;
    this.store = store;
    const list = await this.join.DenyList.open({ store, onChange: () => this.recheck() });
    this.denyList = list;
  }

  /** Re-judges every live control connection (a serial deny-listed, a node removed). */
  private recheck(): void {
    const s = this.store;
    if (s instanceof RaftStore) s.recheckPeers();
  }

  /** Managers: the join service, on the join port. Everyone: certificate renewal. */
  async startServices(store: Store, state: NodeState): Promise<void> {
    if (state.role === 'manager' && store instanceof RaftStore) {
      const lifetime = await this.clusterCertLifetime(store);
      this.joinServer = await this.join.JoinServer.listen({
        listen: { host: state.listenAddr, port: state.ports.join },
        ...(lifetime !== undefined ? { certLifetimeMs: lifetime } : {}),
        store,
        credentials: () => this.credentials,
        managers: () => store.managerList().map((m) => m.store),
        registry: () => store.managerList().map((m) => ({ id: m.id, raft: m.raft, store: m.store })),
      });
      // Published for renewals (and role changes) of every node: any manager can renew.
      await store.put(DAEMON_KEYS.joinService(state.id), JSON.stringify({ host: state.advertiseAddr, port: state.ports.join })).catch((err: unknown) => this.log.warn('join service not published', { err }));
    }
    this.renewer = this.join.CertificateRenewer.start({
      credentials: () => this.credentials,
      renew: async (creds: NodeCredentials) => this.join.renewCertificate({ managers: await this.joinServices(state), credentials: creds }),
      onRenewed: (creds: NodeCredentials) => this.renewed(creds),
      onError: (err: unknown) => this.log.warn('certificate renewal failed', { err }),
    });
  }

  /** The certificate lifetime set at `weft init` (undefined: the default, 90 days). */
  private async clusterCertLifetime(store: Store): Promise<number | undefined> {
    const kv = await store.get(DAEMON_KEYS.pkiSettings());
    if (kv === undefined) return undefined;
    try {
      const v = (JSON.parse(Buffer.from(kv.value).toString('utf8')) as { certLifetimeMs?: unknown }).certLifetimeMs;
      return typeof v === 'number' && Number.isInteger(v) && v >= 1000 ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** Renews now (a role change): the new certificate is applied as a scheduled renewal's is. */
  async renewNow(state: NodeState): Promise<void> {
    const r = await this.join.renewCertificate({ managers: await this.joinServices(state), credentials: this.credentials });
    this.renewed(r.credentials);
  }

  /** The role the current certificate names. */
  certificateRole(): 'manager' | 'worker' {
    return this.pki.parseNodeCertificate(this.credentials.certPem).role;
  }

  /** Every join service the store lists (managers publish theirs), then those this node knew. */
  private async joinServices(state: NodeState): Promise<SocketAddress[]> {
    const out = this.renewTargets(state);
    try {
      const r = await this.store!.range({ prefix: DAEMON_KEYS.joinServices() });
      for (const kv of r.kvs) {
        const a = JSON.parse(Buffer.from(kv.value).toString('utf8')) as SocketAddress;
        if (typeof a?.host === 'string' && typeof a?.port === 'number' && !out.some((x) => x.host === a.host && x.port === a.port)) out.unshift(a);
      }
    } catch {
      // the store unreachable: the join services known are all there is
    }
    return out;
  }

  /** Stops the join service, renewal and the deny list (a role change restarts them). */
  async stopServices(): Promise<void> {
    this.renewer?.stop();
    this.renewer = undefined;
    await this.joinServer?.close();
    this.joinServer = undefined;
    await this.denyList?.close();
    this.denyList = undefined;
  }

  /**
   * Why a resumed node could not start, when the cluster says so: a removed
   * node (or one whose certificate was deny-listed) has its control
   * connections refused at the TLS handshake and only sees the store as
   * unavailable; a manager's join service tells it apart. Returns
   * NodeRemovedError or CertificateRevokedError (`err` as its cause) when a
   * manager answers so, else `err` itself (no manager reachable included).
   */
  async explainStartFailure(err: unknown, state: NodeState): Promise<unknown> {
    try {
      const { checkMembership } = await import('../cluster/join/join-client');
      await checkMembership({ managers: this.renewTargets(state), credentials: this.credentials });
      return err;
    } catch (refusal) {
      const name = (refusal as { name?: unknown })?.name;
      if (name !== 'NodeRemovedError' && name !== 'CertificateRevokedError') return err;
      if (err instanceof Error && (refusal as Error).cause === undefined) Object.defineProperty(refusal, 'cause', { value: err, configurable: true, writable: true });
      this.log.error('this node is no longer a member of the cluster', { err: refusal });
      return refusal;
    }
  }

  /** Where renewal goes: every manager's join service this node knows. */
  private renewTargets(state: NodeState): SocketAddress[] {
    const out: SocketAddress[] = [];
    if (state.role === 'manager') out.push({ host: state.advertiseAddr, port: state.ports.join });
    for (const a of state.joinAddresses) if (!out.some((x) => x.host === a.host && x.port === a.port)) out.push(a);
    return out;
  }

  /** A renewed certificate: saved, and used by every following handshake. */
  private renewed(creds: NodeCredentials): void {
    if (this.closed) return;
    this.credentials = { caPem: creds.caPem, certPem: creds.certPem, keyPem: creds.keyPem };
    this.tls = this.build();
    const s = this.store;
    if (s instanceof RaftStore || s instanceof RemoteStore) s.setTls(this.tls);
    this.onRenewed?.(this.credentials);
    const id = this.pki.parseNodeCertificate(creds.certPem);
    this.log.info('certificate renewed', { serial: id.serial, notAfter: id.notAfter.toISOString() });
  }

  /** Called with every renewed certificate (the daemon writes it to the data dir). */
  onRenewed: ((creds: PemCredentials) => void) | undefined;

  /** The managers as the registry has them now (managers), or as last known (workers). */
  async knownManagers(store: Store, state: NodeState): Promise<NodeState['managers']> {
    if (store instanceof RaftStore) {
      return store.managerList().map((m) => ({ id: m.id, raft: m.raft, store: m.store }));
    }
    // A worker reads the registry through the managers (its policy lets it): the next start knows every manager.
    try {
      const r = await store.range({ prefix: DAEMON_KEYS.managers() });
      const out: NodeState['managers'] = [];
      for (const kv of r.kvs) {
        const m = managerRecordSchema.safeParse(JSON.parse(Buffer.from(kv.value).toString('utf8')));
        if (m.success) out.push(m.data);
      }
      return out.length > 0 ? out : state.managers;
    } catch (err) {
      this.log.warn('managers registry unreadable; keeping the managers known', { err });
      return state.managers;
    }
  }

  certificateInfo(): { serial: string; notAfter: Date } {
    const c = this.pki.parseNodeCertificate(this.credentials.certPem);
    return { serial: c.serial, notAfter: c.notAfter };
  }

  stats(): Record<string, unknown> {
    return this.joinServer !== undefined ? { joinServer: this.joinServer.stats } : {};
  }

  async joinToken(store: Store, role: 'manager' | 'worker', rotate: boolean, joinAddresses: readonly string[]): Promise<JoinTokenInfo> {
    const token = rotate ? await this.join.rotateJoinToken(store, role) : await this.join.joinTokenOf(store, role);
    return { role, token, managers: [...joinAddresses] };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopServices();
  }
}

