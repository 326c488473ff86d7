/** Loopback listeners: UDP and TCP on one port, per network; TCP framing, pipelining and its bounds (connections, idle, buffers); close. */
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:net';
import type { SocketAddress } from '@weft/interface';
import { DnsBindError, DnsServerClosedError } from '../../src/discovery/dns-errors';
import type { DnsServerOptions } from '../../src/discovery/dns-server-options';
import { DnsFrameDecoder } from '../../src/discovery/dns-tcp';
import { dataOf, decode, frame, ManualTimers, query, ServerRegistry, TcpClient, testScopes, udpAsk } from './helpers';

const registry = new ServerRegistry();
afterEach(() => registry.closeAll());

const LOCAL = { host: '127.0.0.1', port: 0 };

async function serve(extra: Partial<DnsServerOptions> = {}) {
  const scopes = testScopes();
  const server = registry.create({ scopeOf: scopes.scopeOf, ...extra });
  const at = await server.listen('net1', LOCAL);
  return { server, at, ...scopes };
}

async function client(at: SocketAddress): Promise<TcpClient> {
  const c = await TcpClient.connect(at);
  registry.onCleanup(() => c.destroy());
  return c;
}

function ipv6LoopbackWorks(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp6');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(0, '::1', () => {
      s.close();
      resolve(true);
    });
  });
}

describe('DnsServer.listen', () => {
  it('serves a network on UDP and TCP at one port (port 0 picks it), and reports it', async () => {
    const { server, at } = await serve();
    expect(at.host).toBe('127.0.0.1');
    expect(at.port).toBeGreaterThan(0);
    expect(server.listening()).toEqual([{ networkId: 'net1', address: at }]);
    expect(dataOf(decode(await udpAsk(at, query('web', 'A'))))).toEqual(['10.0.1.2']);
    const c = await client(at);
    await c.write(frame(query('db', 'AAAA')));
    const [a] = await c.answersOf(1);
    expect(dataOf(decode(a), 'AAAA')).toEqual(['fd00::3']);
    expect(server.counters()).toMatchObject({ queries: 2, answeredLocal: 2, tcpConnections: 1 });
  });

  it('serves each listener\'s own network, and REFUSED for one not served', async () => {
    const { server, at } = await serve();
    const at2 = await server.listen('net2', LOCAL);
    const atNone = await server.listen('gone', LOCAL);
    expect(dataOf(decode(await udpAsk(at2, query('other', 'A'))))).toEqual(['10.0.2.2']);
    expect(decode(await udpAsk(at, query('other', 'A'))).rcode).toBe('SERVFAIL');
    expect(decode(await udpAsk(atNone, query('web', 'A'))).rcode).toBe('REFUSED');
    expect(server.listening().map((l) => l.networkId)).toEqual(['net1', 'net2', 'gone']);
  });

  it('listens on ::1 too', async () => {
    if (!(await ipv6LoopbackWorks())) return; // no IPv6 loopback on this host: nothing to test
    const { server } = await serve();
    const at6 = await server.listen('net1', { host: '::1', port: 0 });
    expect(dataOf(decode(await udpAsk(at6, query('web', 'A'))))).toEqual(['10.0.1.2']);
    const c = await client(at6);
    await c.write(frame(query('web', 'A')));
    expect(dataOf(decode((await c.answersOf(1))[0]))).toEqual(['10.0.1.2']);
  });

  it('unlisten closes that network\'s listeners (and their connections) only', async () => {
    const { server, at } = await serve();
    const at2 = await server.listen('net2', LOCAL);
    const c = await client(at);
    await server.unlisten('net1');
    await c.closedBy();
    expect(server.listening()).toEqual([{ networkId: 'net2', address: at2 }]);
    await expect(udpAsk(at, query('web', 'A'), 300)).rejects.toThrow();
    await expect(TcpClient.connect(at)).rejects.toThrow(/ECONNREFUSED/);
    expect(dataOf(decode(await udpAsk(at2, query('other', 'A'))))).toEqual(['10.0.2.2']);
    await server.unlisten('nothing-here');
  });

  it('throws DnsBindError when the TCP or UDP port is taken, leaving nothing bound', async () => {
    const tcpBusy = createServer();
    await new Promise<void>((r) => tcpBusy.listen(0, '127.0.0.1', r));
    registry.onCleanup(() => new Promise<void>((r) => tcpBusy.close(() => r())));
    const port = (tcpBusy.address() as { port: number }).port;
    const { server } = await serve();
    const err = await server.listen('net2', { host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsBindError);
    expect(err).toMatchObject({ code: 'ERR_DNS_BIND', socket: 'tcp', networkId: 'net2' });
    // The UDP socket of the failed attempt was released: the UDP port can be bound again.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(port, '127.0.0.1', () => resolve());
    });
    const err2 = await server.listen('net2', { host: '127.0.0.1', port }).catch((e: unknown) => e);
    probe.close();
    expect(err2).toMatchObject({ code: 'ERR_DNS_BIND', socket: 'udp' });
    expect(server.listening().map((l) => l.networkId)).toEqual(['net1']);
  });

  it('with port 0, tries again when TCP cannot take the port UDP got', async () => {
    const tcpBusy = createServer();
    await new Promise<void>((r) => tcpBusy.listen(0, '127.0.0.1', r));
    registry.onCleanup(() => new Promise<void>((r) => tcpBusy.close(() => r())));
    const busy = (tcpBusy.address() as { port: number }).port;
    const made: Socket[] = [];
    const server = registry.create({
      scopeOf: testScopes().scopeOf,
      udpSocketFactory: (type) => {
        const s = createSocket(type);
        if (made.length === 0) {
          // The first UDP socket "happens" to get a port whose TCP side is taken.
          const bind = s.bind.bind(s) as (o: object, cb: () => void) => Socket;
          (s as unknown as { bind: (o: object, cb: () => void) => Socket }).bind = (o, cb) => bind({ ...o, port: busy }, cb);
        }
        made.push(s);
        return s;
      },
    });
    const at = await server.listen('net1', LOCAL);
    expect(made).toHaveLength(2);
    expect(at.port).not.toBe(busy);
    expect(dataOf(decode(await udpAsk(at, query('web', 'A'))))).toEqual(['10.0.1.2']);
  });

  it('close() closes every listener and connection; listen afterwards throws DnsServerClosedError', async () => {
    const { server, at } = await serve();
    const c = await client(at);
    await server.close();
    await c.closedBy();
    expect(server.listening()).toEqual([]);
    await expect(server.listen('net1', LOCAL)).rejects.toBeInstanceOf(DnsServerClosedError);
    await server.close(); // idempotent
  });
});

