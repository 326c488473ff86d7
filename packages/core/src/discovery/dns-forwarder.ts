import { randomFillSync } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import type { SocketAddress } from '@weft/interface';
import type { DnsServerCounters } from './dns-counters';
import type { DnsUpstream, DnsTransport } from './dns-responder';
import type { DnsTimers, UdpSocketFactory } from './dns-server-options';
import { DnsFrameDecoder } from './dns-tcp';

/** Queries forwarded and not yet answered, over all clients; beyond this the next external query is SERVFAIL at once. */
export const MAX_PENDING_FORWARDS = 4096;

interface PendingForward {
  /** The id the query carries upstream. */
  readonly id: number;
  readonly clientId: number;
  /** The query as sent upstream (a copy, upstream id in it). */
  readonly message: Buffer;
  readonly transport: DnsTransport;
  /** Index of the upstream being tried. */
  index: number;
  /** Bumped on every attempt, so a stale callback of an earlier one is ignored. */
  attempt: number;
  timer: unknown;
  tcp: TcpSocket | undefined;
  readonly resolve: (answer: Buffer | undefined) => void;
}

/**
 * Forwards external queries to upstream resolvers over UDP, one upstream
 * after the other: each gets `timeoutMs` to answer before the next is tried;
 * when all fail the query resolves undefined (the server answers SERVFAIL).
 *
 * One UDP socket per address family, created on the first forward through
 * the factory (so with no forward, none ever is) and bound by its first send.
 * Each forwarded query carries a fresh random id (`node:crypto`), and an
 * answer is accepted only with that id, QR set, from an upstream already
 * tried for it. The client's id is written back before the answer is handed
 * on. When the client asked over TCP and the UDP answer is truncated (TC), the
 * same upstream is asked again over TCP (within the same timeout) so the
 * client gets the whole answer.
 */
export class UpstreamForwarder implements DnsUpstream {
  private readonly pending = new Map<number, PendingForward>();
  private readonly sockets: { udp4?: Socket; udp6?: Socket } = {};
  private readonly ids = new Uint16Array(256);
  private nextId = this.ids.length;
  private closed = false;

  constructor(
    private readonly upstreams: readonly SocketAddress[],
    private readonly timeoutMs: number,
    private readonly timers: DnsTimers,
    private readonly createSocket: UdpSocketFactory,
    private readonly counters: DnsServerCounters,
  ) {}

