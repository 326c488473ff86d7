import {
  InvalidOptionsError,
  QuorumLostError,
  StoreClosedError,
  StoreUnavailableError,
  isWeftError,
  kv as ops,
  parseOptions,
  type DeleteResult,
  type KeySelector,
  type KeyValue,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type ReadOptions,
  type SocketAddress,
  type Store,
  type StoreWatch,
  type TxnInput,
  type TxnResult,
  type ValueInput,
  type WatchListener,
  type WatchOptions,
} from '@weft/interface';
import { KvStore, RaftKv, RaftNode, TcpTransport, memoryStores, type Message, type MessageHandler, type RaftStores, type Transport } from '@weft/raft';
import { z } from 'zod';
import { ManagerRemovalRefusedError, OperationTimeoutError } from '../errors';
import { ManagerRegistry, managerRecordSchema, type AddManagerOptions, type ManagerInfo, type RegistryStats, type RemoveManagerOptions } from './manager-registry';
import { controlTlsSchema, raftTlsOf, type ControlTls } from './remote/control-tls';
import { RemoteStore } from './remote/remote-store';
import type { StoreAuthorizer } from './remote/store-policy';
import { StoreServer } from './remote/store-server';

/** A manager of the cluster: its Raft address and the address its store is served on. */
export interface ManagerAddress {
  readonly id: string;
  /** Where its Raft transport listens. */
  readonly raft: SocketAddress;
  /** Where its `StoreServer` listens (workers and follower managers connect here). */
  readonly store: SocketAddress;
}

/** Options of {@link RaftStore.open}. */
export interface RaftStoreOptions {
  /** This manager's id. */
  readonly id: string;
  /**
   * Every manager of a new cluster, this one included: the Raft bootstrap
   * voters (ignored once storage holds state, or with `join`). Until the
   * managers registry (see {@link RaftStoreOptions.registryPrefix}) is seeded
   * and replicated here, also where the other managers' Raft and store
   * addresses are taken from; afterwards the registry is.
   */
  readonly managers: readonly ManagerAddress[];
  /**
   * This manager joins a running cluster: with empty storage, Raft starts with
   * no bootstrap voters and waits until a manager of the cluster adds it
   * ({@link RaftStore.addManager}); `managers` then lists the existing
   * managers it knows (and itself). Ignored when storage holds state (a
   * restart recovers as usual). Default false.
   */
  readonly join?: boolean;
  /**
   * Key prefix of the managers registry in the replicated store, ending in
   * `/` (default `weft/managers/`, which is `KeyLayout.managers()` under the
   * default root): `<prefix><id>` → `{ id, raft, store }` per manager, the
   * desired Raft membership. The key `<prefix>` itself holds the leader's view of reachable managers.
   */
  readonly registryPrefix?: string;
  /**
   * Durable Raft storage: a LevelDB directory opened with `@weft/raft/level`'s
   * `LevelStorage.open(dir)` (fsync on), or any `RaftStores`. Default: in memory (state is lost when the process ends).
   */
  readonly stores?: RaftStores;
  /** Raft transport override (default: a `TcpTransport` listening on this manager's `raft` address). */
  readonly transport?: Transport;
  /** Minimum election timeout, ms (default 1000). */
  readonly electionTimeoutMs?: number;
  /** Leader heartbeat interval, ms (default 100). */
  readonly heartbeatIntervalMs?: number;
  /** A request that cannot be served within this time rejects with StoreUnavailableError, ms (default 10000). */
  readonly requestTimeoutMs?: number;
  /** Events the local replica keeps for watches from an older revision (default 10,000). */
  readonly historyLimit?: number;
  /** Serve the store on this manager's `store` address (default true). */
  readonly serve?: boolean;
  /**
   * Mutual TLS on Raft (managers only: a worker certificate is refused) and on
   * the store server and the connections that forward writes to the leader
   * (see `ControlTls`; `@weft/core/pki`'s `controlTlsFor` builds it). Default: plain TCP.
   */
  readonly tls?: ControlTls;
  /** Judges every request the store server receives by the node making it (see `workerStorePolicy`). Default: all served. */
  readonly authorize?: StoreAuthorizer;
}

