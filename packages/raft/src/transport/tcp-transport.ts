import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { MalformedPacketError, parseOptions, type SocketAddress } from '@weft/interface';
import { TransportError } from './errors';
import type { Message, NodeId } from '../core/types';
import { decodeMessage, messageEncodingLength, writeMessage } from './codec/message-codec';
import { FrameDecoder, FRAME_HEADER_BYTES, writeFrameHeader } from './codec/frame';
import { peerOptionsSchema, tcpTransportOptionsSchema, type ResolvedTcpTransportOptions, type TcpTransportOptions, type TransportTls } from './tcp-options';
import { TcpPeer, emptyTcpStats, plainDialer, tlsDialer, type PeerDialer, type TcpStats } from './tcp-peer';
import type { MessageHandler, Transport } from './transport';

export type { TcpStats } from './tcp-peer';
export type { TcpTransportOptions, TransportTls } from './tcp-options';

/** An inbound connection: its socket, the node its certificate names (TLS), its frame decoder. */
interface Inbound {
  readonly socket: Socket;
  readonly peerId: NodeId | undefined;
  readonly decoder: FrameDecoder;
}

/**
 * Raft messages over TCP: each message is one frame (u32 big-endian length,
 * then the binary message codec). Every node listens; to send, a node opens
 * one outbound connection per peer (so each direction of a pair uses its own
 * connection). Decoded frames are validated before reaching the handler; a
 * malformed frame is counted and the connection reset. Per-peer queues are
 * bounded (drops are counted; Raft retransmits), and a broken connection is
 * redialled with exponential backoff.
 *
 * With `tls`, every connection is mutual TLS and bound to the node its
 * certificate names: an inbound message whose `from` is another node is
 * dropped and counted, and an outbound connection is used only when the
 * server is the peer dialled. Listening ports defend themselves: a TLS
 * handshake or first frame that does not arrive within `handshakeTimeoutMs`,
 * a frame not finished within `frameTimeoutMs`, or unfinished frames beyond
 * `maxInboundBufferedBytes` across all connections close that connection
 * (counted), never the transport.
 */
export class TcpTransport implements Transport {
  private handler: MessageHandler | undefined;
  private unreachable: ((peer: NodeId) => void) | undefined;
  private readonly peers = new Map<NodeId, TcpPeer>();
  /** Accepted connections (TLS: after the handshake and `identify`). */
  private readonly inbound = new Set<Inbound>();
  /** Every raw inbound socket, from TCP accept to close (TLS handshakes included), to destroy on close. */
  private readonly raw = new Set<Socket>();
  /** Raw inbound sockets whose TLS handshake (TLS) or first frame (plain TCP) has not arrived, by remote address and port. */
  private readonly pending = new Map<string, Socket>();
  private readonly counters: TcpStats = emptyTcpStats();
  private inboundBuffered = 0;
  private closed = false;
  private tls: TransportTls | undefined;
  private readonly dialer: PeerDialer;

  private constructor(
    private readonly options: ResolvedTcpTransportOptions,
    private readonly server: Server,
    /** The address this transport listens on (the real port when 0 was asked). */
    readonly address: SocketAddress,
  ) {
    this.tls = options.tls as TransportTls | undefined;
    this.dialer = this.tls === undefined ? plainDialer : tlsDialer(() => this.tls!);
    for (const [id, addr] of Object.entries(options.peers)) this.setPeer(id, addr);
  }

  /**
   * Validates `options`, starts listening and resolves once the server is bound.
   * @throws InvalidOptionsError (from `@weft/interface`, as a rejection) naming the bad field; the listen error (e.g. EADDRINUSE).
   */
  static async listen(options: TcpTransportOptions): Promise<TcpTransport> {
    const opts = parseOptions(tcpTransportOptionsSchema, options, 'TcpTransport.listen');
    const tls = opts.tls as TransportTls | undefined;
    // The server checks `authorized` itself (instead of letting node:tls drop unverified clients silently), so every refusal is counted.
    const server: Server =
      tls === undefined
        ? createServer({ noDelay: true })
        : createTlsServer({ ...tls.options, requestCert: true, rejectUnauthorized: false, handshakeTimeout: opts.handshakeTimeoutMs, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : opts.port;
    const t = new TcpTransport(opts, server, { host: opts.host, port });
    server.on('connection', (socket: Socket) => t.track(socket));
    if (tls === undefined) server.on('connection', (socket: Socket) => t.accept(socket, undefined));
    else {
      server.on('secureConnection', (socket: TLSSocket) => t.acceptTls(socket));
      server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
        if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') t.counters.handshakeTimeouts++;
        // A reset is a hang-up mid-handshake (by the peer, or ours when shedding, already counted), not a refusal.
        else if (err.code !== 'ECONNRESET') t.counters.refused++;
        socket.destroy();
      });
    }
    return t;
  }

