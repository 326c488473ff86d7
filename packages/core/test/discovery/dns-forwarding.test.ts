/** External names go to upstream resolvers (fake ones on 127.0.0.1): relayed, timed out to the next, SERVFAIL when all fail; internal names never leave. */
import * as dnsPacket from 'dns-packet';
import { createSocket } from 'node:dgram';
import type { DnsQuery } from '@weft/interface';
import type { DnsServer } from '../../src/discovery/dns-server';
import { MAX_PENDING_FORWARDS } from '../../src/discovery/dns-forwarder';
import { dataOf, decode, FakeUpstream, manyIpv4, ManualTimers, query, ServerRegistry, testScopes, type QueryOptions, type UpstreamBehaviour } from './helpers';

const registry = new ServerRegistry();
afterEach(() => registry.closeAll());

async function upstream(behaviour?: UpstreamBehaviour, answer = '93.184.216.34'): Promise<FakeUpstream> {
  const up = await FakeUpstream.start(
    behaviour ??
      ((q) => ({
        flags: dnsPacket.RECURSION_AVAILABLE,
        answers: q.questions?.[0]?.type === 'A' ? [{ name: q.questions[0].name, type: 'A', ttl: 300, data: answer }] : [],
      })),
  );
  registry.onCleanup(() => up.close());
  return up;
}

const ask = (server: DnsServer, name: string, type: Parameters<typeof query>[1], o: QueryOptions & { transport?: 'udp' | 'tcp' } = {}) => {
  const q: DnsQuery = { networkId: 'net1', sourceIp: '10.0.1.99', sourcePort: 40000, transport: o.transport ?? 'udp', message: query(name, type, o) };
  return server.handle(q);
};

