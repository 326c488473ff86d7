import { createServer, type Server, type Socket } from 'node:net';
import { parseOptions, type SocketAddress, type Store, type StoreWatch } from '@weft/interface';
import { z } from 'zod';
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
}

/** Counters of a {@link StoreServer}. */
export interface StoreServerStats {
  connections: number;
  requests: number;
  /** Connections closed because a frame or message was malformed. */
  malformed: number;
}

const optionsSchema = z.object({
  store: z.custom<Store>((v) => typeof v === 'object' && v !== null && typeof (v as Store).txn === 'function', { message: 'must be a Store' }),
  listen: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }),
  createServer: z.custom<StoreServerOptions['createServer']>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
});

/**
 * Serves a `Store` over a stream connection: what workers (and managers that
 * are not the Raft leader) use to reach a manager's store. Length-prefixed
 * JSON frames; every message is validated; a malformed frame closes that
 * connection (and is counted), never the server. Watches are per connection
 * and end with it.
 */
export class StoreServer {
  readonly stats: StoreServerStats = { connections: 0, requests: 0, malformed: 0 };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly store: Store,
    private readonly server: Server,
    /** The address really listened on (with the port picked). */
    readonly address: SocketAddress,
  ) {}

  /** @throws InvalidOptionsError naming the bad option. */
  static async listen(options: StoreServerOptions): Promise<StoreServer> {
    const o = parseOptions(optionsSchema, options, 'StoreServer');
    let self: StoreServer | undefined;
    const pending: Socket[] = [];
    const onConnection = (socket: Socket): void => {
      if (self) self.accept(socket);
      else pending.push(socket);
    };
    const server = (o.createServer ?? ((cb) => createServer(cb)))(onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listen.port, o.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    const port = typeof a === 'object' && a !== null ? a.port : o.listen.port;
    self = new StoreServer(o.store, server, { host: o.listen.host, port });
    for (const s of pending) self.accept(s);
    return self;
  }

  private accept(socket: Socket): void {
    this.stats.connections += 1;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const watches = new Map<number, StoreWatch>();
    const reader = new FrameReader();
    let closed = false;
    const send = (m: unknown): void => {
      if (!closed && !socket.destroyed) socket.write(encodeFrame(m));
    };
    const close = (): void => {
      if (closed) return;
      closed = true;
      for (const w of watches.values()) w.cancel();
      watches.clear();
      this.sockets.delete(socket);
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      let messages: unknown[];
      try {
        messages = reader.push(chunk);
      } catch {
        this.stats.malformed += 1;
        close();
        return;
      }
      for (const raw of messages) {
        const parsed = clientMessageSchema.safeParse(raw);
        if (!parsed.success) {
          this.stats.malformed += 1;
          close();
          return;
        }
        this.stats.requests += 1;
        void this.handle(parsed.data, send, watches);
      }
    });
    socket.on('error', close);
    socket.on('close', close);
  }

  private async handle(m: ClientMessage, send: (m: unknown) => void, watches: Map<number, StoreWatch>): Promise<void> {
    try {
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