  /** Forwards `message` (copied during the call); see {@link DnsUpstream.forward}. */
  forward(message: Buffer, transport: DnsTransport): Promise<Buffer | undefined> {
    if (this.closed || this.pending.size >= MAX_PENDING_FORWARDS || this.upstreams.length === 0) return Promise.resolve(undefined);
    let id = this.randomId();
    while (this.pending.has(id)) id = this.randomId();
    const copy = Buffer.from(message);
    const clientId = copy.readUInt16BE(0);
    copy.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const p: PendingForward = { id, clientId, message: copy, transport, index: 0, attempt: 0, timer: undefined, tcp: undefined, resolve };
      this.pending.set(id, p);
      this.sendUdp(p);
    });
  }

  /** Resolves every pending query with undefined, cancels their timers, closes the sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) this.finish(p, undefined);
    for (const s of [this.sockets.udp4, this.sockets.udp6]) {
      if (s === undefined) continue;
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  private randomId(): number {
    if (this.nextId >= this.ids.length) {
      randomFillSync(this.ids);
      this.nextId = 0;
    }
    return this.ids[this.nextId++] as number;
  }

  private socketFor(host: string): Socket {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    let s = this.sockets[type];
    if (s === undefined) {
      s = this.createSocket(type);
      s.on('message', (msg: Buffer, from: RemoteInfo) => this.onMessage(msg, from));
      s.on('error', () => this.counters.upstreamErrors++);
      this.sockets[type] = s;
    }
    return s;
  }

  private sendUdp(p: PendingForward): void {
    const up = this.upstreams[p.index] as SocketAddress;
    const attempt = ++p.attempt;
    p.timer = this.timers.setTimeout(() => this.timedOut(p, attempt), this.timeoutMs);
    const failed = (): void => {
      if (p.attempt !== attempt || this.pending.get(p.id) !== p) return;
      this.counters.upstreamErrors++;
      this.timers.clearTimeout(p.timer);
      this.advance(p);
    };
    try {
      this.socketFor(up.host).send(p.message, up.port, up.host, (err) => {
        if (err) failed();
      });
    } catch {
      failed();
    }
  }

  private onMessage(msg: Buffer, from: RemoteInfo): void {
    if (msg.length < 12 || !((msg[2] as number) & 0x80)) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (p === undefined || p.tcp !== undefined) return;
    let tried = -1;
    for (let i = 0; i <= p.index; i++) {
      const up = this.upstreams[i] as SocketAddress;
      if (up.port === from.port && up.host === from.address) tried = i;
    }
    if (tried < 0) return;
    if (p.transport === 'tcp' && (msg[2] as number) & 0x02) {
      // Truncated, and the client can take the whole answer: ask that upstream over TCP.
      this.timers.clearTimeout(p.timer);
      p.index = tried;
      return this.sendTcp(p);
    }
    this.finish(p, msg);
  }

  private sendTcp(p: PendingForward): void {
    const up = this.upstreams[p.index] as SocketAddress;
    const attempt = ++p.attempt;
    const sock = connect({ host: up.host, port: up.port });
    p.tcp = sock;
    const drop = (): void => {
      sock.destroy();
      if (p.tcp === sock) p.tcp = undefined;
    };
    p.timer = this.timers.setTimeout(() => {
      drop();
      this.timedOut(p, attempt);
    }, this.timeoutMs);
    const frame = Buffer.allocUnsafe(p.message.length + 2);
    frame.writeUInt16BE(p.message.length, 0);
    p.message.copy(frame, 2);
    sock.setNoDelay(true);
    sock.write(frame);
    const decoder = new DnsFrameDecoder();
    sock.on('data', (chunk: Buffer) => {
      if (p.attempt !== attempt) return drop();
      decoder.push(chunk);
      const answer = decoder.next();
      if (answer === undefined) return;
      drop();
      if (answer.length >= 12 && answer.readUInt16BE(0) === p.id && (answer[2] as number) & 0x80) this.finish(p, Buffer.from(answer));
      else this.failed(p, attempt);
    });
    sock.on('error', () => {
      drop();
      this.failed(p, attempt);
    });
    sock.on('close', () => {
      if (p.tcp === sock) p.tcp = undefined;
      this.failed(p, attempt);
    });
  }

  /** The current attempt failed (socket error, bad answer): next upstream. */
  private failed(p: PendingForward, attempt: number): void {
    if (p.attempt !== attempt || this.pending.get(p.id) !== p) return;
    this.counters.upstreamErrors++;
    this.timers.clearTimeout(p.timer);
    this.advance(p);
  }

  private timedOut(p: PendingForward, attempt: number): void {
    if (p.attempt !== attempt || this.pending.get(p.id) !== p) return;
    this.counters.upstreamTimeouts++;
    this.advance(p);
  }

  private advance(p: PendingForward): void {
    p.index++;
    if (p.tcp !== undefined) {
      p.tcp.destroy();
      p.tcp = undefined;
    }
    if (this.closed || p.index >= this.upstreams.length) this.finish(p, undefined);
    else this.sendUdp(p);
  }

  private finish(p: PendingForward, answer: Buffer | undefined): void {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    p.attempt++;
    this.timers.clearTimeout(p.timer);
    p.timer = undefined;
    if (p.tcp !== undefined) {
      p.tcp.destroy();
      p.tcp = undefined;
    }
    if (answer !== undefined) answer.writeUInt16BE(p.clientId, 0);
    p.resolve(answer);
  }
}
