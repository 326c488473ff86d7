import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { sameSocketAddress, type SocketAddress } from '@weft/interface';

/** Counters shared by a transport's peers. */
export interface TcpStats {
  /** Messages written to a socket. */
  sent: number;
  /** Valid messages handed to the handler. */
  received: number;
  /** Messages dropped: queue full, peer unknown, or queue discarded after a connection failure. */
  dropped: number;
  /** Frames that failed to decode or validate (the connection was reset each time). */
  malformed: number;
  /** Outbound connections established (first connect included). */
  connects: number;
  /** Outbound connection attempts that failed or connections that broke. */
  connectFailures: number;
  /** Inbound connections refused: TLS peer not verified (no certificate, another CA, expired) or refused by `identify`. */
  refused: number;
  /** Inbound connections closed because the TLS handshake or the first frame did not arrive within `handshakeTimeoutMs`. */
  handshakeTimeouts: number;
  /** Inbound connections still in their handshake closed to make room for a newer one (`maxPendingHandshakes`). */
  shed: number;
  /** Inbound connections closed because a frame was not complete within `frameTimeoutMs`. */
  stalledFrames: number;
  /** Inbound connections closed because their unfinished frames would exceed `maxInboundBufferedBytes`. */
  overBudget: number;
  /** Messages dropped because their `from` is not the node the connection's certificate names. */
  impersonations: number;
  /** Outbound TLS connections closed because the server's certificate named another node (or `identify` refused it). */
  unexpectedPeers: number;
  /** Live connections closed by `recheckPeers()` (certificate expired, deny-listed, or no longer accepted). */
  revoked: number;
}

/** Every counter at zero. */
export function emptyTcpStats(): TcpStats {
  return { sent: 0, received: 0, dropped: 0, malformed: 0, connects: 0, connectFailures: 0, refused: 0, handshakeTimeouts: 0, shed: 0, stalledFrames: 0, overBudget: 0, impersonations: 0, unexpectedPeers: 0, revoked: 0 };
}

/** How outbound connections are made and accepted (plain TCP, or TLS with the server's identity checked). */
export interface PeerDialer {
  /** Opens a connection; `ready` is the event after which it may carry frames. */
  dial(address: SocketAddress): { socket: Socket; ready: 'connect' | 'secureConnect' };
  /** After `ready`: whether the server is the peer `id` (false: the connection is closed and counted). */
  accepts(socket: Socket, id: string): boolean;
  /** Whether a live connection to `id` is still acceptable (for `recheckPeers`). */
  stillAccepts(socket: Socket, id: string): boolean;
}

/** Plain TCP: no identity. */
export const plainDialer: PeerDialer = {
  dial: ({ host, port }) => ({ socket: connect({ host, port, noDelay: true }), ready: 'connect' }),
  accepts: () => true,
  stillAccepts: () => true,
};

/** TLS: the server's verified certificate must name the peer dialled. */
export function tlsDialer(current: () => { options: object; identify: (socket: TLSSocket) => string }): PeerDialer {
  const named = (socket: Socket, id: string): boolean => {
    try {
      return current().identify(socket as TLSSocket) === id;
    } catch {
      return false;
    }
  };
  return {
    dial: ({ host, port }) => {
      const socket = tlsConnect({ ...current().options, host, port });
      socket.setNoDelay(true);
      return { socket, ready: 'secureConnect' };
    },
    accepts: named,
    stillAccepts: named,
  };
}

interface PeerConfig {
  dialer: PeerDialer;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

/**
 * The outbound half of a connection to one peer: a bounded queue of encoded
 * frames, a socket, reconnect with exponential backoff, and write
 * backpressure (frames wait in the queue while the socket is not draining).
 */
export class TcpPeer {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private socket: Socket | undefined;
  private connected = false;
  private waitingDrain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private closed = false;

  constructor(
    readonly id: string,
    public address: SocketAddress,
    private readonly config: PeerConfig,
    private readonly stats: TcpStats,
    private readonly onFailure: (id: string) => void,
  ) {
    this.backoffMs = config.reconnectMinMs;
  }

  /** Queues one encoded frame (header included); the buffer is owned by the peer afterwards. */
  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.queue.length >= this.config.maxQueuedMessages || (this.queue.length > 0 && this.queuedBytes + frame.length > this.config.maxQueuedBytes)) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.connected) {
      if (!this.waitingDrain && this.queue.length === 1) queueMicrotask(() => this.flush());
    } else if (this.socket === undefined && this.retryTimer === undefined) this.dial();
  }

  /** Points the peer at a new address; the current connection is dropped and redialled. */
  setAddress(address: SocketAddress): void {
    if (sameSocketAddress(address, this.address)) return;
    this.address = address;
    this.socket?.destroy();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    this.queue = [];
    this.queuedBytes = 0;
  }

  /**
   * The peer was just heard from (an inbound connection delivered its
   * message): it is up, so a redial waiting out its backoff happens now.
   */
  nudge(): void {
    if (this.closed || this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.backoffMs = this.config.reconnectMinMs;
    this.dial();
  }

  /** Closes the live connection if the dialer no longer accepts its server; returns whether it did. */
  recheck(): boolean {
    const socket = this.socket;
    if (socket === undefined || !this.connected || this.config.dialer.stillAccepts(socket, this.id)) return false;
    socket.destroy();
    return true;
  }

  private dial(): void {
    if (this.closed) return;
    const { socket, ready } = this.config.dialer.dial(this.address);
    this.socket = socket;
    socket.setTimeout(this.config.connectTimeoutMs, () => {
      if (!this.connected) socket.destroy();
    });
    socket.on(ready, () => {
      socket.setTimeout(0);
      if (!this.config.dialer.accepts(socket, this.id)) {
        this.stats.unexpectedPeers++;
        socket.destroy();
        return;
      }
      this.connected = true;
      this.stats.connects++;
      this.backoffMs = this.config.reconnectMinMs;
      this.flush();
    });
    socket.on('drain', () => {
      this.waitingDrain = false;
      this.flush();
    });
    // Inbound data on an outbound connection is not part of the protocol: ignore it.
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => this.onClose(socket));
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    const wasConnected = this.connected;
    this.connected = false;
    this.waitingDrain = false;
    if (this.closed) return;
    this.stats.connectFailures++;
    // Messages queued for a peer that is down are stale by the time it returns: drop them.
    if (!wasConnected || this.queue.length > 0) {
      this.stats.dropped += this.queue.length;
      this.queue = [];
      this.queuedBytes = 0;
      this.onFailure(this.id);
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.config.reconnectMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, delay);
  }

  private flush(): void {
    const socket = this.socket;
    if (!this.connected || socket === undefined || this.waitingDrain || this.queue.length === 0) return;
    const frames = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    let total = 0;
    for (const f of frames) total += f.length;
    let out: Uint8Array;
    if (frames.length === 1) out = frames[0]!;
    else {
      out = Buffer.allocUnsafe(total);
      let off = 0;
      for (const f of frames) {
        out.set(f, off);
        off += f.length;
      }
    }
    this.stats.sent += frames.length;
    if (!socket.write(out)) this.waitingDrain = true;
  }
}
