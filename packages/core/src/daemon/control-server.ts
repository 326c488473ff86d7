import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { InvalidOptionsError, parseOptions } from '@weft/interface';
import { z } from 'zod';
import { FrameReader, encodeFrame } from '../store/remote/frames';
import { CONTROL_PROTOCOL_VERSION, controlErrorToWire, methodParams, requestSchema, type ControlMethod, type ControlResponse } from './api';
import { ControlSocketInUseError, UnknownMethodError } from './errors';

/** Handles one validated request; what it resolves to is the answer, what it throws goes back as a typed error. */
export type ControlHandler = (method: ControlMethod, params: unknown) => Promise<unknown>;

/** Options of {@link ControlServer.listen}. */
export interface ControlServerOptions {
  /** Path of the Unix socket. A stale socket file (no process answering) is replaced; a live one is refused. */
  readonly path: string;
  readonly handle: ControlHandler;
  /** File mode of the socket (default 0o600: only its owner, as docker.sock is root's). */
  readonly mode?: number;
  /** A frame whose first byte has arrived must be complete within this time (ms, default 30000). */
  readonly frameTimeoutMs?: number;
  /** Largest request frame (bytes, default 1 MiB). */
  readonly maxRequestBytes?: number;
  /** Most bytes of unfinished frames held across all connections (default 16 MiB). */
  readonly maxBufferedBytes?: number;
  /** Most connections at once; a connection beyond it is closed at once and counted (default 1024). */
  readonly maxConnections?: number;
  /** Most requests in progress per connection; beyond it the connection is closed (default 64). */
  readonly maxInFlight?: number;
  /** A connection whose unsent answers exceed this many bytes is closed (default 16 MiB). */
  readonly maxUnsentBytes?: number;
}

/** Counters of a {@link ControlServer}. */
export interface ControlServerStats {
  connections: number;
  requests: number;
  /** Requests answered with an error. */
  failed: number;
  /** Connections closed for a malformed or oversized frame, or a message that is not a request. */
  malformed: number;
  /** Connections closed because a frame was not complete within `frameTimeoutMs`. */
  stalledFrames: number;
  /** Connections closed because unfinished frames would exceed `maxBufferedBytes`. */
  overBudget: number;
  /** Connections refused because `maxConnections` were open. */
  refused: number;
  /** Connections closed for too many requests in flight or too many unsent bytes. */
  overloaded: number;
}

const optionsSchema = z.object({
  path: z.string().min(1).max(107, 'must be at most 107 bytes (the limit of a Unix socket path)'),
  handle: z.custom<ControlHandler>((v) => typeof v === 'function', { message: 'must be a function' }),
  mode: z.number().int().min(0).max(0o777).default(0o600),
  frameTimeoutMs: z.number().int().min(1).default(30_000),
  maxRequestBytes: z.number().int().min(64).max(16 * 1024 * 1024).default(1024 * 1024),
  maxBufferedBytes: z.number().int().min(64).default(16 * 1024 * 1024),
  maxConnections: z.number().int().min(1).default(1024),
  maxInFlight: z.number().int().min(1).default(64),
  maxUnsentBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
});
type Parsed = z.output<typeof optionsSchema>;

/**
 * The local control API of a node process: length-prefixed JSON frames
 * (`{ id, method, params }` → `{ id, result }` or `{ id, error }`) on a Unix
 * socket, as dockerd serves the docker CLI. Every request is validated; a
 * malformed, oversized or stalled frame closes that connection and is
 * counted, never the server; unfinished frames and unsent answers are
 * bounded per connection and in all.
 */