const address = z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) });
const optionsSchema = z.object({
  id: z.string().min(1),
  managers: z.array(z.object({ id: z.string().min(1), raft: address, store: address })).min(1),
  join: z.boolean().default(false),
  registryPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_./-]*\/$/, 'must be letters, digits, "_", ".", "-" or "/" ending in "/"')
    .default('weft/managers/'),
  stores: z.custom<RaftStores>((v) => typeof v === 'object' && v !== null && 'log' in v && 'stable' in v, { message: 'must be RaftStores' }).optional(),
  transport: z.custom<Transport>((v) => typeof v === 'object' && v !== null && typeof (v as Transport).send === 'function', { message: 'must be a Transport' }).optional(),
  electionTimeoutMs: z.number().int().min(2).default(1000),
  heartbeatIntervalMs: z.number().int().min(1).default(100),
  requestTimeoutMs: z.number().int().min(1).default(10_000),
  historyLimit: z.number().int().min(1).default(10_000),
  serve: z.boolean().default(true),
  tls: controlTlsSchema.optional(),
  authorize: z.custom<StoreAuthorizer>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
});

const membershipOptionsSchema = z.object({
  id: z.string().min(1).regex(/^[^/]+$/, 'must not contain "/"').optional(),
  force: z.boolean().default(false),
  timeoutMs: z.number().int().min(1).optional(),
});

