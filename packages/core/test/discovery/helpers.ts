/** Fixtures of the DNS server tests: a hand-made scope, query builders, fake timers, a fake upstream resolver. */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet, RecordType } from 'dns-packet';
import type { SocketAddress } from '@weft/interface';
import type { DnsNameRecords, DnsScope, DnsScopeOf } from '../../src/discovery/dns-scope';
import type { DnsTimers } from '../../src/discovery/dns-server-options';
import { DnsServer } from '../../src/discovery/dns-server';
import type { DnsServerOptions } from '../../src/discovery/dns-server-options';

/** `n` addresses 10.2.x.y. */
export function manyIpv4(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.2.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}

const rec = (ipv4: string[], ipv6: string[] = [], rotate = false): DnsNameRecords => ({ ipv4, ipv6, rotate });

/**
 * A network's scope held in plain maps, as a test wants it: names (with
 * aliases sharing records), reverse entries inside 10.0.1.0/24 and fd00::/64
 * (unnamed addresses there → `[]`), everything else external. Counts lookups.
 */
export class TestScope implements DnsScope {
  readonly names = new Map<string, DnsNameRecords>();
  readonly ptr = new Map<string, string[]>();
  readonly asked: string[] = [];
  throwOn: string | undefined;

  constructor(readonly networkId: string) {
    const web = rec(['10.0.1.2']);
    this.names.set('web', web);
    this.names.set('www', web); // alias
    const db = rec(['10.0.1.3'], ['fd00::3']);
    this.names.set('db', db);
    this.names.set('db-alias', db);
    this.names.set('database.prod', db); // alias with a dot
    this.names.set('svc', rec(['10.0.1.10', '10.0.1.11', '10.0.1.12'], ['fd00::10', 'fd00::11'], true));
    this.names.set('tasks.svc', rec(['10.0.1.21', '10.0.1.22', '10.0.1.23']));
    this.names.set('v6only', rec([], ['fd00::9']));
    this.names.set('tasks.big', rec(manyIpv4(200)));
    this.ptr.set('10.0.1.2', ['web']);
    this.ptr.set('10.0.1.3', ['db', 'db-alias']);
    this.ptr.set('fd00::3', ['db']);
  }

  lookup(name: string): DnsNameRecords | undefined {
    this.asked.push(name);
    if (this.throwOn === name) throw new Error('scope broke');
    return this.names.get(name);
  }

  reverse(ip: string): readonly string[] | undefined {
    this.asked.push(`reverse:${ip}`);
    if (ip.startsWith('10.0.1.') || ip.startsWith('fd00::')) return this.ptr.get(ip) ?? [];
    return undefined;
  }
}

/** A scopeOf serving `net1` (and `net2`, with only `other`). */
export function testScopes(): { scopeOf: DnsScopeOf; net1: TestScope; net2: TestScope } {
  const net1 = new TestScope('net1');
  const net2 = new TestScope('net2');
  net2.names.clear();
  net2.ptr.clear();
  net2.names.set('other', rec(['10.0.2.2']));
  const scopeOf: DnsScopeOf = (id) => (id === 'net1' ? net1 : id === 'net2' ? net2 : undefined);
  return { scopeOf, net1, net2 };
}

export interface QueryOptions {
  id?: number;
  /** Header flags (dns-packet: 15 bits); default RD. */
  flags?: number;
  /** Add an OPT record with this UDP payload size. */
  edns?: number;
  ednsVersion?: number;
  klass?: 'IN' | 'CH' | 'ANY';
}

/** A query in wire format. */
export function query(name: string, type: RecordType | 'ANY', o: QueryOptions = {}): Buffer {
  const packet: Packet = {
    id: o.id ?? 0x1234,
    type: 'query',
    flags: o.flags ?? dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as RecordType, class: o.klass ?? 'IN' }],
  };
  if (o.edns !== undefined) packet.additionals = [{ name: '.', type: 'OPT', udpPayloadSize: o.edns, extendedRcode: 0, ednsVersion: o.ednsVersion ?? 0, flags: 0, flag_do: false, options: [] }];
  return dnsPacket.encode(packet);
}

/** A decoded answer, with the rcode as a string (`NOERROR`, `NXDOMAIN`, …). */
export type Reply = DecodedPacket & { rcode: string };

/** Decodes an answer (fails the test when there is none). */
export function decode(bytes: Uint8Array | undefined): Reply {
  if (bytes === undefined) throw new Error('expected an answer, got none');
  return dnsPacket.decode(Buffer.from(bytes)) as Reply;
}

/** The `data` of the answers of type `type`. */
export function dataOf(reply: Reply, type = 'A'): unknown[] {
  return (reply.answers ?? []).filter((a) => a.type === type).map((a) => (a as { data: unknown }).data);
}

/** Timers that only run when told: records every call. */
export class ManualTimers implements DnsTimers {
  private seq = 0;
  readonly scheduled = new Map<number, { callback: () => void; ms: number }>();
  setCalls = 0;
  setTimeout = (callback: () => void, ms: number): unknown => {
    this.setCalls++;
    const h = ++this.seq;
    this.scheduled.set(h, { callback, ms });
    return h;
  };
  clearTimeout = (handle: unknown): void => {
    this.scheduled.delete(handle as number);
  };
  /** Runs every timer scheduled now (not those they schedule). */
  fireAll(): number {
    const due = [...this.scheduled];
    for (const [h, t] of due) {
      this.scheduled.delete(h);
      t.callback();
    }
    return due.length;
  }
}

