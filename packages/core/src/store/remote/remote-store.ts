import { connect as netConnect, type Socket } from 'node:net';
import { controlTlsSchema, tlsStoreConnector, type ControlTls } from './control-tls';
import {
  InvalidOptionsError,
  StoreClosedError,
  StoreUnavailableError,
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
import { z } from 'zod';
import { FrameReader, encodeFrame } from './frames';
import {
  PROTOCOL_VERSION,
  errorFromWire,
  eventFromWire,
  kvFromWire,
  opResultFromWire,
  serverMessageSchema,
  txnResultFromWire,
  txnToWire,
  type ServerMessage,
} from './wire';

/** Options of a {@link RemoteStore}. */
export interface RemoteStoreOptions {
  /** Store servers (managers) to use, tried in order, failing over to the next. */
  readonly endpoints: readonly SocketAddress[];
  /** Opens a connection (default `node:net` `connect`, or TLS with `tls`). */
  readonly connect?: (address: SocketAddress) => Socket;
  /** Mutual TLS to the store servers, which must be managers of the cluster by their certificates (see `ControlTls`). Not with `connect`. */
  readonly tls?: ControlTls;
  /** A request not answered within this time rejects with StoreUnavailableError (ms). Default 10000. */
  readonly requestTimeoutMs?: number;
  /** First reconnect pause (ms), doubled up to 2 s. Default 50. */
  readonly reconnectMs?: number;
}

/** Counters of a {@link RemoteStore}. */
export interface RemoteStoreStats {
  /** Connections opened (1 + reconnects). */
  connections: number;
  /** Watches re-established on a new connection from their last revision. */
  watchResumes: number;
  /** Events dropped because they were at or below a watch's last revision (a server replaying). */
  duplicateEvents: number;
  /** Server messages that failed validation (the connection is then dropped). */
  malformed: number;
}

const optionsSchema = z.object({
  endpoints: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })).min(1),
  connect: z.custom<(a: SocketAddress) => Socket>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
  tls: controlTlsSchema.optional(),
  requestTimeoutMs: z.number().int().min(1).default(10_000),
  reconnectMs: z.number().int().min(1).default(50),
});

type Request = { t: 'get' | 'range' | 'txn' } & Record<string, unknown>;

interface Pending {
  readonly id: number;
  readonly message: Request;
  readonly write: boolean;
  readonly resolve: (m: ServerMessage) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: NodeJS.Timeout;
  /** The connection it was sent on, if sent. */
  sentOn: Connection | undefined;
}

interface WatchState {
  readonly id: number;
  readonly keys: KeySelector;
  readonly listener: WatchListener;
  readonly onError: ((e: unknown) => void) | undefined;
  /** Next revision to deliver (resume point). */
  next: number | undefined;
  active: boolean;
  established: { resolve: (w: StoreWatch) => void; reject: (e: unknown) => void } | undefined;
}

interface Connection {
  readonly socket: Socket;
  ready: boolean;
}

/**
 * A `Store` reached over the network: a worker's (or a follower manager's)
 * view of a manager's store, served by `StoreServer`. Fails over between
 * endpoints and reconnects with back-off. Reads in flight are re-sent on the
 * next connection; a write in flight when a connection drops rejects with
 * `StoreUnavailableError` (`outcomeUnknown: true`). Watches resume on the new
 * connection from their last delivered revision + 1 — no event is lost or
 * delivered twice; when that revision is compacted they end with
 * `WatchCompactedError`.
 */
export class RemoteStore implements Store {
  readonly stats: RemoteStoreStats = { connections: 0, watchResumes: 0, duplicateEvents: 0, malformed: 0 };
  private readonly endpoints: readonly SocketAddress[];
  private readonly connectFn: (a: SocketAddress) => Socket;
  private tls: ControlTls | undefined;
  private readonly timeoutMs: number;
  private readonly reconnectBase: number;
  private conn: Connection | undefined;
  private endpointIndex = 0;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new Map<number, WatchState>();
  private closed = false;

  /** @throws InvalidOptionsError naming the bad option. */
  constructor(options: RemoteStoreOptions) {
    const o = parseOptions(optionsSchema, options, 'RemoteStore');
    this.endpoints = o.endpoints;
    if (o.tls !== undefined && o.connect !== undefined) throw new InvalidOptionsError('tls', 'RemoteStore: options "tls" and "connect" exclude each other');
    this.tls = options.tls;
    this.connectFn = o.connect ?? (this.tls !== undefined ? tlsStoreConnector(() => this.tls!) : (a) => netConnect({ host: a.host, port: a.port }));
    this.timeoutMs = o.requestTimeoutMs;
    this.reconnectBase = o.reconnectMs;
    this.open();
  }