/** Counters of a {@link RaftStore}. */
export interface RaftStoreStats {
  /** Writes proposed on this replica as leader. */
  proposed: number;
  /** Writes forwarded to the leader's store server. */
  forwarded: number;
  /** Attempts retried because there was no leader, or it changed. */
  retries: number;
  /** Campaigns started to learn which managers are alive while a request waited with the leader silent or gone. */
  probes: number;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A transport that notes when each peer was last heard from (any Raft message), for the quorum check. */
class HearingTransport implements Transport {
  readonly heard = new Map<string, number>();
  constructor(private readonly inner: Transport) {}
  get localId(): string {
    return this.inner.localId;
  }
  send(messages: readonly Message[]): void {
    this.inner.send(messages);
  }
  onMessage(handler: MessageHandler): void {
    this.inner.onMessage((m) => {
      this.heard.set(m.from, performance.now());
      handler(m);
    });
  }
  onUnreachable(handler: (peer: string) => void): void {
    this.inner.onUnreachable?.(handler);
  }
  addressOf(peer: string): SocketAddress | undefined {
    return this.inner.addressOf?.(peer);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The embedded store of a manager: a Raft replica of the cluster's KV state
 * (`@weft/raft`'s `RaftNode` + `KvStore`), durable in LevelDB, serving the
 * `Store` contract. Writes proposed here when this manager leads, otherwise
 * forwarded to the leader's store server; `NotLeaderError` (nothing appended)
 * and lost proposals are retried internally until `requestTimeoutMs`.
 * Reads are linearizable on any manager (ReadIndex). Watches are served by
 * the local replica. The store is also served to workers over the network
 * (`StoreServer`), which `RemoteStore` connects to.
 *
 * Membership is dynamic: a managers registry in the store is the desired
 * Raft membership, which the leader reconciles (see `addManager`,
 * `removeManager`, `managerList`, and the `join` option).
 */
export class RaftStore implements Store {
  readonly stats: RaftStoreStats = { proposed: 0, forwarded: 0, retries: 0, probes: 0 };
  private readonly forwarders = new Map<string, { readonly remote: RemoteStore; readonly address: SocketAddress }>();
  /** Set at the end of open (requests the store server takes before that wait: no leader address is known yet). */
  private registry: ManagerRegistry | undefined;
  private self!: ManagerAddress;
  private removedAt: number | undefined;
  private serverClosing: Promise<void> | undefined;

  /** The registry (always set once `open` resolved, which is before a caller holds this store). */
  private get reg(): ManagerRegistry {
    if (this.registry === undefined) throw new StoreClosedError(`raft store ${this.id} is still opening`);
    return this.registry;
  }
  private registryPrefixValue = 'weft/managers/';
  private bootList: ManagerAddress[] = [];
  private closed = false;
  private server: StoreServer | undefined;
  private tls: ControlTls | undefined;
  private hearing: HearingTransport | undefined;
  private transport: Transport | undefined;
  /** A peer heard from within this window counts as reachable (2 election timeouts + 3 heartbeats: every election starts within 2 timeouts). */
  private quorumWindowMs = Infinity;
  /**
   * The window while this replica leads, and for as long again after it stopped (check-quorum): every live follower
   * answers a leader each heartbeat, so a majority not heard within one election timeout is gone.
   */
  private leaderWindowMs = Infinity;
  private leading = false;
  private stoppedLeadingAt: number | undefined;
  /** A follower's leader counts as alive while heard within this (election timeout + 2 heartbeats: its lease has run out at the other followers too). */
  private leaderSilenceMs = Infinity;
  /** How long after a probe (a campaign) a follower waits for the live managers' answers before judging. */
  private probeWaitMs = Infinity;
  /** The last leader this replica knew (it may be the one that died). */
  private lastLeader: string | null = null;
  /** When this replica, its leader silent or gone, first probed the managers (cleared once a leader is heard again). */
  private probedAt: number | undefined;
  /** When it last (re)sent the probe. */
  private probeSentAt: number | undefined;
  private electionMs = Infinity;
  private checkEveryMs = 100;
  private readonly openedAt = performance.now();
  /** A leader was known since this replica opened: only then can it tell a lost quorum from managers still starting. */
  private sawLeader = false;

  private constructor(
    /** This manager's id. */
    readonly id: string,
    /** The Raft node (status, leadership, membership). */
    readonly node: RaftNode,
    private readonly kv: RaftKv,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Starts this manager's replica (recovering from `stores` if they hold
   * state) and its store server.
   * @throws InvalidOptionsError naming the bad option.
   */
  static async open(options: RaftStoreOptions): Promise<RaftStore> {
    const o = parseOptions(optionsSchema, options, 'RaftStore');
    const me = o.managers.find((m) => m.id === o.id);
    if (me === undefined) {
      throw new InvalidOptionsError('managers', `RaftStore: option "managers" must include this manager ${JSON.stringify(o.id)}`);
    }
    const stores = options.stores ?? memoryStores();
    const transport =
      options.transport ??
      (await TcpTransport.listen({
        id: o.id,
        host: me.raft.host,
        port: me.raft.port,
        peers: Object.fromEntries(o.managers.filter((m) => m.id !== o.id).map((m) => [m.id, m.raft])),
        ...(options.tls !== undefined ? { tls: raftTlsOf(options.tls) } : {}),
      }));
    const store = new KvStore({ historyLimit: o.historyLimit });
    const hearing = new HearingTransport(transport);
    const node = await RaftNode.create({
      id: o.id,
      // A joining manager has no bootstrap voters: it waits for the leader to add it (ignored when storage holds state).
      ...(o.join ? {} : { peers: o.managers.map((m) => m.id) }),
      stateMachine: store,
      transport: hearing,
      stores,
      electionTimeoutMs: o.electionTimeoutMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      requestTimeoutMs: o.requestTimeoutMs,
    });
    node.start();
    const kv = new RaftKv(node, store);
    const raftStore = new RaftStore(o.id, node, kv, o.requestTimeoutMs);
    raftStore.tls = options.tls;
    raftStore.hearing = hearing;
    node.on('leader-change', (leader) => {
      if (leader !== null) {
        raftStore.sawLeader = true;
        raftStore.lastLeader = leader;
      }
      if (leader !== o.id && raftStore.leading) raftStore.stoppedLeadingAt = performance.now();
      raftStore.leading = leader === o.id;
    });
    raftStore.leading = node.isLeader;
    if (node.leader !== null) {
      raftStore.sawLeader = true;
      raftStore.lastLeader = node.leader;
    }
    raftStore.transport = transport;
    raftStore.quorumWindowMs = 2 * o.electionTimeoutMs + 3 * o.heartbeatIntervalMs;
    raftStore.leaderWindowMs = o.electionTimeoutMs;
    raftStore.leaderSilenceMs = o.electionTimeoutMs + 2 * o.heartbeatIntervalMs;
    raftStore.probeWaitMs = 3 * o.heartbeatIntervalMs;
    raftStore.electionMs = o.electionTimeoutMs;
    raftStore.checkEveryMs = o.heartbeatIntervalMs;
    raftStore.registryPrefixValue = o.registryPrefix;
    if (o.serve) {
      raftStore.server = await StoreServer.listen({
        store: raftStore,
        listen: me.store,
        ...(options.tls !== undefined ? { tls: options.tls } : {}),
        ...(options.authorize !== undefined ? { authorize: options.authorize } : {}),
      });
    }
    // This manager as the registry records it: a port 0 asked for is the port picked.
    const raftPort = me.raft.port === 0 && transport instanceof TcpTransport ? transport.address.port : me.raft.port;
    const storePort = me.store.port === 0 && raftStore.server !== undefined ? raftStore.server.address.port : me.store.port;
    raftStore.self = { id: o.id, raft: { host: me.raft.host, port: raftPort }, store: { host: me.store.host, port: storePort } };
    raftStore.bootList = o.managers.map((m) => (m.id === o.id ? raftStore.self : m));
    raftStore.registry = new ManagerRegistry({
      id: o.id,
      prefix: o.registryPrefix,
      node,
      local: store,
      transport,
      heard: hearing.heard,
      windowMs: raftStore.quorumWindowMs,
      tickMs: o.heartbeatIntervalMs,
      initial: raftStore.bootList,
      write: (request) => raftStore.write(request),
      onRemoved: () => raftStore.removedFromCluster(),
    });
    raftStore.registry.start();
    return raftStore;
  }

  /**
   * Uses renewed credentials from now on: the Raft transport, the store
   * server and the connections that forward writes to the leader present
   * (and check peers with) `tls` at their next handshakes; live connections
   * stay up. Throws when the store was opened without TLS.
   * @throws InvalidOptionsError when this store has no TLS or `tls` is malformed.
   */
  setTls(tls: ControlTls): void {
    if (this.tls === undefined) throw new InvalidOptionsError('tls', `RaftStore.setTls: raft store ${this.id} was opened without TLS`);
    const parsed = parseOptions(z.object({ tls: controlTlsSchema }), { tls }, 'RaftStore.setTls').tls as ControlTls;
    this.tls = parsed;
    if (this.transport instanceof TcpTransport) this.transport.setTls(raftTlsOf(parsed));
    this.server?.setTls(parsed);
    for (const f of this.forwarders.values()) f.remote.setTls(parsed);
  }

  /**
   * Re-judges every live control connection of this manager (Raft and the
   * store server) with its TLS `identify`, closing those refused now (a node
   * removed, a certificate deny-listed or expired). Returns how many. No-op without TLS.
   */
  recheckPeers(): number {
    const raft = this.transport instanceof TcpTransport ? this.transport.recheckPeers() : 0;
    return raft + (this.server?.recheckPeers() ?? 0);
  }

  /** The server of this store (its counters, the peers connected), if served. */
  get storeServer(): StoreServer | undefined {
    return this.server;
  }

  /**
   * This manager as the registry records it (and as {@link RaftStore.addManager} on another manager wants it):
   * its id, Raft and store addresses, with the ports picked when 0 was asked.
   */
  get managerAddress(): ManagerAddress {
    return { id: this.self.id, raft: { ...this.self.raft }, store: { ...this.self.store } };
  }

  /** The address the store is served on (with the port picked when 0 was asked), if served. */
  get serverAddress(): SocketAddress | undefined {
    return this.server?.address;
  }

  /** The Raft term this replica is in. */
  get term(): number {
    return this.node.status().term;
  }

  /** True while this replica is the Raft leader. */
  get isLeader(): boolean {
    return this.node.isLeader;
  }

  private check(): void {
    if (this.closed) throw new StoreClosedError(`raft store ${this.id} is closed`);
  }

  /**
   * True when this replica can tell that no quorum exists now. Never before
   * it has known a leader since it opened (the other managers may still be
   * starting: a request then waits for its timeout instead) nor within a
   * window (2 election timeouts + 3 heartbeats) of opening.
   *
   * A leader (and a replica that led until less than an election timeout
   * ago) judges from its followers, who answer it every heartbeat: a
   * majority not heard within one election timeout is lost — what
   * check-quorum concludes, without waiting for its step-down.
   *
   * A follower does not hear the other followers while a leader leads, so it
   * asks: once its leader has been silent for an election timeout and two
   * heartbeats (so the other followers' leader lease has run out too) or is
   * gone, and a request is waiting, it campaigns ({@link probe}: a pre-vote
   * round, which changes no term unless it can win) and every live manager
   * answers. Three heartbeats after that probe it judges: reachable are
   * itself, the managers heard since the probe, and those heard within the
   * window above (the last leader only within its silence). A quorum lost
   * under a follower is thus judged within about an election timeout and
   * six heartbeats of the crash; a leader that only failed over leaves a
   * live majority that answers the probe, so it is never judged lost.
   */
  quorumLost(): boolean {
    if (this.hearing === undefined || !this.sawLeader) return false;
    const now = performance.now();
    if (now - this.openedAt < this.quorumWindowMs) return false;
    const voters = this.node.status().confState.voters;
    // Not a voter (yet, or any more: a removed or demoted manager): nothing to judge, requests are forwarded.
    if (!voters.includes(this.id)) return false;
    const majority = Math.floor(voters.length / 2) + 1;
    const heard = this.hearing.heard;
    const led = this.leading || (this.stoppedLeadingAt !== undefined && now - this.stoppedLeadingAt <= this.leaderWindowMs);
    if (led) {
      let reachable = 0;
      for (const id of voters) {
        const h = heard.get(id);
        if (id === this.id || (h !== undefined && now - h <= this.leaderWindowMs)) reachable++;
      }
      return reachable < majority;
    }
    if (this.leaderAlive(now)) return false;
    const probed = this.probedAt;
    if (probed === undefined || now - probed < this.probeWaitMs) return false;
    let reachable = 0;
    for (const id of voters) {
      const h = heard.get(id);
      if (id === this.id) reachable++;
      else if (h !== undefined && (h >= probed || (id !== this.lastLeader && now - h <= this.quorumWindowMs))) reachable++;
    }
    return reachable < majority;
  }

  /** A follower's leader is known and was heard within its silence window. */
  private leaderAlive(now: number): boolean {
    const leader = this.node.leader;
    if (leader === null || leader === this.id) return false;
    const h = this.hearing?.heard.get(leader);
    return h !== undefined && now - h <= this.leaderSilenceMs;
  }

  /**
   * While a request waits at a follower whose leader is silent or gone: asks
   * every manager by campaigning (see {@link quorumLost}), again every
   * election timeout while no leader answers. Forgets the probe once a
   * leader is heard again.
   */
  private probe(): void {
    if (this.hearing === undefined || !this.sawLeader || this.closed || this.leading) return;
    if (!this.node.status().confState.voters.includes(this.id)) return; // a non-voter cannot campaign
    const now = performance.now();
    if (this.leaderAlive(now)) {
      this.probedAt = undefined;
      this.probeSentAt = undefined;
      return;
    }
    if (this.probeSentAt !== undefined && now - this.probeSentAt < this.electionMs) return;
    this.probedAt ??= now;
    this.probeSentAt = now;
    this.stats.probes += 1;
    this.node.campaign();
  }

  /**
   * @internal How long after managers die a waiting request may take to be
   * refused, as this replica judges now (ms): a leader's window (one election
   * timeout); a follower's leader silence, its probe's wait and a check
   * (election timeout + 6 heartbeats).
   */
  get quorumLossWindowMs(): number {
    const now = performance.now();
    return this.leading || (this.stoppedLeadingAt !== undefined && now - this.stoppedLeadingAt <= this.leaderWindowMs)
      ? this.leaderWindowMs
      : this.leaderSilenceMs + this.probeWaitMs + this.checkEveryMs;
  }

  /**
   * `pending`, or QuorumLostError as soon as {@link RaftStore.quorumLost}
   * turns true while it waits (a proposal at a leader that lost its quorum
   * would otherwise wait for the request timeout). Checked every heartbeat.
   */
  private unlessQuorumLost<T>(pending: Promise<T>, write: boolean): Promise<T> {
    if (this.hearing === undefined) return pending;
    return new Promise<T>((resolve, reject) => {
      const timer = setInterval(() => {
        this.probe();
        if (!this.quorumLost()) return;
        clearInterval(timer);
        reject(new QuorumLostError(`raft store ${this.id}: no quorum of the ${this.voterCount()} managers is reachable`, write));
      }, this.checkEveryMs);
      timer.unref?.();
      pending.then(
        (v) => {
          clearInterval(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearInterval(timer);
          reject(e);
        },
      );
    });
  }

  /**
   * Runs `attempt` until it succeeds or the deadline: NotLeaderError (nothing
   * appended) and lost proposals are retried; a timeout of a write whose
   * proposal may have been appended is reported as outcome unknown.
   */
  private async withRetry<T>(what: string, write: boolean, attempt: () => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.timeoutMs;
    let maybeApplied = false;
    for (let i = 0; ; i++) {
      this.check();
      if (this.removedAt !== undefined) throw new StoreUnavailableError(`raft store ${this.id}: this manager was removed from the cluster's managers`, write && maybeApplied);
      try {
        return await this.unlessQuorumLost(attempt(), write);
      } catch (err) {
        if (err instanceof QuorumLostError) throw err;
        if (isWeftError(err, 'ERR_RAFT_NOT_LEADER') || isWeftError(err, 'ERR_RAFT_PROPOSAL_LOST')) {
          // Nothing was (or will be) committed by this attempt.
        } else if (isWeftError(err, 'StoreUnavailableError')) {
          if ((err as StoreUnavailableError).outcomeUnknown) maybeApplied = true;
        } else if (isWeftError(err, 'ERR_RAFT_REQUEST_TIMEOUT')) {
          if (write) maybeApplied = true;
        } else if (isWeftError(err, 'ERR_RAFT_NODE_CLOSED') || isWeftError(err, 'ERR_RAFT_NODE_FAILED')) {
          throw new StoreUnavailableError(`raft store ${this.id}: ${(err as Error).message}`, write, { cause: err });
        } else {
          throw err;
        }
        this.probe();
        if (this.quorumLost()) {
          throw new QuorumLostError(`raft store ${this.id}: no quorum of the ${this.voterCount()} managers is reachable (${(err as Error).message})`, write && maybeApplied, {
            cause: err,
          });
        }
        if (performance.now() > deadline) {
          throw new StoreUnavailableError(`raft store ${this.id}: ${what} not served within ${this.timeoutMs} ms (${(err as Error).message})`, write && maybeApplied, {
            cause: err,
          });
        }
        this.stats.retries += 1;
        await pause(Math.min(100, 5 * 2 ** Math.min(i, 5)));
      }
    }
  }

  private voterCount(): number {
    return this.node.status().confState.voters.length;
  }

  /** The leader's store, reached over the network (cached per leader; replaced when the registry moves its address). */
  private forwarder(leaderId: string): RemoteStore | undefined {
    const m = this.registry?.addressOf(leaderId);
    if (m === undefined) return undefined;
    const f = this.forwarders.get(leaderId);
    if (f !== undefined && f.address.host === m.store.host && f.address.port === m.store.port) return f.remote;
    if (f !== undefined) void f.remote.close().catch(() => undefined);
    const remote = new RemoteStore({
      endpoints: [m.store],
      requestTimeoutMs: Math.max(1000, Math.floor(this.timeoutMs / 2)),
      ...(this.tls !== undefined ? { tls: this.tls } : {}),
    });
    this.forwarders.set(leaderId, { remote, address: m.store });
    return remote;
  }

  private async write(request: TxnInput): Promise<TxnResult> {
    return this.withRetry('write', true, async () => {
      if (this.node.isLeader) {
        this.stats.proposed += 1;
        return this.kv.txn(request);
      }
      const leader = this.node.leader;
      const f = leader === null || leader === this.id ? undefined : this.forwarder(leader);
      if (f === undefined) throw new StoreUnavailableError('no leader known', false);
      this.stats.forwarded += 1;
      return f.txn(request);
    });
  }

  async get(key: string, options: ReadOptions = {}): Promise<KeyValue | undefined> {
    this.check();
    return this.withRetry('read', false, () => this.kv.get(key, options));
  }

  async range(keys: KeySelector, options: RangeOptions = {}): Promise<RangeResult> {
    this.check();
    return this.withRetry('read', false, () => this.kv.range(keys, options));
  }

  async put(key: string, value: ValueInput, options: { readonly prevKv?: boolean } = {}): Promise<PutResult> {
    const r = await this.write({ success: [ops.put(key, value, options)] });
    return r.results[0] as PutResult;
  }

  async delete(keys: string | KeySelector, options: { readonly prevKv?: boolean } = {}): Promise<DeleteResult> {
    const r = await this.write({ success: [ops.delete(keys, options)] });
    return r.results[0] as DeleteResult;
  }

  txn(request: TxnInput): Promise<TxnResult> {
    return this.write(request);
  }

  async watch(keys: string | KeySelector, listener: WatchListener, options: WatchOptions = {}): Promise<StoreWatch> {
    this.check();
    return this.kv.watch(keys, listener, options);
  }

  // ---- membership ----

  /**
   * Adds a manager to the running cluster (call it on any manager; the new
   * one was opened with `join: true`): writes its registry record (through
   * the leader), whose membership reconciler adds it as a learner, lets it
   * catch up, then makes it a voter. Resolves once it is a voter in the
   * configuration this replica has applied; every replica dials it at its
   * `raft` address from then on. Idempotent; a manager already in the
   * registry under other addresses has them updated.
   * @throws InvalidOptionsError naming the bad field; OperationTimeoutError
   *   (outcome unknown: the record stays, the leader keeps adding it once it
   *   is reachable; `removeManager` cancels) after `timeoutMs`; the errors of a write
   *   (StoreUnavailableError, QuorumLostError, StoreClosedError).
   */
  async addManager(manager: ManagerAddress, options: AddManagerOptions = {}): Promise<void> {
    this.check();
    const m = parseOptions(managerRecordSchema, manager, 'RaftStore.addManager');
    const o = parseOptions(membershipOptionsSchema, options, 'RaftStore.addManager');
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    await this.waitFor(() => this.reg.isSeeded, timeoutMs, 'waiting for the managers registry to be seeded');
    await this.put(this.registryKey(m.id), JSON.stringify({ id: m.id, raft: m.raft, store: m.store }));
    await this.waitFor(() => this.node.status().confState.voters.includes(m.id), timeoutMs, `adding manager ${m.id} as a Raft voter`);
  }

  /**
   * Removes a manager from the cluster (call it on any manager): deletes its
   * registry record; the leader's membership reconciler then removes the
   * Raft member (when the leader itself is removed, it first hands
   * leadership to the most up-to-date reachable voter). Resolves once the
   * member is gone from the configuration this replica has applied (for
   * this replica itself: once it applied its own removal). Idempotent.
   * Quorum guard: refused when the voters left would not have a reachable
   * majority (as the leader judges reachability: heard from within two
   * election timeouts and three heartbeats) unless `force`, and always for
   * the last manager. Nothing is changed when refused.
   * @throws ManagerRemovalRefusedError; InvalidOptionsError; OperationTimeoutError after `timeoutMs`
   *   (the record is deleted: the leader completes the removal when it can); the errors of a write.
   */
  async removeManager(id: string, options: RemoveManagerOptions = {}): Promise<void> {
    this.check();
    const o = parseOptions(membershipOptionsSchema, { ...options, id }, 'RaftStore.removeManager');
    const isMember = (): boolean => {
      const c = this.node.status().confState;
      return [...c.voters, ...c.learners, ...c.learnersNext].includes(id);
    };
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    // Until the leader has seeded the registry, deleting a record would be undone by the seeding.
    await this.waitFor(() => this.reg.isSeeded, timeoutMs, 'waiting for the managers registry to be seeded');
    const recorded = (await this.get(this.registryKey(id))) !== undefined;
    if (!recorded && !isMember()) return;
    await this.checkManagerRemoval(id, { force: o.force });
    if (recorded) await this.delete(this.registryKey(id));
    await this.waitFor(() => !isMember(), timeoutMs, `removing manager ${id} from Raft`);
  }

  /**
   * The managers of the registry (the desired membership, as applied on
   * this replica), sorted by id, each with whether it is a voter, the
   * leader, and reachable (see {@link ManagerInfo}). Before the registry is
   * seeded (a brand-new cluster without a leader yet), the static `managers` option.
   */
  managerList(): ManagerInfo[] {
    this.check();
    const desired = this.reg.isSeeded ? this.reg.desired() : [...this.bootManagers()];
    const { voters } = this.reg.members();
    const reachable = this.reg.reachable() ?? new Set([this.id]);
    const leader = this.node.leader;
    return desired
      .map((m) => ({ id: m.id, raft: { ...m.raft }, store: { ...m.store }, voter: voters.includes(m.id), leader: m.id === leader, reachable: reachable.has(m.id) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The Raft address this replica dials for manager `id` (kept equal to the registry), or undefined when it dials none (unknown, or a transport without addresses). */
  raftAddressOf(id: string): SocketAddress | undefined {
    const a = this.transport?.addressOf?.(id);
    return a === undefined ? undefined : { ...a };
  }

  /**
   * True once this replica saw itself removed from the managers' Raft
   * configuration (demoted, left, removed): it no longer serves the store
   * (its store server is closed, so workers fail over to other managers) and
   * its requests reject at once with StoreUnavailableError. Close it; to be a
   * manager again, open a new replica with empty storage and `join: true`.
   */
  get removed(): boolean {
    return this.removedAt !== undefined;
  }

  private removedFromCluster(): void {
    if (this.removedAt !== undefined) return;
    this.removedAt = performance.now();
    const server = this.server;
    this.server = undefined;
    this.serverClosing = server?.close().catch(() => undefined);
  }

  /** True once this replica has applied the seeded managers registry (the leader seeds it once, right after the cluster's first election). */
  get registrySeeded(): boolean {
    return this.registry?.isSeeded ?? false;
  }

  /** Counters of this replica's membership reconciler (conf changes it proposed as leader, passes run). */
  get membershipStats(): Readonly<RegistryStats> {
    return { ...this.reg.stats };
  }

  /**
   * Rejects when {@link RaftStore.removeManager} would refuse removing `id` now
   * (its quorum guard; see there). On a follower it first asks the leader to
   * publish which managers it hears from (two small writes through the store)
   * and waits for the answer, bounded. For callers that must know before
   * doing other work (`WeftNode.leave`).
   * @throws ManagerRemovalRefusedError naming the reason.
   */
  async checkManagerRemoval(id: string, options: { readonly force?: boolean } = {}): Promise<void> {
    this.check();
    // A follower asks the leader for its view of who is reachable first (followers do not hear each other).
    if (options.force !== true) await this.reg.refreshReachability(Math.min(this.timeoutMs, 2 * this.quorumWindowMs));
    const refusal = this.reg.refusal(id, options.force === true);
    if (refusal !== undefined) throw new ManagerRemovalRefusedError(id, refusal);
  }

  /** The store key of manager `id`'s registry record (`<registryPrefix><id>`): deleting it in a txn removes the manager as {@link RaftStore.removeManager} does, without its guard. */
  managerKey(id: string): string {
    return this.registryKey(id);
  }

  /** Key of a manager's registry record. */
  private registryKey(id: string): string {
    return `${this.registryPrefixValue}${id}`;
  }

  private bootManagers(): ManagerAddress[] {
    return this.bootList;
  }

  /** Polls `done` every heartbeat until true; OperationTimeoutError (outcome unknown) after `timeoutMs`, StoreClosedError when closed. */
  private async waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      this.check();
      if (performance.now() > deadline) throw new OperationTimeoutError(`raft store ${this.id}: ${what}`, timeoutMs, true);
      await pause(this.checkEveryMs);
    }
  }

  /** Stops serving, closes the replica (its state stays in its storage) and the forwarders. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server?.close();
    await this.serverClosing;
    this.registry?.stop();
    for (const f of this.forwarders.values()) await f.remote.close();
    this.forwarders.clear();
    await this.kv.close();
    // The node closes its transport and stores.
    await this.node.close();
  }
}
