/**
 * Client for bench/raft/node-process.ts: newline-delimited JSON requests over
 * one TCP connection, many in flight, answered by id.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface KvResponse {
  id: number;
  ok: boolean;
  error?: string;
  message?: string;
  leaderId?: string;
  leaderClient?: string;
  revision?: number;
  value?: string | null;
  status?: { role: string; leaderId: string | null; term: number; commitIndex: number; appliedIndex: number };
}

/** A connection failed or closed before the answer came: the outcome is unknown. */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError';
}

export class KvClient {
  private nextId = 1;
  private buffered = '';
  private readonly pending = new Map<number, { resolve: (r: KvResponse) => void; reject: (e: Error) => void }>();
  private closed = false;
  /** Requests made in the same turn, written together. */
  private out = '';

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const res = JSON.parse(this.buffered.slice(0, nl)) as KvResponse;
        this.buffered = this.buffered.slice(nl + 1);
        const p = this.pending.get(res.id);
        this.pending.delete(res.id);
        p?.resolve(res);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new ConnectionLostError('connection closed'));
      this.pending.clear();
    });
  }

  /** Connects to "host:port" (over TLS with `tls`: a node serving with NodeProcessConfig.tls); rejects after `timeoutMs`. */
  static connect(address: string, timeoutMs = 2000, tls?: ConnectionOptions): Promise<KvClient> {
    const i = address.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const target = { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
      const socket: Socket = tls === undefined ? connect(target) : tlsConnect({ ...tls, ...target });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionLostError(`connect to ${address} timed out`));
      }, timeoutMs);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        resolve(new KvClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConnectionLostError(`connect to ${address}: ${err.message}`));
      });
    });
  }

  /** Local TCP port of the connection (how a trace tells this client's socket apart). */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** The TLS socket when connected with `tls` (to read what was negotiated), else undefined. */
  get tlsSocket(): TLSSocket | undefined {
    return 'getProtocol' in this.socket ? (this.socket as TLSSocket) : undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one request; rejects with ConnectionLostError if the connection dies or `timeoutMs` passes. */
  request(req: { op: 'put' | 'get' | 'status'; key?: string; value?: string }, timeoutMs = 5000): Promise<KvResponse> {
    if (this.closed) return Promise.reject(new ConnectionLostError('connection closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ConnectionLostError(`request ${id} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (this.out === '') {
        setImmediate(() => {
          const data = this.out;
          this.out = '';
          if (!this.socket.destroyed) this.socket.write(data);
        });
      }
      this.out += JSON.stringify({ id, ...req }) + '\n';
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
