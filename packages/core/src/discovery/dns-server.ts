import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { parseOptions, type DnsQuery, type DnsQueryHandler, type SocketAddress } from '@weft/interface';
import { emptyDnsCounters, type DnsServerCounters } from './dns-counters';
import { DnsServerClosedError } from './dns-errors';
import { UpstreamForwarder } from './dns-forwarder';
import { bindPair } from './dns-listener';
import { DnsResponder } from './dns-responder';
import { dnsListenSchema, dnsServerOptionsSchema, type DnsServerOptions, type ResolvedDnsServerOptions } from './dns-server-options';
import { DnsTcpSession, type DnsTcpContext } from './dns-tcp';

const WHAT = 'DnsServer';

/** One loopback listener, as {@link DnsServer.listening} reports it. */
export interface DnsListenerInfo {
  /** The network it serves (the scope of its answers). */
  readonly networkId: string;
  /** Where it is bound, UDP and TCP alike. */
  readonly address: SocketAddress;
}

interface Listener extends DnsListenerInfo {
  readonly udp: UdpSocket;
  readonly tcp: Server;
  /** Its open TCP connections. */
  readonly sessions: Set<DnsTcpSession>;
}

/**
 * The embedded DNS server of service discovery: answers the names of each
 * network from that network's {@link DnsScope} (asked on every query — no
 * record is cached, so a removed one is gone from the next answer), and
 * forwards every other name to the configured upstream resolvers.
 *
 * Queries come in two ways:
 * - from a data plane, through {@link DnsServer.handle} (a
 *   `DnsQueryHandler`: `query.networkId` is the scope);
 * - on loopback listeners for tools on the host ({@link DnsServer.listen}),
 *   each serving one network on UDP and TCP at one port.
 *
 * What is answered how is described on {@link DnsResponder}; in short:
 * internal names authoritative (AA) and never forwarded, NODATA for a missing
 * family, PTR from `scope.reverse`, REFUSED for a network not served,
 * SERVFAIL for an external name without upstream (at once: no socket, no
 * packet, no timer), UDP answers over 512 bytes (or the client's EDNS0 size,
 * up to 4096) truncated with TC, TCP answers whole. Malformed queries with a
 * readable 12-byte header get FORMERR; shorter or longer-than-65 535 ones are
 * dropped. Nothing received ever throws out of a socket handler; everything
 * is counted ({@link DnsServer.counters}).
 *
 * Construction does no I/O. `close()` releases every socket and timer.
 */
export class DnsServer {
  /** `handle`, bound: pass it to `DataPlane.setDnsHandler`. */
  readonly handler: DnsQueryHandler;
  private readonly options: ResolvedDnsServerOptions;
  private readonly stats: DnsServerCounters = emptyDnsCounters();
  private readonly forwarder: UpstreamForwarder | undefined;
  private readonly responder: DnsResponder;
  private readonly listeners: Listener[] = [];
  /** Open TCP connections over all listeners. */
  private tcpOpen = 0;
  private closed = false;

  /**
   * @throws {InvalidOptionsError} naming the first bad option (`scopeOf` is
   * required; unknown options are rejected).
   */
  constructor(options: DnsServerOptions) {
    const o = parseOptions(dnsServerOptionsSchema, options, WHAT);
    this.options = o;
    this.forwarder = o.upstreams.length === 0 ? undefined : new UpstreamForwarder(o.upstreams, o.upstreamTimeoutMs, o.timers, o.udpSocketFactory, this.stats);
    this.responder = new DnsResponder(o.scopeOf, o.ttlSeconds, this.forwarder, this.stats);
    this.handler = (query) => this.handle(query);
  }

  /**
   * Answers one query from a data plane: `query.networkId` is the scope,
   * `transport` decides truncation (`udp`: TC past 512 bytes or the EDNS0
   * size; `tcp`: whole, unframed — the plane frames it). Resolves with the
   * answer in wire format (owned by the caller) or undefined when none is to
   * be sent (an unreadable message, a response, a query during or after
   * `close()`). Never rejects. `query.message` is only read during the call.
   */
  handle(query: DnsQuery): Promise<Uint8Array | undefined> {
    try {
      const m = query.message;
      const message = Buffer.isBuffer(m) ? m : Buffer.from(m.buffer, m.byteOffset, m.byteLength);
      const r = this.responder.respond(message, query.networkId, query.transport === 'tcp' ? 'tcp' : 'udp', false);
      return r instanceof Promise ? r : Promise.resolve(r);
    } catch {
      this.stats.malformed++;
      this.stats.dropped++;
      return Promise.resolve(undefined); // not a DnsQuery at all
    }
  }

