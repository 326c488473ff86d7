import { randomInt } from 'node:crypto';
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { formatSocketAddress, parseOptions, UnderlayClosedError, type SocketAddress, type Underlay } from '@weft/interface';
import { z } from 'zod';
import { ipLiteralSchema, portSchema } from '../option-schemas';

/** The IANA port for VXLAN (RFC 7348 §5). */
export const DEFAULT_UNDERLAY_PORT = 4789;

const udpUnderlayOptionsSchema = z.object({
  host: ipLiteralSchema.default('0.0.0.0'),
  port: portSchema.default(DEFAULT_UNDERLAY_PORT),
  recvBufferSize: z.number().int().positive().optional(),
  sendBufferSize: z.number().int().positive().optional(),
  reuseAddr: z.boolean().default(false),
  sourcePorts: z.number().int().min(0).max(64).default(0),
});

/** The dynamic port range RFC 7348 §5 asks outer source ports to come from. */
export const FLOW_SOURCE_PORT_MIN = 49152;
export const FLOW_SOURCE_PORT_MAX = 65535;
/** Ports tried per pool socket before giving up (each try is one bind). */
const POOL_BIND_ATTEMPTS = 64;

/** Options of {@link UdpUnderlay.bind}. */
export interface UdpUnderlayOptions {
  /** Local IP literal to bind (IPv4 or IPv6); default `0.0.0.0`. The socket family follows it. */
  host?: string;
  /** Local UDP port; default 4789. 0 picks a free port (read it back from `local.port`). */
  port?: number;
  /** SO_RCVBUF in bytes (the kernel may double or cap it). */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes (the kernel may double or cap it). */
  sendBufferSize?: number;
  /** SO_REUSEADDR; default false. */
  reuseAddr?: boolean;
  /**
   * Number of extra sockets (0–64; default 0) bound on `host` at ports in 49152–65535, used as outer source ports
   * per flow: a datagram sent with a `flowHash` leaves from pool socket `flowHash % sourcePorts`, so one inner flow
   * always uses one source port and different flows spread over the pool (RFC 7348 §5 entropy for ECMP). The pool
   * sockets receive too (a peer that replies to the source port is heard). With 0, everything leaves from the bound port.
   */
  sourcePorts?: number;
}

/** Counters of a {@link UdpUnderlay}; all are totals since bind. */
export interface UdpUnderlayCounters {
  /** Datagrams handed to the kernel. */
  sent: number;
  /** Datagrams received. */
  received: number;
  /** Sends that failed (synchronously or reported by the socket's `error` event). */
  sendErrors: number;
  /** Exceptions thrown by the receive handler (caught so the socket keeps running). */
  handlerErrors: number;
}

// Hosts are always IP literals (validated by the caller of send or the peer
// that sent to us), so resolve them synchronously instead of going through
// dns.lookup, which costs a nextTick and a closure per datagram.
function literalLookup(
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  // dgram's lookup4/lookup6 pass the socket's family (4 or 6) as a number.
  callback(null, address, typeof family === 'number' ? family : 4);
}

/**
 * An {@link Underlay} on node:dgram (IPv4 or IPv6): one socket bound at `local`,
 * plus an optional pool of `sourcePorts` sockets in 49152–65535 that carry
 * datagrams sent with a flow hash, so each inner flow leaves from a source port
 * of its own bucket (RFC 7348 §5). Without a pool, everything leaves from the
 * bound port and {@link UdpUnderlay.sourcePortFor} is undefined.
 */