  /**
   * Replaces the TLS credentials used for the connections opened from now on
   * (a renewed certificate: see `CertificateRenewer`). The live connection is
   * kept; when it closes, the next one presents the new certificate.
   * @throws InvalidOptionsError (field `tls`) when the store was made without `tls`, or `tls` is not a ControlTls.
   */
  setTls(tls: ControlTls): void {
    if (this.tls === undefined) throw new InvalidOptionsError('tls', 'RemoteStore.setTls: the store was made without TLS');
    this.tls = parseOptions(z.object({ tls: controlTlsSchema }), { tls }, 'RemoteStore.setTls').tls as ControlTls;
  }

  /** The endpoint currently connected to, if any. */
  get connectedTo(): SocketAddress | undefined {
    return this.conn?.ready ? this.endpoints[this.endpointIndex] : undefined;
  }

  /** Drops the current connection (as a network fault would); the store reconnects by itself. For tests. */
  dropConnection(): void {
    this.conn?.socket.destroy();
  }

  private open(): void {
    if (this.closed) return;
    const address = this.endpoints[this.endpointIndex]!;
    const socket = this.connectFn(address);
    socket.setNoDelay?.(true);
    const conn: Connection = { socket, ready: false };
    this.conn = conn;
    this.stats.connections += 1;
    const reader = new FrameReader();
    socket.on('connect', () => socket.write(encodeFrame({ t: 'hello', v: PROTOCOL_VERSION })));
    socket.on('secureConnect', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      let messages: unknown[];
      try {
        messages = reader.push(chunk);
      } catch {
        this.stats.malformed += 1;
        socket.destroy();
        return;
      }
      for (const raw of messages) {
        const m = serverMessageSchema.safeParse(raw);
        if (!m.success) {
          this.stats.malformed += 1;
          socket.destroy();
          return;
        }
        this.onMessage(conn, m.data);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose(conn));
  }

  private onReady(conn: Connection): void {
    conn.ready = true;
    this.failures = 0;
    for (const p of this.pending.values()) if (p.sentOn === undefined) this.sendRequest(conn, p);
    for (const w of this.watches.values()) {
      if (!w.active) continue;
      if (w.established === undefined) this.stats.watchResumes += 1;
      this.sendWatch(conn, w);
    }
  }

  private onClose(conn: Connection): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    for (const p of [...this.pending.values()]) {
      if (p.sentOn !== conn) continue;
      if (p.write) {
        this.settle(p);
        p.reject(new StoreUnavailableError('store connection lost with a write in flight', true));
      } else {
        p.sentOn = undefined; // a read is re-sent on the next connection
      }
    }
    if (this.closed) return;
    this.failures += 1;
    this.endpointIndex = (this.endpointIndex + 1) % this.endpoints.length;
    const delay = Math.min(2000, this.reconnectBase * 2 ** Math.min(6, this.failures - 1));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, delay);
    this.reconnectTimer.unref?.();
  }

  private onMessage(conn: Connection, m: ServerMessage): void {
    if (m.t === 'hello') {
      if (m.v !== PROTOCOL_VERSION) conn.socket.destroy();
      else this.onReady(conn);
      return;
    }
    if (m.t === 'events' || m.t === 'watching' || m.t === 'watch-error') {
      this.onWatchMessage(m);
      return;
    }
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.settle(p);
    if (m.t === 'error') p.reject(errorFromWire(m.error));
    else p.resolve(m);
  }

  private onWatchMessage(m: Extract<ServerMessage, { t: 'events' | 'watching' | 'watch-error' }>): void {
    const w = this.watches.get(m.id);
    if (w === undefined || !w.active) return;
    if (m.t === 'watching') {
      if (w.next === undefined) w.next = m.fromRevision;
      const e = w.established;
      w.established = undefined;
      e?.resolve(this.handleOf(w));
      return;
    }
    if (m.t === 'watch-error') {
      const err = errorFromWire(m.error);
      this.endWatch(w);
      if (w.established) w.established.reject(err);
      else w.onError?.(err);
      return;
    }
    const events = m.events.map(eventFromWire).filter((e) => {
      if (w.next !== undefined && e.revision < w.next) {
        this.stats.duplicateEvents += 1;
        return false;
      }
      return true;
    });
    if (events.length === 0) return;
    w.next = events[events.length - 1]!.revision + 1;
    try {
      w.listener(events);
    } catch (err) {
      this.endWatch(w);
      w.onError?.(err);
    }
  }

  private endWatch(w: WatchState): void {
    w.active = false;
    this.watches.delete(w.id);
    if (this.conn?.ready) this.conn.socket.write(encodeFrame({ t: 'cancel', id: w.id }));
  }

  private handleOf(w: WatchState): StoreWatch {
    return {
      cancel: () => {
        if (w.active) this.endWatch(w);
      },
      get active() {
        return w.active;
      },
    };
  }

  private sendRequest(conn: Connection, p: Pending): void {
    p.sentOn = conn;
    conn.socket.write(encodeFrame({ ...p.message, id: p.id }));
  }

  private sendWatch(conn: Connection, w: WatchState): void {
    conn.socket.write(encodeFrame({ t: 'watch', id: w.id, keys: w.keys, ...(w.next !== undefined ? { fromRevision: w.next } : {}) }));
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(p.id);
  }

  private request(message: Request, write: boolean): Promise<ServerMessage> {
    if (this.closed) return Promise.reject(new StoreClosedError('remote store is closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.settle(p);
        reject(new StoreUnavailableError(`no answer from the store within ${this.timeoutMs} ms`, write && p.sentOn !== undefined));
      }, this.timeoutMs);
      const p: Pending = { id, message, write, resolve, reject, timer, sentOn: undefined };
      this.pending.set(id, p);
      if (this.conn?.ready) this.sendRequest(this.conn, p);
    });
  }

  async get(key: string, options: ReadOptions = {}): Promise<KeyValue | undefined> {
    const m = await this.request({ t: 'get', key, ...(options.serializable ? { serializable: true } : {}) }, false);
    return m.t === 'kv' && m.kv !== null ? kvFromWire(m.kv) : undefined;
  }

  async range(keys: KeySelector, options: RangeOptions = {}): Promise<RangeResult> {
    const m = await this.request({ t: 'range', keys, ...(options.limit ? { limit: options.limit } : {}), ...(options.serializable ? { serializable: true } : {}) }, false);
    if (m.t !== 'result' || m.result.op !== 'range') throw new StoreUnavailableError(`unexpected reply ${m.t} to range`, false);
    return opResultFromWire(m.result) as RangeResult;
  }

  async txn(request: TxnInput): Promise<TxnResult> {
    const m = await this.request({ t: 'txn', ...txnToWire(request) }, true);
    if (m.t !== 'txn') throw new StoreUnavailableError(`unexpected reply ${m.t} to txn`, true);
    return txnResultFromWire(m);
  }

  async put(key: string, value: ValueInput, options: { readonly prevKv?: boolean } = {}): Promise<PutResult> {
    const r = await this.txn({ success: [ops.put(key, value, options)] });
    return r.results[0] as PutResult;
  }

  async delete(keys: string | KeySelector, options: { readonly prevKv?: boolean } = {}): Promise<DeleteResult> {
    const r = await this.txn({ success: [ops.delete(keys, options)] });
    return r.results[0] as DeleteResult;
  }

  watch(keys: string | KeySelector, listener: WatchListener, options: WatchOptions = {}): Promise<StoreWatch> {
    if (this.closed) return Promise.reject(new StoreClosedError('remote store is closed'));
    const selector: KeySelector = typeof keys === 'string' ? { prefix: keys } : keys;
    return new Promise((resolve, reject) => {
      const w: WatchState = {
        id: this.nextId++,
        keys: selector,
        listener,
        onError: options.onError,
        next: options.fromRevision,
        active: true,
        established: { resolve, reject },
      };
      this.watches.set(w.id, w);
      if (this.conn?.ready) this.sendWatch(this.conn, w);
    });
  }

  /** Rejects what is pending with StoreClosedError, ends watches (without onError), closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    for (const p of [...this.pending.values()]) {
      this.settle(p);
      p.reject(new StoreClosedError('remote store is closed'));
    }
    for (const w of this.watches.values()) {
      w.active = false;
      w.established?.reject(new StoreClosedError('remote store is closed'));
    }
    this.watches.clear();
    const s = this.conn?.socket;
    this.conn = undefined;
    if (s !== undefined && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
  }
}
