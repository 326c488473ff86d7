import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { InvalidOptionsError, parseOptions, type SocketAddress, type Store, type StoreWatch } from '@weft/interface';
import { z } from 'zod';
import { controlTlsSchema, type ControlPeer, type ControlTls } from './control-tls';
import type { StoreAuthorizer } from './store-policy';
import { FrameReader, encodeFrame } from './frames';
import {
  PROTOCOL_VERSION,
  clientMessageSchema,
  compareFromWire,
  errorToWire,
  eventToWire,
  kvToWire,
  opFromWire,
  opResultToWire,
  type ClientMessage,
} from './wire';

/** Options of {@link StoreServer.listen}. */
export interface StoreServerOptions {
  /** The store to serve (a manager's embedded store). Not closed by the server. */
  readonly store: Store;
  /** Where to listen; port 0 picks a free port. */
  readonly listen: SocketAddress;
  /**
   * Makes the listening server (default `node:net` `createServer`). The
   * cluster layer passes a TLS server here; the protocol is the same.
   */
  readonly createServer?: (onConnection: (socket: Socket) => void) => Server;
  /** Mutual TLS: only nodes of the cluster connect, each known by its certificate (see {@link ControlTls}). Not with `createServer`. */
  readonly tls?: ControlTls;
  /** A connection whose TLS handshake or first message has not arrived within this time is closed and counted (ms, default 10000). */
  readonly handshakeTimeoutMs?: number;
  /** A frame whose first byte has arrived must be complete within this time (ms, default 30000). */
  readonly frameTimeoutMs?: number;
  /** Most bytes of unfinished frames held across all connections; the connection that would go beyond it is closed and counted (default 64 MiB). */
  readonly maxBufferedBytes?: number;
  /** Most connections at once still in their handshake (before their first message); beyond it the oldest is closed and counted (default 256). */
  readonly maxPendingHandshakes?: number;
  /** A connection whose unsent replies and events exceed this many bytes (a peer not reading) is closed and counted (default 64 MiB). */
  readonly maxUnsentBytes?: number;
  /**
   * Judges every request by the node that makes it (e.g. {@link workerStorePolicy}:
   * workers get only what they need); a refusal is answered with PermissionDeniedError
   * and counted. Default: every request is served.
   */
  readonly authorize?: StoreAuthorizer;
}

/** Counters of a {@link StoreServer}. */
export interface StoreServerStats {
  connections: number;
  requests: number;
  /** Connections closed because a frame or message was malformed. */
  malformed: number;
  /** TLS connections refused: peer not verified (no certificate, another CA, expired) or refused by `identify`. */
  refused: number;
  /** Connections closed because the TLS handshake or the first message did not arrive within `handshakeTimeoutMs`. */
  handshakeTimeouts: number;
  /** Connections closed because a frame was not complete within `frameTimeoutMs`. */
  stalledFrames: number;
  /** Connections closed because unfinished frames would exceed `maxBufferedBytes`. */
  overBudget: number;
  /** Connections still in their handshake closed to make room for a newer one. */
  shed: number;
  /** Connections closed because their unsent output exceeded `maxUnsentBytes`. */
  slowReaders: number;
  /** Live connections closed by `recheckPeers()` (node removed, certificate deny-listed or expired). */
  revoked: number;
  /** Requests refused by `authorize`. */
  denied: number;
}

const optionsSchema = z.object({
  store: z.custom<Store>((v) => typeof v === 'object' && v !== null && typeof (v as Store).txn === 'function', { message: 'must be a Store' }),
  listen: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }),
  createServer: z.custom<StoreServerOptions['createServer']>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
  tls: controlTlsSchema.optional(),
  handshakeTimeoutMs: z.number().int().min(1).default(10_000),
  frameTimeoutMs: z.number().int().min(1).default(30_000),
  maxBufferedBytes: z.number().int().min(64).default(64 * 1024 * 1024),
  maxPendingHandshakes: z.number().int().min(1).default(256),
  maxUnsentBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  authorize: z.custom<StoreAuthorizer>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
});

type Limits = Pick<z.output<typeof optionsSchema>, 'handshakeTimeoutMs' | 'frameTimeoutMs' | 'maxBufferedBytes' | 'maxPendingHandshakes' | 'maxUnsentBytes'>;

/**
 * Serves a `Store` over a stream connection: what workers (and managers that
 * are not the Raft leader) use to reach a manager's store. Length-prefixed
 * JSON frames; every message is validated; a malformed frame closes that
 * connection (and is counted), never the server. Watches are per connection
 * and end with it.
 */