/** Servers to close after each test, whatever happened. */
export class ServerRegistry {
  private readonly servers: DnsServer[] = [];
  private readonly others: Array<() => Promise<void> | void> = [];
  create(options: DnsServerOptions): DnsServer {
    const s = new DnsServer(options);
    this.servers.push(s);
    return s;
  }
  onCleanup(fn: () => Promise<void> | void): void {
    this.others.push(fn);
  }
  async closeAll(): Promise<void> {
    const servers = this.servers.splice(0);
    const others = this.others.splice(0);
    await Promise.allSettled([...servers.map((s) => s.close()), ...others.map(async (f) => f())]);
  }
}

/** What a fake upstream does with a query: answer this packet (id and question filled in), or stay silent. */
export type UpstreamBehaviour = (q: DecodedPacket, via: 'udp' | 'tcp') => Packet | 'silent';

/**
 * A tiny DNS resolver on 127.0.0.1 (node:dgram + dns-packet, and TCP on the
 * same port) that answers as told and records what it received.
 */
export class FakeUpstream {
  readonly received: Array<{ packet: DecodedPacket; via: 'udp' | 'tcp'; from: number }> = [];
  private constructor(
    private readonly udp: Socket,
    private readonly tcp: Server,
    readonly address: SocketAddress,
  ) {}

  /**
   * A fake upstream on one port for UDP and TCP. The kernel picks a free UDP port; the same TCP
   * port may be taken (by a test running beside this one), so that case picks again (bounded).
   */
  static async start(behaviour: UpstreamBehaviour): Promise<FakeUpstream> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await FakeUpstream.startOnce(behaviour);
      } catch (err) {
        if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      }
    }
  }

  private static async startOnce(behaviour: UpstreamBehaviour): Promise<FakeUpstream> {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const conns = new Set<TcpSocket>();
    const tcp = createServer((sock) => {
      conns.add(sock);
      sock.on('close', () => conns.delete(sock));
      sock.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          const out = up.answer(msg, 'tcp', 0);
          if (out) sock.write(Buffer.concat([Buffer.from([out.length >> 8, out.length & 0xff]), out]));
        }
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    const up: FakeUpstream = new FakeUpstream(udp, tcp, { host: '127.0.0.1', port });
    up.behaviour = behaviour;
    up.closeConns = () => conns.forEach((c) => c.destroy());
    udp.on('message', (msg: Buffer, from: RemoteInfo) => {
      const out = up.answer(msg, 'udp', from.port);
      if (out) udp.send(out, from.port, from.address);
    });
    return up;
  }

  private behaviour: UpstreamBehaviour = () => 'silent';
  private closeConns: () => void = () => undefined;

  private answer(msg: Buffer, via: 'udp' | 'tcp', from: number): Buffer | undefined {
    const packet = dnsPacket.decode(msg);
    this.received.push({ packet, via, from });
    const r = this.behaviour(packet, via);
    if (r === 'silent') return undefined;
    return dnsPacket.encode({ id: packet.id, type: 'response', questions: packet.questions, ...r });
  }

  /** Sends raw bytes from the upstream's own UDP socket (to forge late or wrong answers). */
  sendRaw(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve) => this.udp.send(bytes, port, '127.0.0.1', () => resolve()));
  }

  async close(): Promise<void> {
    this.closeConns();
    this.udp.close();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

/** Sends `message` over UDP to `to` and resolves with the first datagram back (rejects after `timeoutMs`). */
export async function udpAsk(to: SocketAddress, message: Uint8Array, timeoutMs = 2000): Promise<Buffer> {
  const sock = createSocket(to.host.includes(':') ? 'udp6' : 'udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no UDP answer from ${to.host}:${to.port} within ${timeoutMs} ms`)), timeoutMs);
      sock.on('message', (msg: Buffer) => {
        clearTimeout(timer);
        resolve(msg);
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.send(message, to.port, to.host);
    });
  } finally {
    sock.close();
  }
}

/** `message` with its 2-byte length prefix. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(message.length + 2);
  out.writeUInt16BE(message.length, 0);
  out.set(message, 2);
  return out;
}

/** A DNS-over-TCP test client: writes raw bytes, collects whole answers (parsed independently of the server's decoder). */
export class TcpClient {
  readonly answers: Buffer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: TcpSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const n = this.buf.readUInt16BE(0);
        this.answers.push(Buffer.from(this.buf.subarray(2, 2 + n)));
        this.buf = this.buf.subarray(2 + n);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(to: SocketAddress): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: to.host, port: to.port });
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(new TcpClient(sock));
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Resolves when `n` answers have come (or rejects when the connection closes first / after `timeoutMs`). */
  async answersOf(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.answers.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.answers.length} of ${n} answers`);
      if (Date.now() > deadline) throw new Error(`${this.answers.length} of ${n} answers within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.answers.slice(0, n);
  }

  /** Resolves when the server has closed the connection (rejects after `timeoutMs`). */
  async closedBy(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters.splice(0);
    for (const f of w) f();
  }
}
