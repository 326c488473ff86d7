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
  /** Every manager of a new cluster, this one included (ignored for bootstrap once storage holds state, still used to find the leader's store address). */
  readonly managers: readonly ManagerAddress[];
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

/** Counters of a {@link RaftStore}. */
export interface RaftStoreStats {
  /** Writes proposed on this replica as leader. */
  proposed: number;
  /** Writes forwarded to the leader's store server. */
  forwarded: number;
  /** Attempts retried because there was no leader, or it changed. */
  retries: number;
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
 */
export class RaftStore implements Store {
  readonly stats: RaftStoreStats = { proposed: 0, forwarded: 0, retries: 0 };
  private readonly forwarders = new Map<string, RemoteStore>();
  private closed = false;
  private server: StoreServer | undefined;
  private tls: ControlTls | undefined;
  private hearing: HearingTransport | undefined;
  private transport: Transport | undefined;
  /** A peer heard from within this window counts as reachable (2 election timeouts + 3 heartbeats: every election starts within 2 timeouts). */
  private quorumWindowMs = Infinity;
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
    private readonly managers: readonly ManagerAddress[],
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
      peers: o.managers.map((m) => m.id),
      stateMachine: store,
      transport: hearing,
      stores,
      electionTimeoutMs: o.electionTimeoutMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      requestTimeoutMs: o.requestTimeoutMs,
    });
    node.start();
    const kv = new RaftKv(node, store);
    const raftStore = new RaftStore(o.id, node, kv, o.managers, o.requestTimeoutMs);
    raftStore.tls = options.tls;
    raftStore.hearing = hearing;
    node.on('leader-change', (leader) => {
      if (leader !== null) raftStore.sawLeader = true;
    });
    if (node.leader !== null) raftStore.sawLeader = true;
    raftStore.transport = transport;
    raftStore.quorumWindowMs = 2 * o.electionTimeoutMs + 3 * o.heartbeatIntervalMs;
    raftStore.checkEveryMs = o.heartbeatIntervalMs;
    if (o.serve) {
      raftStore.server = await StoreServer.listen({
        store: raftStore,
        listen: me.store,
        ...(options.tls !== undefined ? { tls: options.tls } : {}),
        ...(options.authorize !== undefined ? { authorize: options.authorize } : {}),
      });
    }
    return raftStore;
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
   * True when this replica can tell that no quorum exists now: it has known
   * a leader since it opened (before that, the other managers may still be
   * starting: a request then waits for its timeout instead), it knows no
   * leader now, it has been up for a whole window, and it heard from fewer than a
   * majority of managers (itself included) within the window. A leader
   * without a quorum steps down within an election timeout (check-quorum),
   * and every election starts within two, so a live majority is heard from
   * within the window; followers do not hear each other while a leader
   * leads, which is why a known leader means "not lost".
   */
  quorumLost(): boolean {
    if (this.hearing === undefined || this.node.leader !== null || !this.sawLeader) return false;
    const now = performance.now();
    if (now - this.openedAt < this.quorumWindowMs) return false;
    let reachable = 1;
    for (const m of this.managers) {
      if (m.id === this.id) continue;
      const t = this.hearing.heard.get(m.id);
      if (t !== undefined && now - t <= this.quorumWindowMs) reachable++;
    }
    return reachable < Math.floor(this.managers.length / 2) + 1;
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
        if (!this.quorumLost()) return;
        clearInterval(timer);
        reject(new QuorumLostError(`raft store ${this.id}: no quorum of the ${this.managers.length} managers is reachable`, write));
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
        if (this.quorumLost()) {
          throw new QuorumLostError(`raft store ${this.id}: no quorum of the ${this.managers.length} managers is reachable (${(err as Error).message})`, write && maybeApplied, {
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

  /** The leader's store, reached over the network (cached per leader). */
  private forwarder(leaderId: string): RemoteStore | undefined {
    let f = this.forwarders.get(leaderId);
    if (f === undefined) {
      const m = this.managers.find((x) => x.id === leaderId);
      if (m === undefined) return undefined;
      f = new RemoteStore({
        endpoints: [m.store],
        requestTimeoutMs: Math.max(1000, Math.floor(this.timeoutMs / 2)),
        ...(this.tls !== undefined ? { tls: this.tls } : {}),
      });
      this.forwarders.set(leaderId, f);
    }
    return f;
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

  /** Stops serving, closes the replica (its state stays in its storage) and the forwarders. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server?.close();
    for (const f of this.forwarders.values()) await f.close();
    this.forwarders.clear();
    await this.kv.close();
    // The node closes its transport and stores.
    await this.node.close();
  }
}