export class StoreServer {
  readonly stats: StoreServerStats = { connections: 0, requests: 0, malformed: 0, refused: 0, handshakeTimeouts: 0, stalledFrames: 0, overBudget: 0, shed: 0, slowReaders: 0, revoked: 0, denied: 0 };
  private readonly sockets = new Set<Socket>();
  /** Raw sockets before their handshake and first message, by remote address and port (oldest first). */
  private readonly pending = new Map<string, Socket>();
  private buffered = 0;
  private tls: ControlTls | undefined;
  private authorize: StoreAuthorizer | undefined;
  /** The node each accepted connection's certificate names (undefined: plain TCP). */
  private readonly peerOf = new WeakMap<Socket, ControlPeer | undefined>();

  private constructor(
    private readonly store: Store,
    private readonly server: Server,
    /** The address really listened on (with the port picked). */
    readonly address: SocketAddress,
    private readonly limits: Limits,
  ) {}

  /** Bytes of unfinished frames held now, all connections together. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Connections open now (TLS handshakes in progress included). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** The nodes connected now, as their certificates name them (empty on plain TCP). */
  connectedPeers(): ControlPeer[] {
    const out: ControlPeer[] = [];
    for (const s of this.sockets) {
      const p = this.peerOf.get(s);
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  /**
   * Re-judges every live TLS connection with `identify` (a node removed, a
   * certificate deny-listed or expired since its handshake): those refused
   * now are closed and counted (`revoked`). Returns how many. No-op without TLS.
   */
  recheckPeers(): number {
    const tls = this.tls;
    if (tls === undefined) return 0;
    let closed = 0;
    for (const s of [...this.sockets]) {
      const peer = this.peerOf.get(s);
      if (peer === undefined) continue;
      let ok: boolean;
      try {
        ok = tls.identify(s as TLSSocket).nodeId === peer.nodeId;
      } catch {
        ok = false;
      }
      if (!ok) {
        closed++;
        s.destroy();
      }
    }
    this.stats.revoked += closed;
    return closed;
  }

  /** Replaces the TLS credentials for the handshakes that follow (a renewed certificate). @throws InvalidOptionsError without TLS. */
  setTls(tls: ControlTls): void {
    if (this.tls === undefined) throw new InvalidOptionsError('tls', 'StoreServer.setTls: the server was started without TLS');
    this.tls = parseOptions(z.object({ tls: controlTlsSchema }), { tls }, 'StoreServer.setTls').tls as ControlTls;
    (this.server as import('node:tls').Server).setSecureContext(this.tls.options);
  }

  /** @throws InvalidOptionsError naming the bad option. */
  static async listen(options: StoreServerOptions): Promise<StoreServer> {
    const o = parseOptions(optionsSchema, options, 'StoreServer');
    if (o.tls !== undefined && o.createServer !== undefined) throw new InvalidOptionsError('tls', 'StoreServer: options "tls" and "createServer" exclude each other');
    const tls = o.tls as ControlTls | undefined;
    let self: StoreServer | undefined;
    const early: Array<() => void> = [];
    const later = (f: () => void): void => (self ? f() : void early.push(f));
    let server: Server;
    if (tls !== undefined) {
      // `authorized` is checked here (not by node:tls dropping the client silently), so every refusal is counted.
      const t = createTlsServer({ ...tls.options, requestCert: true, rejectUnauthorized: false, handshakeTimeout: o.handshakeTimeoutMs });
      t.on('connection', (raw: Socket) => later(() => self!.track(raw)));
      t.on('secureConnection', (socket: TLSSocket) => later(() => self!.acceptTls(socket)));
      t.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
        socket.destroy();
        later(() => {
          if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') self!.stats.handshakeTimeouts += 1;
          else if (err.code !== 'ECONNRESET') self!.stats.refused += 1;
        });
      });
      server = t;
    } else {
      server = (o.createServer ?? ((cb) => createServer(cb)))((socket) =>
        later(() => {
          self!.track(socket);
          self!.accept(socket, undefined);
        }),
      );
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listen.port, o.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    const port = typeof a === 'object' && a !== null ? a.port : o.listen.port;
    self = new StoreServer(o.store, server, { host: o.listen.host, port }, o);
    self.authorize = o.authorize as StoreAuthorizer | undefined;
    self.tls = tls;
    for (const f of early) f();
    return self;
  }

  /** Every raw connection from accept to close; at most `maxPendingHandshakes` before their first message (the oldest goes). */
  private track(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.pending.size >= this.limits.maxPendingHandshakes) {
      const [oldestKey, oldest] = this.pending.entries().next().value as [string, Socket];
      this.pending.delete(oldestKey);
      this.stats.shed += 1;
      oldest.destroy();
    }
    const key = remoteKey(socket);
    this.pending.set(key, socket);
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (this.pending.get(key) === socket) this.pending.delete(key);
    });
  }

  private acceptTls(socket: TLSSocket): void {
    let peer: ControlPeer | undefined;
    try {
      if (socket.authorized) peer = this.tls!.identify(socket);
    } catch {
      peer = undefined;
    }
    if (peer === undefined) {
      this.stats.refused += 1;
      socket.destroy();
      return;
    }
    this.accept(socket, peer);
  }

  /** `peer`: the node the TLS certificate names (undefined on plain TCP); `authorize` judges its requests. */
  private accept(socket: Socket, peer: ControlPeer | undefined): void {
    this.peerOf.set(socket, peer);
    this.stats.connections += 1;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const watches = new Map<number, StoreWatch>();
    const reader = new FrameReader();
    const key = remoteKey(socket);
    let closed = false;
    let held = 0;
    let greeted = false;
    let frameTimer: NodeJS.Timeout | undefined;
    const firstTimer = setTimeout(() => {
      if (greeted) return;
      this.stats.handshakeTimeouts += 1;
      close();
    }, this.limits.handshakeTimeoutMs);
    firstTimer.unref();
    const hold = (bytes: number): void => {
      this.buffered += bytes - held;
      held = bytes;
    };
    const send = (m: unknown): void => {
      if (closed || socket.destroyed) return;
      socket.write(encodeFrame(m));
      if (socket.writableLength > this.limits.maxUnsentBytes) {
        this.stats.slowReaders += 1;
        close();
      }
    };
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(firstTimer);
      if (frameTimer !== undefined) clearTimeout(frameTimer);
      hold(0);
      for (const w of watches.values()) w.cancel();
      watches.clear();
      this.sockets.delete(socket);
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      let messages: unknown[];
      try {
        messages = reader.push(chunk);
      } catch {
        this.stats.malformed += 1;
        close();
        return;
      }
      if (this.buffered - held + reader.bufferedBytes > this.limits.maxBufferedBytes) {
        this.stats.overBudget += 1;
        close();
        return;
      }
      hold(reader.bufferedBytes);
      if (reader.bufferedBytes === 0) {
        if (frameTimer !== undefined) clearTimeout(frameTimer);
        frameTimer = undefined;
      } else if (frameTimer === undefined) {
        frameTimer = setTimeout(() => {
          this.stats.stalledFrames += 1;
          close();
        }, this.limits.frameTimeoutMs);
        frameTimer.unref();
      }
      for (const raw of messages) {
        const parsed = clientMessageSchema.safeParse(raw);
        if (!parsed.success) {
          this.stats.malformed += 1;
          close();
          return;
        }
        if (!greeted) {
          greeted = true;
          // Past its handshake: no longer counted against maxPendingHandshakes.
          this.pending.delete(key);
        }
        this.stats.requests += 1;
        void this.handle(parsed.data, send, watches, peer);
      }
    });
    socket.on('error', close);
    socket.on('close', close);
  }

  private async handle(m: ClientMessage, send: (m: unknown) => void, watches: Map<number, StoreWatch>, peer: ControlPeer | undefined): Promise<void> {
    try {
      if (this.authorize !== undefined && m.t !== 'hello' && m.t !== 'cancel') {
        try {
          await this.authorize(peer, m, this.store);
        } catch (err) {
          this.stats.denied += 1;
          throw err;
        }
      }
      switch (m.t) {
        case 'hello':
          send({ t: 'hello', v: PROTOCOL_VERSION });
          return;
        case 'get': {
          const kv = await this.store.get(m.key, m.serializable ? { serializable: true } : {});
          send({ t: 'kv', id: m.id, kv: kv === undefined ? null : kvToWire(kv) });
          return;
        }
        case 'range': {
          const r = await this.store.range(m.keys, { ...(m.limit ? { limit: m.limit } : {}), ...(m.serializable ? { serializable: true } : {}) });
          send({ t: 'result', id: m.id, result: opResultToWire(r) });
          return;
        }
        case 'txn': {
          const r = await this.store.txn({ compare: m.compare.map(compareFromWire), success: m.success.map(opFromWire), failure: m.failure.map(opFromWire) });
          send({ t: 'txn', id: m.id, revision: r.revision, succeeded: r.succeeded, results: r.results.map(opResultToWire) });
          return;
        }
        case 'watch': {
          // Without a start revision, start after the current one and say so, so the client can resume exactly.
          const from = m.fromRevision ?? (await this.store.range(m.keys, { limit: 1 })).revision + 1;
          const w = await this.store.watch(m.keys, (events) => send({ t: 'events', id: m.id, events: events.map(eventToWire) }), {
            fromRevision: from,
            onError: (err) => {
              watches.delete(m.id);
              send({ t: 'watch-error', id: m.id, error: errorToWire(err) });
            },
          });
          watches.set(m.id, w);
          send({ t: 'watching', id: m.id, fromRevision: from });
          return;
        }
        case 'cancel':
          watches.get(m.id)?.cancel();
          watches.delete(m.id);
          return;
      }
    } catch (err) {
      send({ t: m.t === 'watch' ? 'watch-error' : 'error', id: 'id' in m ? m.id : 0, error: errorToWire(err) });
    }
  }

  /** Stops listening and closes every connection (their watches end). Idempotent. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function remoteKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}
