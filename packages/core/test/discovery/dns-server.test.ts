/** DnsServer.handle: what internal names, reverse names, unknown networks and external names without upstream are answered. */
import * as dnsPacket from 'dns-packet';
import type { DnsQuery } from '@weft/interface';
import { DnsServer } from '../../src/discovery/dns-server';
import { dataOf, decode, ManualTimers, query, ServerRegistry, testScopes, type QueryOptions } from './helpers';

const AA = dnsPacket.AUTHORITATIVE_ANSWER;
const TC = dnsPacket.TRUNCATED_RESPONSE;
const RD = dnsPacket.RECURSION_DESIRED;
const RA = dnsPacket.RECURSION_AVAILABLE;

const registry = new ServerRegistry();
afterEach(() => registry.closeAll());

function setup(extra: Partial<ConstructorParameters<typeof DnsServer>[0]> = {}) {
  const scopes = testScopes();
  const timers = new ManualTimers();
  const sockets: string[] = [];
  const server = registry.create({
    scopeOf: scopes.scopeOf,
    timers,
    udpSocketFactory: (type) => {
      sockets.push(type);
      throw new Error('no socket may be opened in this test');
    },
    ...extra,
  });
  const ask = async (name: string, type: Parameters<typeof query>[1], o: QueryOptions & { networkId?: string; transport?: 'udp' | 'tcp' } = {}) => {
    const q: DnsQuery = { networkId: o.networkId ?? 'net1', sourceIp: '10.0.1.99', sourcePort: 40000, transport: o.transport ?? 'udp', message: query(name, type, o) };
    return decode(await server.handle(q));
  };
  return { server, ask, timers, sockets, ...scopes };
}