/** Resolves when `predicate` holds (polling every 5 ms, up to 5 s). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error('condition never held');
}

describe('DnsServer forwarding', () => {
  it('relays an upstream answer with the client\'s query id, and sets RA', async () => {
    const up = await upstream();
    const { scopeOf } = testScopes();
    const server = registry.create({ scopeOf, upstreams: [up.address] });
    const r = decode(await ask(server, 'Example.COM', 'A', { id: 0x4242 }));
    expect(r.id).toBe(0x4242);
    expect(r).toMatchObject({ rcode: 'NOERROR', flag_ra: true, flag_aa: false });
    expect(r.questions?.[0]?.name).toBe('Example.COM');
    expect(dataOf(r)).toEqual(['93.184.216.34']);
    expect(up.received).toHaveLength(1);
    expect(up.received[0]?.packet.id).not.toBe(0x4242); // a fresh id upstream... (1 in 65536 to collide; fine as a sanity check)
    expect(up.received[0]?.packet.questions?.[0]?.name).toBe('Example.COM');
    expect(server.counters()).toMatchObject({ forwarded: 1, upstreamAnswers: 1, answeredLocal: 0 });
    // Internal answers now carry RA too.
    expect(decode(await ask(server, 'web', 'A')).flag_ra).toBe(true);
  });

  it('never forwards internal names, reverse names of internal addresses, or NODATA', async () => {
    const up = await upstream();
    const { scopeOf } = testScopes();
    const server = registry.create({ scopeOf, upstreams: [up.address] });
    await ask(server, 'web', 'A');
    await ask(server, 'web', 'AAAA');
    await ask(server, 'web', 'MX');
    await ask(server, '2.1.0.10.in-addr.arpa', 'PTR');
    await ask(server, '77.1.0.10.in-addr.arpa', 'PTR');
    await ask(server, 'tasks.big', 'A');
    await ask(server, 'example.org', 'A'); // a marker: once it is seen, nothing before it was sent
    expect(up.received.map((r) => r.packet.questions?.[0]?.name)).toEqual(['example.org']);
    expect(server.counters()).toMatchObject({ forwarded: 1, answeredLocal: 6 });
  });

  it('forwards reverse names outside every internal range', async () => {
    const up = await upstream((q) => ({ answers: [{ name: q.questions![0]!.name, type: 'PTR', ttl: 60, data: 'dns.google' }] }));
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [up.address] });
    expect(dataOf(decode(await ask(server, '8.8.8.8.in-addr.arpa', 'PTR')), 'PTR')).toEqual(['dns.google']);
  });

  it('answers internal AAAA (and A, PTR) at once while the only upstream never answers', async () => {
    const up = await upstream(() => 'silent');
    const timers = new ManualTimers();
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [up.address], timers, upstreamTimeoutMs: 60_000 });
    const external = ask(server, 'slow.example', 'A'); // stuck upstream
    await until(() => up.received.length === 1);
    const r = decode(await ask(server, 'db', 'AAAA'));
    expect(dataOf(r, 'AAAA')).toEqual(['fd00::3']);
    expect(decode(await ask(server, 'web', 'AAAA'))).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(dataOf(decode(await ask(server, '2.1.0.10.in-addr.arpa', 'PTR')), 'PTR')).toEqual(['web']);
    expect(timers.scheduled.size).toBe(1); // only the stuck forward's timer
    timers.fireAll();
    expect(decode(await external).rcode).toBe('SERVFAIL');
  });

  it('tries the next upstream when one times out, and SERVFAILs when all do', async () => {
    const silent = await upstream(() => 'silent');
    const good = await upstream();
    const timers = new ManualTimers();
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [silent.address, good.address], timers, upstreamTimeoutMs: 1500 });
    const p = ask(server, 'example.net', 'A');
    await until(() => silent.received.length === 1);
    expect([...timers.scheduled.values()].map((t) => t.ms)).toEqual([1500]);
    expect(good.received).toHaveLength(0);
    timers.fireAll();
    const r = decode(await p);
    expect(dataOf(r)).toEqual(['93.184.216.34']);
    expect(good.received).toHaveLength(1);
    expect(timers.scheduled.size).toBe(0); // the answer cancelled the second timer
    expect(server.counters()).toMatchObject({ forwarded: 1, upstreamTimeouts: 1, upstreamAnswers: 1, servfail: 0 });

    const server2 = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [silent.address, silent.address], timers });
    const p2 = ask(server2, 'example.net', 'A', { id: 77 });
    await until(() => silent.received.length === 2);
    timers.fireAll();
    await until(() => silent.received.length === 3);
    timers.fireAll();
    const r2 = decode(await p2);
    expect(r2).toMatchObject({ id: 77, rcode: 'SERVFAIL', flag_ra: true });
    expect(server2.counters()).toMatchObject({ forwarded: 1, upstreamTimeouts: 2, servfail: 1 });
    expect(timers.scheduled.size).toBe(0);
  });

  it('times out with the real default timers too (short timeout)', async () => {
    const silent = await upstream(() => 'silent');
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [silent.address], upstreamTimeoutMs: 50 });
    const t0 = Date.now();
    expect(decode(await ask(server, 'example.net', 'A')).rcode).toBe('SERVFAIL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
  });

  it('accepts only an answer with the id it sent, QR set, from an upstream it asked', async () => {
    const real = await upstream(() => 'silent');
    const timers = new ManualTimers();
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [real.address], timers });
    const p = ask(server, 'example.net', 'A', { id: 9 });
    await until(() => real.received.length === 1);
    const asked = real.received[0]!;
    const answer = (id: number, type: 'response' | 'query' = 'response') =>
      dnsPacket.encode({ id, type, questions: asked.packet.questions, answers: [{ name: 'example.net', type: 'A', data: '6.6.6.6' }] });
    const spoofer = createSocket('udp4');
    registry.onCleanup(() => void spoofer.close());
    // From a stranger with the right id; from the upstream with a wrong id; a query with the right id: all ignored.
    await new Promise<void>((r) => spoofer.send(answer(asked.packet.id!), asked.from, '127.0.0.1', () => r()));
    await real.sendRaw(answer((asked.packet.id! + 1) & 0xffff), asked.from);
    await real.sendRaw(answer(asked.packet.id!, 'query'), asked.from);
    await real.sendRaw(Buffer.from([1, 2, 3]), asked.from);
    await new Promise((r) => setTimeout(r, 50));
    expect(timers.scheduled.size).toBe(1); // still waiting
    await real.sendRaw(answer(asked.packet.id!), asked.from);
    const r = decode(await p);
    expect(r.id).toBe(9);
    expect(dataOf(r)).toEqual(['6.6.6.6']);
    expect(timers.scheduled.size).toBe(0);
  });

  it('over TCP, asks the upstream again over TCP when its UDP answer is truncated', async () => {
    const big = manyIpv4(100);
    const up = await upstream((q, via) =>
      via === 'udp' ? { flags: dnsPacket.TRUNCATED_RESPONSE, answers: [] } : { answers: big.map((ip) => ({ name: q.questions![0]!.name, type: 'A' as const, ttl: 5, data: ip })) },
    );
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [up.address] });
    const overTcp = decode(await ask(server, 'many.example', 'A', { transport: 'tcp', id: 5 }));
    expect(overTcp.id).toBe(5);
    expect(overTcp.flag_tc).toBe(false);
    expect(dataOf(overTcp)).toEqual(big);
    expect(up.received.map((r) => r.via)).toEqual(['udp', 'tcp']);
    const overUdp = decode(await ask(server, 'many.example', 'A'));
    expect(overUdp.flag_tc).toBe(true); // relayed as is: the client retries over TCP
  });

  it('SERVFAILs at once beyond the pending-forward limit', async () => {
    const silent = await upstream(() => 'silent');
    const timers = new ManualTimers();
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [silent.address], timers });
    const stuck = Array.from({ length: MAX_PENDING_FORWARDS }, (_, i) => ask(server, `n${i}.example`, 'A'));
    expect(timers.scheduled.size).toBe(MAX_PENDING_FORWARDS);
    const over = decode(await ask(server, 'one-more.example', 'A'));
    expect(over.rcode).toBe('SERVFAIL');
    expect(timers.scheduled.size).toBe(MAX_PENDING_FORWARDS);
    timers.fireAll();
    expect((await Promise.all(stuck)).every((a) => decode(a).rcode === 'SERVFAIL')).toBe(true);
    expect(server.counters()).toMatchObject({ forwarded: MAX_PENDING_FORWARDS + 1, servfail: MAX_PENDING_FORWARDS + 1, upstreamTimeouts: MAX_PENDING_FORWARDS });
  });

  it('close() resolves forwards in flight with no answer and clears their timers', async () => {
    const silent = await upstream(() => 'silent');
    const timers = new ManualTimers();
    const server = registry.create({ scopeOf: testScopes().scopeOf, upstreams: [silent.address], timers });
    const p = ask(server, 'example.net', 'A');
    await until(() => silent.received.length === 1);
    await server.close();
    await expect(p).resolves.toBeUndefined();
    expect(timers.scheduled.size).toBe(0);
  });
});
