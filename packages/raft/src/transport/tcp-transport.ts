import { createServer, type Server, type Socket } from 'node:net';
import { MalformedPacketError, parseOptions, type SocketAddress } from '@weft/interface';
import type { Message, NodeId } from '../core/types';
import { decodeMessage, messageEncodingLength, writeMessage } from './codec/message-codec';
import { FrameDecoder, FRAME_HEADER_BYTES, writeFrameHeader } from './codec/frame';
import { peerOptionsSchema, tcpTransportOptionsSchema, type ResolvedTcpTransportOptions, type TcpTransportOptions } from './tcp-options';
import { TcpPeer, type TcpStats } from './tcp-peer';
import type { MessageHandler, Transport } from './transport';

export type { TcpStats } from './tcp-peer';
export type { TcpTransportOptions } from './tcp-options';

/**
 * Raft messages over TCP: each message is one frame (u32 big-endian length,
 * then the binary message codec). Every node listens; to send, a node opens
 * one outbound connection per peer (so each direction of a pair uses its own
 * connection). Decoded frames are validated before reaching the handler; a
 * malformed frame is counted and the connection reset. Per-peer queues are
 * bounded (drops are counted; Raft retransmits), and a broken connection is
 * redialled with exponential backoff.
 */
export class TcpTransport implements Transport {
  private handler: MessageHandler | undefined;
  private unreachable: ((peer: NodeId) => void) | undefined;
  private readonly peers = new Map<NodeId, TcpPeer>();
  private readonly inbound = new Set<Socket>();
  private readonly counters: TcpStats = { sent: 0, received: 0, dropped: 0, malformed: 0, connects: 0, connectFailures: 0 };
  private closed = false;

  private constructor(
    private readonly options: ResolvedTcpTransportOptions,
    private readonly server: Server,
    /** The address this transport listens on (the real port when 0 was asked). */
    readonly address: SocketAddress,
  ) {
    for (const [id, addr] of Object.entries(options.peers)) this.setPeer(id, addr);
  }

  /**
   * Validates `options`, starts listening and resolves once the server is bound.
   * @throws InvalidOptionsError (from `@weft/interface`, as a rejection) naming the bad field; the listen error (e.g. EADDRINUSE).
   */
  static async listen(options: TcpTransportOptions): Promise<TcpTransport> {
    const opts = parseOptions(tcpTransportOptionsSchema, options, 'TcpTransport.listen');
    const server = createServer({ noDelay: true });
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
    server.on('connection', (socket) => t.accept(socket));
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
    else this.peers.set(peer.id, new TcpPeer(peer.id, peer.address, this.options, this.counters, (p) => this.unreachable?.(p)));
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

  /** Closes the server, every inbound and outbound socket and reconnect timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.peers.values()) p.close();
    for (const s of this.inbound) s.destroy();
    this.inbound.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    const decoder = new FrameDecoder(this.options.maxFrameBytes);
    const onFrame = (payload: Uint8Array): void => {
      const m = decodeMessage(payload);
      if (m.to !== this.options.id) throw new MalformedPacketError('raft-message', `addressed to ${JSON.stringify(m.to)}, this node is ${JSON.stringify(this.options.id)}`);
      this.counters.received++;
      this.handler?.(m);
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, onFrame);
      } catch (err) {
        if (!(err instanceof MalformedPacketError)) throw err;
        this.counters.malformed++;
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.inbound.delete(socket));
  }
}
