/**
 * Garbage, truncated and bit-flipped queries (fast-check, fixed seeds,
 * bounded runs) into handle(), the UDP listener and the TCP listener: nothing
 * throws or crashes, everything is counted, and a valid query right after
 * still gets the right answer.
 */
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import type { SocketAddress } from '@weft/interface';
import type { DnsServer } from '../../src/discovery/dns-server';
import { dataOf, decode, frame, query, ServerRegistry, TcpClient, testScopes, udpAsk } from './helpers';

const registry = new ServerRegistry();
afterEach(() => registry.closeAll());

const NAMES = ['web', 'db', 'tasks.svc', 'svc', 'tasks.big', '3.1.0.10.in-addr.arpa', 'example.com'] as const;
const TYPES = ['A', 'AAAA', 'PTR', 'MX', 'ANY'] as const;

/** A real query, then damaged: bits flipped, cut short, or garbage appended. */
const damagedQuery = fc
  .record({
    name: fc.constantFrom(...NAMES),
    type: fc.constantFrom(...TYPES),
    edns: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
    flips: fc.array(fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), { minLength: 1, maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 40 }),
  })
  .map(({ name, type, edns, flips, cut, tail }) => {
    const q = Buffer.from(query(name, type, edns === undefined ? {} : { edns }));
    for (const f of flips) q[f.at % q.length] = (q[f.at % q.length] as number) ^ (1 << f.bit);
    const cutQ = cut === undefined ? q : q.subarray(0, cut % (q.length + 1));
    return Buffer.concat([cutQ, tail]);
  });

/** Any bytes at all, with a bias to header-sized and query-sized messages. */
const garbage = fc.oneof(fc.uint8Array({ maxLength: 11 }), fc.uint8Array({ minLength: 12, maxLength: 64 }), fc.uint8Array({ maxLength: 1500 }));

/** A header that claims absurd counts over a short body. */
const absurd = fc.record({ id: fc.nat(0xffff), counts: fc.array(fc.nat(0xffff), { minLength: 4, maxLength: 4 }), body: fc.uint8Array({ maxLength: 100 }) }).map(({ id, counts, body }) => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return Buffer.concat([h, body]);
});

const anyMessage = fc.oneof(damagedQuery, garbage.map((b) => Buffer.from(b)), absurd);

function setup(): { server: DnsServer } {
  return { server: registry.create({ scopeOf: testScopes().scopeOf, tcpIdleTimeoutMs: 200 }) };
}

async function stillAnswers(server: DnsServer): Promise<void> {
  const r = decode(await server.handle({ networkId: 'net1', sourceIp: '10.0.1.9', sourcePort: 1, transport: 'udp', message: query('tasks.svc', 'A') }));
  expect(dataOf(r)).toEqual(['10.0.1.21', '10.0.1.22', '10.0.1.23']);
}

describe('fuzz: handle()', () => {
  it('never rejects; answers are well-formed responses with the query id; all is counted', async () => {
    const { server } = setup();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyMessage, fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'), async (msg, transport) => {
        n++;
        const out = await server.handle({ networkId: 'net1', sourceIp: '10.0.1.9', sourcePort: 1, transport, message: msg });
        if (out === undefined) return;
        const r = dnsPacket.decode(Buffer.from(out));
        expect(r.type).toBe('response');
        expect(r.id).toBe(msg.readUInt16BE(0));
        if (transport === 'udp') expect(out.length).toBeLessThanOrEqual(4096);
      }),
      { seed: 0x5eed, numRuns: 2000 },
    );
    const c = server.counters();
    expect(c.queries).toBe(n);
    expect(c.malformed).toBeGreaterThan(n / 4);
    expect(c.formerr).toBeGreaterThan(0);
    // Every message ended in exactly one outcome (no upstream here: nothing forwarded).
    expect(c.forwarded).toBe(0);
    expect(c.answeredLocal + c.servfail + c.refused + c.notimp + c.badvers + c.formerr + c.dropped).toBe(n);
    await stillAnswers(server);
  });

  it('answers a valid query right after each damaged one', async () => {
    const { server } = setup();
    await fc.assert(
      fc.asyncProperty(damagedQuery, async (msg) => {
        await server.handle({ networkId: 'net1', sourceIp: '10.0.1.9', sourcePort: 1, transport: 'udp', message: msg });
        await stillAnswers(server);
      }),
      { seed: 20240601, numRuns: 300 },
    );
  });
});

describe('fuzz: UDP listener', () => {
  it('survives garbage datagrams and still answers', async () => {
    const { server } = setup();
    const at: SocketAddress = await server.listen('net1', { host: '127.0.0.1', port: 0 });
    const samples = fc.sample(anyMessage.filter((m) => m.length <= 1400), { seed: 7, numRuns: 300 });
    const { createSocket } = await import('node:dgram');
    const sock = createSocket('udp4');
    registry.onCleanup(() => void sock.close());
    // One at a time (each received before the next is sent), so no datagram is lost to a full socket buffer.
    for (const [i, m] of samples.entries()) {
      await new Promise<void>((r) => sock.send(m, at.port, at.host, () => r()));
      for (let w = 0; w < 500 && server.counters().queries <= i; w++) await new Promise((r) => setTimeout(r, 2));
    }
    const c = server.counters();
    expect(c.queries).toBe(samples.length);
    expect(c.malformed).toBeGreaterThan(samples.length / 4);
    const r = decode(await udpAsk(at, query('web', 'A')));
    expect(dataOf(r)).toEqual(['10.0.1.2']);
  });
});

describe('fuzz: TCP listener', () => {
  it('survives garbage streams (bad length prefixes, half frames, junk) and still answers', async () => {
    const { server } = setup();
    const at: SocketAddress = await server.listen('net1', { host: '127.0.0.1', port: 0 });
    const stream = fc.array(
      fc.oneof(
        anyMessage.map((m) => frame(m.subarray(0, 65535))), // well-framed junk
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), // raw junk: the prefixes are whatever it says
        damagedQuery.map((m) => frame(m).subarray(0, Math.max(1, m.length - 3))), // a half frame
      ),
      { minLength: 1, maxLength: 8 },
    );
    const runs = fc.sample(stream, { seed: 99, numRuns: 40 });
    for (const parts of runs) {
      const c = await TcpClient.connect(at);
      try {
        for (const p of parts) await c.write(p);
        c.socket.end();
        await c.closedBy(3000); // the server closes: after answering what it could, or on the idle timeout
      } finally {
        c.destroy();
      }
    }
    const counters = server.counters();
    expect(counters.tcpConnections).toBe(runs.length);
    expect(counters.malformed).toBeGreaterThan(0);
    const ok = await TcpClient.connect(at);
    registry.onCleanup(() => ok.destroy());
    await ok.write(frame(query('tasks.big', 'A')));
    expect(dataOf(decode((await ok.answersOf(1))[0]))).toHaveLength(200);
  });
});