describe('DnsServer.handle: internal names', () => {
  it('answers A with the name\'s IPv4 addresses, authoritative, echoing id and question', async () => {
    const { ask, server } = setup();
    const r = await ask('web', 'A', { id: 0xbeef });
    expect(r.id).toBe(0xbeef);
    expect(r.type).toBe('response');
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_aa).toBe(true);
    expect(r.flag_rd).toBe(true);
    expect(r.flag_ra).toBe(false); // no upstream configured
    expect(r.questions).toEqual([{ name: 'web', type: 'A', class: 'IN' }]);
    expect(r.answers).toEqual([{ name: 'web', type: 'A', class: 'IN', ttl: 0, data: '10.0.1.2', flush: false }]);
    expect(server.counters()).toMatchObject({ queries: 1, answeredLocal: 1, nodata: 0, forwarded: 0, servfail: 0 });
  });

  it('answers aliases, dotted names and tasks.<service> with every address, in order', async () => {
    const { ask } = setup();
    expect(dataOf(await ask('www', 'A'))).toEqual(['10.0.1.2']);
    expect(dataOf(await ask('db-alias', 'AAAA'), 'AAAA')).toEqual(['fd00::3']);
    expect(dataOf(await ask('database.prod', 'A'))).toEqual(['10.0.1.3']);
    expect(dataOf(await ask('tasks.svc', 'A'))).toEqual(['10.0.1.21', '10.0.1.22', '10.0.1.23']);
    expect(dataOf(await ask('tasks.svc', 'A'))).toEqual(['10.0.1.21', '10.0.1.22', '10.0.1.23']); // not rotated
  });

  it('is case-insensitive, strips a trailing dot, and echoes the question as asked (0x20)', async () => {
    const { ask, net1 } = setup();
    const r = await ask('wEb', 'A');
    expect(r.questions?.[0]?.name).toBe('wEb');
    expect(r.answers?.[0]).toMatchObject({ name: 'wEb', data: '10.0.1.2' });
    const r2 = await ask('TaSkS.SvC.', 'A');
    expect(r2.questions?.[0]?.name).toBe('TaSkS.SvC');
    expect(dataOf(r2)).toHaveLength(3);
    expect(net1.asked).toEqual(['web', 'tasks.svc']);
  });

  it('answers AAAA from ipv6, and an empty family with NODATA (NOERROR, no answers), never NXDOMAIN', async () => {
    const { ask, server } = setup();
    expect(dataOf(await ask('db', 'AAAA'), 'AAAA')).toEqual(['fd00::3']);
    const noV6 = await ask('web', 'AAAA');
    expect(noV6).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [] });
    const noV4 = await ask('v6only', 'A');
    expect(noV4).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(server.counters()).toMatchObject({ answeredLocal: 3, nodata: 2, nxdomain: 0 });
  });

  it('answers other types on an internal name with NODATA, and ANY with both families', async () => {
    const { ask } = setup();
    for (const t of ['MX', 'TXT', 'SRV', 'CNAME', 'PTR', 'SOA'] as const) expect(await ask('db', t)).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [] });
    const any = await ask('db', 'ANY');
    expect(any.answers?.map((a) => a.type)).toEqual(['A', 'AAAA']);
  });

  it('rotates a rotate name by one step per answer (round robin), per name', async () => {
    const { ask } = setup();
    const seen: unknown[][] = [];
    for (let i = 0; i < 4; i++) seen.push(dataOf(await ask('svc', 'A')));
    expect(seen).toEqual([
      ['10.0.1.10', '10.0.1.11', '10.0.1.12'],
      ['10.0.1.11', '10.0.1.12', '10.0.1.10'],
      ['10.0.1.12', '10.0.1.10', '10.0.1.11'],
      ['10.0.1.10', '10.0.1.11', '10.0.1.12'],
    ]);
    expect(dataOf(await ask('svc', 'AAAA'), 'AAAA')).toHaveLength(2);
  });

  it('uses ttlSeconds for internal records (default 0)', async () => {
    expect((await setup().ask('web', 'A')).answers?.[0]).toMatchObject({ ttl: 0 });
    expect((await setup({ ttlSeconds: 30 }).ask('web', 'A')).answers?.[0]).toMatchObject({ ttl: 30 });
  });

  it('keeps no records: a removed (or changed) name is gone from the very next answer', async () => {
    const { ask, net1 } = setup({ ttlSeconds: 600 });
    expect(dataOf(await ask('web', 'A'))).toEqual(['10.0.1.2']);
    net1.names.set('web', { ipv4: ['10.0.1.7'], ipv6: [], rotate: false });
    expect(dataOf(await ask('web', 'A'))).toEqual(['10.0.1.7']);
    net1.names.delete('web');
    expect(await ask('web', 'A')).toMatchObject({ rcode: 'SERVFAIL' }); // external now, and no upstream
  });

  it('answers each network from its own scope', async () => {
    const { ask } = setup();
    expect(dataOf(await ask('other', 'A', { networkId: 'net2' }))).toEqual(['10.0.2.2']);
    expect(await ask('web', 'A', { networkId: 'net2' })).toMatchObject({ rcode: 'SERVFAIL' });
  });
});

describe('DnsServer.handle: reverse names', () => {
  it('answers PTR of a named IPv4 address with one record per name, authoritative', async () => {
    const { ask, net1 } = setup();
    const r = await ask('3.1.0.10.in-addr.arpa', 'PTR');
    expect(r).toMatchObject({ rcode: 'NOERROR', flag_aa: true });
    expect(dataOf(r, 'PTR')).toEqual(['db', 'db-alias']);
    expect(net1.asked).toContain('reverse:10.0.1.3');
  });

  it('answers PTR of an IPv6 address from ip6.arpa nibbles', async () => {
    const { ask, net1 } = setup();
    const nibbles = '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';
    expect(dataOf(await ask(nibbles, 'PTR'), 'PTR')).toEqual(['db']);
    expect(dataOf(await ask(nibbles.toUpperCase(), 'PTR'), 'PTR')).toEqual(['db']);
    expect(net1.asked).toContain('reverse:fd00::3');
  });

  it('answers an unnamed address inside the network NXDOMAIN locally, and other types NODATA', async () => {
    const { ask, server } = setup();
    expect(await ask('99.1.0.10.in-addr.arpa', 'PTR')).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [] });
    expect(await ask('2.1.0.10.in-addr.arpa', 'A')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(server.counters()).toMatchObject({ answeredLocal: 2, nxdomain: 1, nodata: 1, servfail: 0, forwarded: 0 });
  });

  it('treats an address outside every internal range (and partial reverse names) as external', async () => {
    const { ask } = setup();
    expect(await ask('8.8.8.8.in-addr.arpa', 'PTR')).toMatchObject({ rcode: 'SERVFAIL' });
    expect(await ask('1.0.10.in-addr.arpa', 'PTR')).toMatchObject({ rcode: 'SERVFAIL' });
    expect(await ask('02.1.0.10.in-addr.arpa', 'PTR')).toMatchObject({ rcode: 'SERVFAIL' }); // not an address (leading zero)
  });
});