  /**
   * Serves network `networkId` on a loopback address for tools on the host
   * (`dig`, a stub resolver): UDP and TCP on the same port. Port 0 picks a
   * port free for both. A network may have several listeners.
   * @returns the bound address (the real port).
   * @throws {InvalidOptionsError} naming `host` (not 127.0.0.0/8 or ::1), `port` or `networkId`.
   * @throws {DnsBindError} when the address cannot be bound (nothing stays bound).
   * @throws {DnsServerClosedError} after `close()`.
   */
  async listen(networkId: string, at: { host: string; port: number }): Promise<SocketAddress> {
    const args = parseOptions(dnsListenSchema, { networkId, ...at }, `${WHAT}.listen`);
    if (this.closed) throw new DnsServerClosedError();
    const o = this.options;
    const ctx: DnsTcpContext = {
      respond: (message) => this.responder.respond(message, args.networkId, 'tcp', true),
      timers: o.timers,
      idleTimeoutMs: o.tcpIdleTimeoutMs,
      maxBufferBytes: o.maxTcpBufferBytes,
      counters: this.stats,
    };
    const sessions = new Set<DnsTcpSession>();
    const pair = await bindPair(args.networkId, { host: args.host, port: args.port }, this.options.udpSocketFactory, (socket) => this.accept(socket, ctx, sessions));
    const l: Listener = { networkId: args.networkId, address: pair.address, udp: pair.udp, tcp: pair.tcp, sessions };
    if (this.closed) {
      await this.closeListener(l);
      throw new DnsServerClosedError();
    }
    const { udp } = pair;
    udp.on('message', (msg: Buffer, from: RemoteInfo) => this.onDatagram(udp, args.networkId, msg, from));
    this.listeners.push(l);
    return pair.address;
  }

  /** Closes every listener of `networkId` (their TCP connections too). Resolves when they are closed; a network without listener is a no-op. */
  async unlisten(networkId: string): Promise<void> {
    const gone: Listener[] = [];
    for (let i = this.listeners.length - 1; i >= 0; i--) {
      const l = this.listeners[i] as Listener;
      if (l.networkId !== networkId) continue;
      this.listeners.splice(i, 1);
      gone.push(l);
    }
    await Promise.all(gone.map((l) => this.closeListener(l)));
  }

  /** The open listeners, in the order they were opened. */
  listening(): DnsListenerInfo[] {
    return this.listeners.map((l) => ({ networkId: l.networkId, address: l.address }));
  }

  /** A snapshot of the counters (see {@link DnsServerCounters}). */
  counters(): DnsServerCounters {
    return { ...this.stats };
  }

  /**
   * Closes every listener and TCP connection, the upstream sockets, and
   * cancels every timer; forwarded queries still in flight resolve undefined.
   * `handle` then resolves undefined and `listen` throws. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.responder.closed = true;
    this.forwarder?.close();
    const all = this.listeners.splice(0);
    await Promise.all(all.map((l) => this.closeListener(l)));
  }

  private onDatagram(udp: UdpSocket, networkId: string, msg: Buffer, from: RemoteInfo): void {
    const r = this.responder.respond(msg, networkId, 'udp', false);
    if (r === undefined) return;
    if (r instanceof Uint8Array) return send(udp, r, from);
    void r.then((answer) => {
      if (answer !== undefined && !this.closed) send(udp, answer, from);
    });
  }

  private accept(socket: Socket, ctx: DnsTcpContext, sessions: Set<DnsTcpSession>): void {
    if (this.closed || this.tcpOpen >= this.options.maxTcpConnections) {
      this.stats.tcpRejected++;
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.stats.tcpConnections++;
    this.tcpOpen++;
    sessions.add(
      new DnsTcpSession(socket, ctx, (s) => {
        sessions.delete(s);
        this.tcpOpen--;
      }),
    );
  }

  private closeListener(l: Listener): Promise<void> {
    for (const s of [...l.sessions]) s.destroy();
    return closePair(l.udp, l.tcp);
  }
}

function send(udp: UdpSocket, answer: Buffer, to: RemoteInfo): void {
  try {
    udp.send(answer, to.port, to.address);
  } catch {
    // the listener closed meanwhile
  }
}

function closePair(udp: UdpSocket, tcp: Server): Promise<void> {
  try {
    udp.close();
  } catch {
    // already closed
  }
  return new Promise((resolve) => tcp.close(() => resolve()));
}