describe('DnsServer over UDP and TCP: sizes', () => {
  it('truncates the 200-address answer over UDP (TC) and sends it whole over TCP', async () => {
    const { server, at } = await serve();
    const udp = decode(await udpAsk(at, query('tasks.big', 'A')));
    expect(udp).toMatchObject({ flag_tc: true, answers: [] });
    expect(udp.questions?.[0]?.name).toBe('tasks.big');
    const c = await client(at);
    await c.write(frame(query('tasks.big', 'A')));
    const [a] = await c.answersOf(1);
    expect(a!.length).toBeGreaterThan(4096);
    const whole = decode(a);
    expect(whole.flag_tc).toBe(false);
    expect(dataOf(whole)).toHaveLength(200);
    expect(server.counters().truncated).toBe(1);
  });
});

describe('DnsServer over TCP: framing and bounds', () => {
  it('answers several pipelined queries on one connection, in one write or byte by byte', async () => {
    const { at } = await serve();
    const c = await client(at);
    const names = ['web', 'db', 'tasks.svc'];
    await c.write(Buffer.concat(names.map((n, i) => frame(query(n, 'A', { id: i + 1 })))));
    const first = (await c.answersOf(3)).map((a) => decode(a));
    expect(first.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(first.map((r) => dataOf(r)[0])).toEqual(['10.0.1.2', '10.0.1.3', '10.0.1.21']);
    const bytes = Buffer.concat(names.map((n, i) => frame(query(n, 'A', { id: 10 + i }))));
    for (const b of bytes) {
      c.socket.setNoDelay(true);
      await c.write(Buffer.from([b]));
    }
    expect((await c.answersOf(6)).slice(3).map((a) => decode(a).id)).toEqual([10, 11, 12]);
  });

  it('answers, then closes, when the client half-closes after its query', async () => {
    const { at } = await serve();
    const c = await client(at);
    c.socket.end(frame(query('web', 'A')));
    expect(dataOf(decode((await c.answersOf(1))[0]))).toEqual(['10.0.1.2']);
    await c.closedBy();
  });

  it('survives zero-length and short frames, and keeps answering on the same connection', async () => {
    const { at, server } = await serve();
    const c = await client(at);
    await c.write(Buffer.concat([Buffer.from([0, 0]), frame(Buffer.from('hi')), frame(Buffer.from('0123456789abcdef')), frame(query('web', 'A', { id: 5 }))]));
    const answers = await c.answersOf(2);
    expect(decode(answers[0]).rcode).toBe('FORMERR');
    expect(decode(answers[1])).toMatchObject({ id: 5, rcode: 'NOERROR' });
    expect(server.counters()).toMatchObject({ malformed: 3, formerr: 1, dropped: 2 });
  });

  it('closes connections beyond maxTcpConnections at once (counted), others keep working', async () => {
    const { at, server } = await serve({ maxTcpConnections: 2 });
    const a = await client(at);
    const b = await client(at);
    await a.write(frame(query('web', 'A')));
    await a.answersOf(1);
    await b.write(frame(query('web', 'A')));
    await b.answersOf(1);
    const third = await client(at);
    await third.closedBy();
    expect(server.counters()).toMatchObject({ tcpConnections: 2, tcpRejected: 1 });
    await a.write(frame(query('db', 'A')));
    expect(await a.answersOf(2)).toHaveLength(2);
    // A closed connection frees its slot.
    b.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const fourth = await client(at);
    await fourth.write(frame(query('web', 'A')));
    await fourth.answersOf(1);
  });

  it('closes an idle connection when the (injected) idle timer fires; half frames do not re-arm it (slow loris)', async () => {
    const timers = new ManualTimers();
    const { at, server } = await serve({ timers, tcpIdleTimeoutMs: 5000 });
    const c = await client(at);
    await c.write(frame(query('web', 'A')));
    await c.answersOf(1);
    const whole = frame(query('db', 'A'));
    const before = timers.setCalls;
    for (let i = 0; i < 5; i++) await c.write(whole.subarray(i, i + 1)); // dribble a frame that never completes
    await new Promise((r) => setTimeout(r, 50));
    expect(timers.setCalls).toBe(before); // partial bytes scheduled nothing new
    expect([...timers.scheduled.values()].map((t) => t.ms)).toEqual([5000]);
    timers.fireAll();
    await c.closedBy();
    expect(server.counters()).toMatchObject({ tcpIdleClosed: 1 });
    expect(timers.scheduled.size).toBe(0);
  });

  it('closes the connection of a client that sends queries and never reads (maxTcpBufferBytes)', async () => {
    const { at, server } = await serve({ maxTcpBufferBytes: 131074 });
    const c = await client(at);
    c.socket.pause(); // never read: the answers pile up in the server
    const q = frame(query('tasks.big', 'A'));
    const burst = Buffer.concat(Array.from({ length: 500 }, () => q));
    for (let i = 0; i < 12 && !c.closed; i++) {
      c.socket.write(burst);
      await new Promise((r) => setTimeout(r, 50));
    }
    c.socket.resume();
    await c.closedBy(10_000);
    expect(server.counters().tcpOverflow).toBe(1);
    // The server still answers others.
    expect(dataOf(decode(await udpAsk(at, query('web', 'A'))))).toEqual(['10.0.1.2']);
  });
});

describe('DnsFrameDecoder', () => {
  it('splits frames across and within chunks, copying a split frame once', () => {
    const msgs = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(300, 7)];
    const stream = Buffer.concat(msgs.map((m) => frame(m)));
    for (const size of [1, 2, 3, 7, stream.length]) {
      const d = new DnsFrameDecoder();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) {
        d.push(stream.subarray(i, i + size));
        for (let f = d.next(); f !== undefined; f = d.next()) out.push(Buffer.from(f));
      }
      expect(out).toEqual(msgs);
      expect(d.buffered).toBe(0);
      expect(d.partial).toBe(false);
    }
  });

  it('holds a half frame without returning it', () => {
    const d = new DnsFrameDecoder();
    d.push(Buffer.from([0x01]));
    expect(d.next()).toBeUndefined();
    expect(d.partial).toBe(true);
    d.push(Buffer.from([0x00, 1, 2, 3]));
    expect(d.next()).toBeUndefined();
    expect(d.buffered).toBe(3); // 3 payload bytes of the 256 announced
  });
});