export class UdpUnderlay implements Underlay {
  readonly local: SocketAddress;
  readonly sourcePortFor?: (flowHash: number) => number;
  private readonly socket: Socket;
  private readonly pool: readonly Socket[];
  private handler: ((packet: Uint8Array, from: SocketAddress) => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly stats: UdpUnderlayCounters = { sent: 0, received: 0, sendErrors: 0, handlerErrors: 0 };

  private constructor(socket: Socket, local: SocketAddress, pool: readonly Socket[]) {
    this.socket = socket;
    this.local = local;
    this.pool = pool;
    if (pool.length > 0) {
      const ports = pool.map((p) => p.address().port);
      this.sourcePortFor = (flowHash) => ports[(flowHash >>> 0) % ports.length]!;
    }
    const onError = (): void => {
      this.stats.sendErrors++;
    };
    const onMessage = (msg: Buffer, rinfo: { address: string; port: number }): void => {
      this.stats.received++;
      const handler = this.handler;
      if (handler === undefined) return;
      try {
        handler(msg, { host: rinfo.address, port: rinfo.port });
      } catch {
        this.stats.handlerErrors++;
      }
    };
    for (const s of [socket, ...pool]) {
      s.on('error', onError);
      s.on('message', onMessage);
    }
  }

  /**
   * Binds a UDP socket and resolves once it is listening.
   * @throws InvalidOptionsError when an option is invalid (names the field).
   * @throws the socket's bind error (e.g. `EADDRINUSE`) when binding fails, the
   * `setRecvBufferSize`/`setSendBufferSize` error, or the last bind error when a pool
   * socket finds no free port in 49152–65535 after 64 tries (every socket is closed again).
   */
  static async bind(options: UdpUnderlayOptions = {}): Promise<UdpUnderlay> {
    const opts = parseOptions(udpUnderlayOptionsSchema, options, 'UdpUnderlay');
    const type: SocketType = opts.host.includes(':') ? 'udp6' : 'udp4';
    const open = (): Socket =>
      createSocket({ type, reuseAddr: opts.reuseAddr, ipv6Only: type === 'udp6' ? true : undefined, lookup: literalLookup as never });
    const socket = open();
    await bindSocket(socket, opts.port, opts.host);
    const pool: Socket[] = [];
    try {
      if (opts.recvBufferSize !== undefined) socket.setRecvBufferSize(opts.recvBufferSize);
      if (opts.sendBufferSize !== undefined) socket.setSendBufferSize(opts.sendBufferSize);
      for (let i = 0; i < opts.sourcePorts; i++) pool.push(await bindInFlowRange(open, opts.host));
    } catch (err) {
      // Bound sockets would otherwise outlive the failed bind().
      for (const s of [socket, ...pool]) s.close();
      throw err;
    }
    const addr = socket.address();
    return new UdpUnderlay(socket, { host: addr.address, port: addr.port }, pool);
  }

  /** Totals since bind (a fresh copy). */
  get counters(): UdpUnderlayCounters {
    return { ...this.stats };
  }

  /**
   * Sends one datagram to `to`, from the pool socket of `flowHash` when a pool is
   * configured (else from the bound socket). Ownership of `packet` passes to the underlay.
   * Network errors are counted in `counters.sendErrors`, never thrown.
   * @throws UnderlayClosedError after `close()`.
   */
  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void {
    this.sendOn(packet, to, flowHash);
  }

  /**
   * {@link UdpUnderlay.send}, telling whether `packet` is back in the caller's
   * hands: true when the kernel took the datagram during the call (node:dgram
   * queued nothing: `getSendQueueCount()` is 0), so no reference to its bytes
   * remains and the caller may reuse them; false when the socket holds it until
   * a later send completes, or the send failed. The VTEP uses it to let an
   * endpoint write its next frame into the same bytes (see `ReleasingUnderlay`).
   * @throws UnderlayClosedError after `close()`.
   */
  sendReleasing(packet: Uint8Array, to: SocketAddress, flowHash?: number): boolean {
    const socket = this.sendOn(packet, to, flowHash);
    return socket !== undefined && socket.getSendQueueCount() === 0;
  }

  /** Sends from the socket of `flowHash`; returns that socket, or undefined when the send failed (counted). */
  private sendOn(packet: Uint8Array, to: SocketAddress, flowHash: number | undefined): Socket | undefined {
    if (this.closing !== undefined) throw new UnderlayClosedError(`udp ${formatSocketAddress(this.local)}`);
    const pool = this.pool;
    const socket = flowHash === undefined || pool.length === 0 ? this.socket : pool[(flowHash >>> 0) % pool.length]!;
    try {
      socket.send(packet, to.port, to.host);
      this.stats.sent++;
      return socket;
    } catch {
      this.stats.sendErrors++;
      return undefined;
    }
  }

  /** Installs the single receive handler (replacing any previous one); the handler owns `packet`. */
  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.handler = handler;
  }

  /** Closes the socket and any pool sockets. Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.handler = undefined;
      this.closing = new Promise<void>((resolve) => {
        try {
          // 'close' is emitted before libuv runs its close callbacks (the phase
          // after setImmediate's); two turns later the handle is gone, so a
          // resolved close() means released.
          const sockets = [this.socket, ...this.pool];
          let open = sockets.length;
          const closed = (): void => {
            if (--open === 0) setImmediate(() => setImmediate(resolve));
          };
          for (const s of sockets) s.close(closed);
        } catch {
          resolve();
        }
      });
    }
    return this.closing;
  }
}

function bindSocket(socket: Socket, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** A new socket bound on `host` at a free port in 49152–65535, probing from a random start. */
async function bindInFlowRange(open: () => Socket, host: string): Promise<Socket> {
  const span = FLOW_SOURCE_PORT_MAX - FLOW_SOURCE_PORT_MIN + 1;
  const start = randomInt(span);
  let last: unknown;
  for (let i = 0; i < POOL_BIND_ATTEMPTS; i++) {
    const socket = open();
    try {
      await bindSocket(socket, FLOW_SOURCE_PORT_MIN + ((start + i) % span), host);
      return socket;
    } catch (err) {
      last = err; // bindSocket closed it
    }
  }
  throw last;
}
