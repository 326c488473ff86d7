import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { Underlay, UnderlayAddress } from './underlay';
import { formatAddress } from './underlay';
import { UnderlayClosedError } from './underlay-closed-error';
import { ipLiteralSchema, parseOptions } from '../options';

/** The IANA port for VXLAN (RFC 7348 §5). */
export const DEFAULT_UNDERLAY_PORT = 4789;

const udpUnderlayOptionsSchema = z.object({
  host: ipLiteralSchema.default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(DEFAULT_UNDERLAY_PORT),
  recvBufferSize: z.number().int().positive().optional(),
  sendBufferSize: z.number().int().positive().optional(),
  reuseAddr: z.boolean().default(false),
});

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
 * An {@link Underlay} on one node:dgram socket (IPv4 or IPv6).
 *
 * The outer UDP source port of everything sent is this socket's bound port:
 * a single socket cannot vary it per flow. The VTEP still computes the RFC 7348
 * flow hash and reports it (see `Vtep.onOuter`), and pcap captures of the outer
 * traffic carry it.
 */
export class UdpUnderlay implements Underlay {
  readonly local: UnderlayAddress;
  private readonly socket: Socket;
  private handler: ((packet: Uint8Array, from: UnderlayAddress) => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly stats: UdpUnderlayCounters = { sent: 0, received: 0, sendErrors: 0, handlerErrors: 0 };

  private constructor(socket: Socket, local: UnderlayAddress) {
    this.socket = socket;
    this.local = local;
    socket.on('error', () => {
      this.stats.sendErrors++;
    });
    socket.on('message', (msg: Buffer, rinfo: { address: string; port: number }) => {
      this.stats.received++;
      const handler = this.handler;
      if (handler === undefined) return;
      try {
        handler(msg, { host: rinfo.address, port: rinfo.port });
      } catch {
        this.stats.handlerErrors++;
      }
    });
  }

  /**
   * Binds a UDP socket and resolves once it is listening.
   * @throws InvalidOptionsError when an option is invalid (names the field).
   * @throws the socket's bind error (e.g. `EADDRINUSE`) when binding fails, or the
   * `setRecvBufferSize`/`setSendBufferSize` error (the socket is closed again).
   */
  static async bind(options: UdpUnderlayOptions = {}): Promise<UdpUnderlay> {
    const opts = parseOptions(udpUnderlayOptionsSchema, options, 'UdpUnderlay');
    const type: SocketType = isIP(opts.host) === 6 ? 'udp6' : 'udp4';
    const socket = createSocket({
      type,
      reuseAddr: opts.reuseAddr,
      ipv6Only: type === 'udp6' ? true : undefined,
      lookup: literalLookup as never,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    try {
      if (opts.recvBufferSize !== undefined) socket.setRecvBufferSize(opts.recvBufferSize);
      if (opts.sendBufferSize !== undefined) socket.setSendBufferSize(opts.sendBufferSize);
    } catch (err) {
      socket.close(); // the bound socket would otherwise outlive the failed bind()
      throw err;
    }
    const addr = socket.address();
    return new UdpUnderlay(socket, { host: addr.address, port: addr.port });
  }

  /** Totals since bind (a fresh copy). */
  get counters(): UdpUnderlayCounters {
    return { ...this.stats };
  }

  /**
   * Sends one datagram to `to`. Ownership of `packet` passes to the underlay.
   * Network errors are counted in `counters.sendErrors`, never thrown.
   * @throws UnderlayClosedError after `close()`.
   */
  send(packet: Uint8Array, to: UnderlayAddress): void {
    if (this.closing !== undefined) throw new UnderlayClosedError(formatAddress(this.local));
    try {
      this.socket.send(packet, to.port, to.host);
      this.stats.sent++;
    } catch {
      this.stats.sendErrors++;
    }
  }

  /** Installs the single receive handler (replacing any previous one); the handler owns `packet`. */
  onReceive(handler: (packet: Uint8Array, from: UnderlayAddress) => void): void {
    this.handler = handler;
  }

  /** Closes the socket. Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.handler = undefined;
      this.closing = new Promise<void>((resolve) => {
        try {
          // 'close' is emitted before libuv runs its close callbacks (the phase
          // after setImmediate's); two turns later the handle is gone, so a
          // resolved close() means released.
          this.socket.close(() => setImmediate(() => setImmediate(resolve)));
        } catch {
          resolve();
        }
      });
    }
    return this.closing;
  }
}