describe('DnsServer.handle: refusals and failures', () => {
  it('answers REFUSED for a network it does not serve, without asking any scope', async () => {
    const { ask, server, net1 } = setup();
    const r = await ask('web', 'A', { networkId: 'nope' });
    expect(r).toMatchObject({ rcode: 'REFUSED', flag_aa: false, answers: [] });
    expect(r.questions?.[0]?.name).toBe('web');
    expect(net1.asked).toEqual([]);
    expect(server.counters()).toMatchObject({ refused: 1, answeredLocal: 0 });
  });

  it('answers REFUSED for classes other than IN / ANY, and NOTIMP for opcodes other than QUERY', async () => {
    const { ask, server } = setup();
    expect(await ask('version.bind', 'TXT', { klass: 'CH' })).toMatchObject({ rcode: 'REFUSED' });
    expect(dataOf(await ask('web', 'A', { klass: 'ANY' }))).toEqual(['10.0.1.2']);
    expect(await ask('web', 'A', { flags: 2 << 11 })).toMatchObject({ rcode: 'NOTIMP' }); // STATUS
    expect(server.counters()).toMatchObject({ refused: 1, notimp: 1 });
  });

  it('answers an external name SERVFAIL at once when no upstream is configured: no socket, no timer, no packet', async () => {
    const { ask, server, timers, sockets } = setup();
    let settled = false;
    const pending = ask('example.com', 'A').then((r) => {
      settled = true;
      return r;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true); // answered within microtasks: nothing waited on
    const r = await pending;
    expect(r).toMatchObject({ rcode: 'SERVFAIL', flag_aa: false, flag_ra: false, answers: [] });
    expect(r.questions?.[0]?.name).toBe('example.com');
    expect(timers.setCalls).toBe(0);
    expect(timers.scheduled.size).toBe(0);
    expect(sockets).toEqual([]);
    expect(server.counters()).toMatchObject({ servfail: 1, forwarded: 0, upstreamTimeouts: 0 });
  });

  it('answers SERVFAIL (and counts it) when the scope throws, and keeps answering', async () => {
    const { ask, net1, server } = setup();
    net1.throwOn = 'web';
    const r = await ask('wEb', 'A');
    expect(r).toMatchObject({ rcode: 'SERVFAIL', questions: [{ name: 'wEb', type: 'A', class: 'IN' }] });
    expect(dataOf(await ask('db', 'A'))).toEqual(['10.0.1.3']);
    expect(server.counters().servfail).toBe(1);
  });
});

describe('DnsServer.handle: sizes and EDNS', () => {
  it('truncates a UDP answer over 512 bytes: TC set, question kept, no answers', async () => {
    const { ask, server } = setup();
    const r = await ask('tasks.big', 'A');
    expect(r).toMatchObject({ rcode: 'NOERROR', flag_tc: true, flag_aa: true, answers: [] });
    expect(r.questions).toEqual([{ name: 'tasks.big', type: 'A', class: 'IN' }]);
    expect(server.counters().truncated).toBe(1);
  });

  it('sends the whole answer when the query came over TCP (200 addresses)', async () => {
    const { ask } = setup();
    const r = await ask('tasks.big', 'A', { transport: 'tcp' });
    expect(r.flag_tc).toBe(false);
    expect(dataOf(r)).toHaveLength(200);
  });

  it('honours the client\'s EDNS0 UDP size (capped at 4096) and answers with an OPT record', async () => {
    const { ask } = setup();
    const big = await ask('tasks.big', 'A', { edns: 65000 }); // 200 × 25 bytes > 4096
    expect(big.flag_tc).toBe(true);
    expect(big.additionals?.map((a) => a.type)).toEqual(['OPT']);
    const svc = await ask('tasks.svc', 'A', { edns: 1232 });
    expect(svc.flag_tc).toBe(false);
    expect(svc.additionals?.[0]).toMatchObject({ type: 'OPT', ednsVersion: 0 });
    // 100 records: 2500 bytes fit 4096, not 1232.
    const scopes = testScopes();
    scopes.net1.names.set('tasks.hundred', { ipv4: Array.from({ length: 100 }, (_, i) => `10.3.0.${i + 1}`), ipv6: [], rotate: false });
    const s = registry.create({ scopeOf: scopes.scopeOf });
    const msg = (edns: number) => ({ networkId: 'net1', sourceIp: '10.0.1.9', sourcePort: 1, transport: 'udp' as const, message: query('tasks.hundred', 'A', { edns }) });
    expect(dataOf(decode(await s.handle(msg(4096))))).toHaveLength(100);
    expect(decode(await s.handle(msg(1232))).flag_tc).toBe(true);
    expect(decode(await s.handle(msg(100))).flag_tc).toBe(true); // below 512 counts as 512
  });

  it('answers an EDNS version other than 0 with BADVERS', async () => {
    const { ask } = setup();
    const r = await ask('web', 'A', { edns: 1232, ednsVersion: 1 });
    expect(r.answers).toEqual([]);
    expect(r.additionals?.[0]).toMatchObject({ type: 'OPT', extendedRcode: 1 });
  });
});

describe('DnsServer.handle: malformed input', () => {
  const raw = (server: DnsServer, bytes: Uint8Array) => server.handle({ networkId: 'net1', sourceIp: '10.0.1.9', sourcePort: 1, transport: 'udp', message: bytes });

  it('drops what has no readable header, and answers FORMERR (id kept, no question) when it has one', async () => {
    const { server } = setup();
    expect(await raw(server, new Uint8Array(0))).toBeUndefined();
    expect(await raw(server, new Uint8Array(11))).toBeUndefined();
    expect(await raw(server, new Uint8Array(70000))).toBeUndefined();
    const junk = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    const r = decode(await raw(server, junk));
    expect(r).toMatchObject({ id: 0x6162, rcode: 'FORMERR', questions: [], answers: [] });
    expect(server.counters()).toMatchObject({ queries: 4, malformed: 4, formerr: 1, dropped: 3 });
  });

  it('answers FORMERR for absurd counts, zero or two questions, and a truncated question', async () => {
    const { server } = setup();
    const q = query('web', 'A');
    const absurd = Buffer.from(q);
    absurd.writeUInt16BE(0xffff, 6);
    absurd.writeUInt16BE(0xffff, 10);
    const none = dnsPacket.encode({ id: 1, type: 'query', questions: [] });
    const two = dnsPacket.encode({ id: 2, type: 'query', questions: [{ name: 'web', type: 'A' }, { name: 'db', type: 'A' }] });
    for (const m of [absurd, none, two, q.subarray(0, q.length - 3)]) expect(decode(await raw(server, m)).rcode).toBe('FORMERR');
    expect(server.counters().formerr).toBe(4);
    expect(dataOf(decode(await raw(server, q)))).toEqual(['10.0.1.2']);
  });

  it('never answers a response (QR set), so two servers cannot loop', async () => {
    const { server } = setup();
    const resp = dnsPacket.encode({ id: 3, type: 'response', questions: [{ name: 'web', type: 'A' }] });
    expect(await raw(server, resp)).toBeUndefined();
    expect(server.counters()).toMatchObject({ dropped: 1, formerr: 0 });
  });

  it('resolves undefined for a non-query argument and after close, never rejects', async () => {
    const { server } = setup();
    await expect(server.handle(undefined as unknown as DnsQuery)).resolves.toBeUndefined();
    await server.close();
    await expect(raw(server, query('web', 'A'))).resolves.toBeUndefined();
  });

  it('copies RD from the query and leaves it clear when not asked', async () => {
    const { ask } = setup();
    expect((await ask('web', 'A', { flags: 0 })).flag_rd).toBe(false);
    expect((await ask('web', 'A', { flags: RD })).flags! & (AA | RD | TC | RA)).toBe(AA | RD);
  });
});