export class ControlServer {
  readonly stats: ControlServerStats = { connections: 0, requests: 0, failed: 0, malformed: 0, stalledFrames: 0, overBudget: 0, refused: 0, overloaded: 0 };
  private readonly sockets = new Set<Socket>();
  private buffered = 0;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly o: Parsed,
  ) {}

  /**
   * Listens on the Unix socket `path`.
   * @throws InvalidOptionsError naming the bad option; ControlSocketInUseError when another process serves `path`.
   */
  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    const o = parseOptions(optionsSchema, options, 'ControlServer');
    if (existsSync(o.path)) {
      if (!lstatSync(o.path).isSocket()) throw new InvalidOptionsError('path', `ControlServer: ${o.path} exists and is not a socket`);
      if (await answers(o.path)) throw new ControlSocketInUseError(o.path);
      unlinkSync(o.path);
    }
    const server = createServer({ allowHalfOpen: false });
    const cs = new ControlServer(server, o);
    server.on('connection', (s) => cs.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(o.path, o.mode);
    server.on('error', () => undefined);
    return cs;
  }

  /** The socket path. */
  get path(): string {
    return this.o.path;
  }

  /** Bytes of unfinished frames held now, all connections together. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    if (this.closed || this.sockets.size >= this.o.maxConnections) {
      this.stats.refused++;
      socket.destroy();
      return;
    }
    this.stats.connections++;
    this.sockets.add(socket);
    const reader = new FrameReader(this.o.maxRequestBytes);
    let held = 0;
    let inFlight = 0;
    let stall: NodeJS.Timeout | undefined;
    const release = (): void => {
      this.buffered -= held;
      held = 0;
    };
    const drop = (counter: keyof ControlServerStats): void => {
      if (socket.destroyed) return;
      this.stats[counter]++;
      socket.destroy();
    };
    socket.on('close', () => {
      clearTimeout(stall);
      release();
      this.sockets.delete(socket);
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      let messages: unknown[];
      try {
        // A frame whose announced length is beyond the request cap is refused before its body arrives.
        messages = reader.push(chunk);
      } catch {
        return drop('malformed');
      }
      const now = reader.bufferedBytes;
      this.buffered += now - held;
      held = now;
      if (this.buffered > this.o.maxBufferedBytes) return drop('overBudget');
      // The clock of a frame starts with its first byte and stops when it completes: a trickle does not reset it.
      if (messages.length > 0 || now === 0) {
        clearTimeout(stall);
        stall = undefined;
      }
      if (now > 0 && stall === undefined) stall = setTimeout(() => drop('stalledFrames'), this.o.frameTimeoutMs);
      for (const m of messages) {
        const req = requestSchema.safeParse(m);
        if (!req.success) return drop('malformed');
        if (++inFlight > this.o.maxInFlight) return drop('overloaded');
        this.stats.requests++;
        void this.serve(req.data.method, req.data.params).then((response) => {
          inFlight--;
          if (socket.destroyed) return;
          if ('error' in response) this.stats.failed++;
          let frame: Buffer;
          try {
            frame = encodeFrame({ id: req.data.id, ...response } satisfies ControlResponse);
          } catch (err) {
            frame = encodeFrame({ id: req.data.id, error: controlErrorToWire(err) } satisfies ControlResponse);
          }
          socket.write(frame);
          if (socket.writableLength > this.o.maxUnsentBytes) drop('overloaded');
        });
      }
    });
  }

  private async serve(method: string, params: unknown): Promise<{ result: unknown } | { error: ReturnType<typeof controlErrorToWire> }> {
    try {
      if (method === 'hello') return { result: { protocol: CONTROL_PROTOCOL_VERSION } };
      if (!Object.prototype.hasOwnProperty.call(methodParams, method)) throw new UnknownMethodError(method);
      const m = method as ControlMethod;
      const parsed = parseOptions(methodParams[m] as z.ZodType, params ?? {}, m);
      const result = await this.o.handle(m, parsed);
      return { result: result ?? {} };
    } catch (err) {
      return { error: controlErrorToWire(err) };
    }
  }

  /** Stops listening, closes every connection and removes the socket file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.o.path);
    } catch {
      // already gone
    }
  }
}

/** Whether a process answers on the Unix socket `path` (a stale file left by a crash does not). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 1000).unref();
  });
}