  /** This node's id (messages addressed elsewhere are malformed). */
  get localId(): NodeId {
    return this.options.id;
  }

  /**
   * Adds a peer or changes its address (`{ host, port }` or "host:port").
   * @throws InvalidOptionsError (from `@weft/interface`; field `id` or `address`) for an empty id or a bad address.
   */
  setPeer(id: NodeId, address: SocketAddress | string): void {
    const peer = parseOptions(peerOptionsSchema, { id, address }, 'TcpTransport.setPeer');
    const existing = this.peers.get(peer.id);
    if (existing) existing.setAddress(peer.address);
    else this.peers.set(peer.id, new TcpPeer(peer.id, peer.address, { ...this.options, dialer: this.dialer }, this.counters, (p) => this.unreachable?.(p)));
  }

  /** Forgets a peer and closes its connection. */
  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  /** The peer's configured address, or undefined for an unknown peer. */
  addressOf(peer: NodeId): SocketAddress | undefined {
    return this.peers.get(peer)?.address;
  }

  /** A copy of the counters. */
  stats(): TcpStats {
    return { ...this.counters };
  }

  /**
   * Encodes each message into a frame and queues it for its peer; messages to
   * unknown peers, larger than `maxFrameBytes`, or beyond a full queue are
   * dropped and counted. Never throws for network conditions.
   */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.counters.dropped++;
        continue;
      }
      const len = messageEncodingLength(m);
      if (len > this.options.maxFrameBytes) {
        this.counters.dropped++;
        continue;
      }
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len);
      writeFrameHeader(frame, 0, len);
      writeMessage(m, frame, FRAME_HEADER_BYTES);
      peer.send(frame);
    }
  }

  /** Sets the handler for decoded, validated messages addressed to this node. */
  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** Sets the handler told when a peer's connection fails (its queued messages were dropped). */
  onUnreachable(handler: (peer: NodeId) => void): void {
    this.unreachable = handler;
  }

  /**
   * Replaces the TLS credentials (a renewed certificate, a new CA bundle):
   * handshakes from now on, in both directions, use them; live connections
   * are kept (call {@link TcpTransport.recheckPeers} to re-judge them).
   * @throws TransportError when the transport was started without TLS.
   */
  setTls(tls: TransportTls): void {
    if (this.tls === undefined) throw new TransportError('setTls: this transport was started without TLS');
    const parsed = parseOptions(tcpTransportOptionsSchema, { id: this.options.id, tls }, 'TcpTransport.setTls').tls as TransportTls;
    this.tls = parsed;
    (this.server as TlsServer).setSecureContext(parsed.options);
  }

  /**
   * Re-judges every live connection with the current `identify` (a peer's
   * certificate expired or deny-listed since its handshake): those no longer
   * accepted are closed and counted (`revoked`); outbound ones redial.
   * Returns how many were closed. No-op without TLS.
   */
  recheckPeers(): number {
    const tls = this.tls;
    if (tls === undefined) return 0;
    let closed = 0;
    for (const c of [...this.inbound]) {
      let ok: boolean;
      try {
        ok = tls.identify(c.socket as TLSSocket) === c.peerId;
      } catch {
        ok = false;
      }
      if (!ok) {
        closed++;
        c.socket.destroy();
      }
    }
    for (const p of this.peers.values()) if (p.recheck()) closed++;
    this.counters.revoked += closed;
    return closed;
  }

  /** Bytes of unfinished frames held for inbound connections now. */
  get bufferedBytes(): number {
    return this.inboundBuffered;
  }

  /** Inbound connections open now (TLS handshakes in progress included). */
  get inboundConnections(): number {
    return this.raw.size;
  }

  /** Closes the server, every inbound and outbound socket and reconnect timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.peers.values()) p.close();
    for (const c of this.inbound) c.socket.destroy();
    for (const s of this.raw) s.destroy();
    this.inbound.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Every inbound TCP connection, from accept: destroyed on close; TLS ones must finish their handshake in time (node:tls times them out). */
  private track(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    if (this.pending.size >= this.options.maxPendingHandshakes) {
      // Unauthenticated connections cost memory (a TLS handshake about 50 KB), so their number is capped: the
      // oldest goes. An honest handshake takes milliseconds, so only a flood within those milliseconds can evict it.
      const [oldestKey, oldest] = this.pending.entries().next().value as [string, Socket];
      this.pending.delete(oldestKey);
      this.counters.shed++;
      oldest.destroy();
    }
    const key = remoteKey(socket);
    this.raw.add(socket);
    this.pending.set(key, socket);
    socket.on('close', () => {
      this.raw.delete(socket);
      if (this.pending.get(key) === socket) this.pending.delete(key);
    });
  }

  /** The connection `socket` (a TLS socket, or the raw one) came on is past its handshake. */
  private settled(socket: Socket): void {
    const key = remoteKey(socket);
    const raw = this.pending.get(key);
    if (raw !== undefined && (raw === socket || this.tls !== undefined)) this.pending.delete(key);
  }

  private acceptTls(socket: TLSSocket): void {
    this.settled(socket);
    const tls = this.tls!;
    let peerId: NodeId | undefined;
    try {
      if (socket.authorized) peerId = tls.identify(socket);
    } catch {
      peerId = undefined;
    }
    if (peerId === undefined) {
      this.counters.refused++;
      socket.destroy();
      return;
    }
    this.accept(socket, peerId);
  }

  private accept(socket: Socket, peerId: NodeId | undefined): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const conn: Inbound = { socket, peerId, decoder: new FrameDecoder(this.options.maxFrameBytes) };
    const { decoder } = conn;
    this.inbound.add(conn);
    let held = 0;
    let gotFrame = false;
    let frameTimer: NodeJS.Timeout | undefined;
    const firstTimer = setTimeout(() => {
      if (gotFrame) return;
      this.counters.handshakeTimeouts++;
      socket.destroy();
    }, this.options.handshakeTimeoutMs);
    firstTimer.unref();
    const onFrame = (payload: Uint8Array): void => {
      if (!gotFrame && peerId === undefined) this.settled(socket);
      gotFrame = true;
      const m = decodeMessage(payload);
      if (m.to !== this.options.id) throw new MalformedPacketError('raft-message', `addressed to ${JSON.stringify(m.to)}, this node is ${JSON.stringify(this.options.id)}`);
      if (peerId !== undefined && m.from !== peerId) {
        this.counters.impersonations++;
        return;
      }
      this.counters.received++;
      // A peer we hear from is up: if our connection to it is waiting out a backoff, redial now (a restarted node rejoins at once).
      this.peers.get(m.from)?.nudge();
      this.handler?.(m);
    };
    const hold = (bytes: number): void => {
      this.inboundBuffered += bytes - held;
      held = bytes;
    };
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      try {
        decoder.push(chunk, onFrame);
      } catch (err) {
        if (!(err instanceof MalformedPacketError)) throw err;
        this.counters.malformed++;
        socket.destroy();
        return;
      }
      if (this.inboundBuffered - held + decoder.bufferedBytes > this.options.maxInboundBufferedBytes) {
        // Unfinished frames across connections past the budget: this connection goes (its bytes with it).
        this.counters.overBudget++;
        socket.destroy();
        return;
      }
      hold(decoder.bufferedBytes);
      if (decoder.bufferedBytes === 0) {
        if (frameTimer !== undefined) clearTimeout(frameTimer);
        frameTimer = undefined;
      } else if (frameTimer === undefined) {
        frameTimer = setTimeout(() => {
          this.counters.stalledFrames++;
          socket.destroy();
        }, this.options.frameTimeoutMs);
        frameTimer.unref();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(firstTimer);
      if (frameTimer !== undefined) clearTimeout(frameTimer);
      hold(0);
      this.inbound.delete(conn);
    });
  }
}

function remoteKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}
