/**
 * Endpoint name resolution: real DNS queries (UDP port 53) over the segment.
 * A second endpoint on the same VNI plays the nameserver: it binds port 53,
 * decodes each query with dns-packet and answers with replies the test writes.
 */
import * as dnsPacket from 'dns-packet';
import {
  DnsServerFailureError,
  DnsTimeoutError,
  DnsTruncatedError,
  Endpoint,
  EndpointClosedError,
  InvalidAddressError,
  MemoryNetwork,
  NameNotFoundError,
  NameResolutionError,
  NoNameserverError,
  TooManyLookupsError,
  Vtep,
  type EndpointOptions,
  type EndpointUdpSocket,
  type RemoteInfo,
} from '../../src';

const NS = '10.1.0.53';
const { RECURSION_AVAILABLE, RECURSION_DESIRED, TRUNCATED_RESPONSE } = dnsPacket;

/** Two VTEPs over an in-memory network (delivering on its own), one VNI: the client's side and the servers' side. */
function lan() {
  const net = new MemoryNetwork();
  const va = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }) });
  const vb = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }) });
  const sa = va.addSegment(1, { flood: [vb.local] });
  const sb = vb.addSegment(1, { flood: [va.local] });
  const endpoints: Endpoint[] = [];
  const add = (side: 'a' | 'b', last: number, extra: Partial<EndpointOptions> = {}): Endpoint => {
    const hex = last.toString(16).padStart(2, '0');
    const e = new Endpoint({ mac: `02:00:00:00:00:${hex}`, ip: `10.1.0.${last}`, ...extra }).attach(side === 'a' ? sa : sb);
    endpoints.push(e);
    return e;
  };
  const close = () => Promise.all([...endpoints.map((e) => e.close()), va.close(), vb.close()]);
  return { add, close };
}

interface Query {
  packet: dnsPacket.DecodedPacket;
  from: RemoteInfo;
}

/** What the server does with a query: datagrams to send back to its source (none: stay silent). */
type Answerer = (q: dnsPacket.DecodedPacket, from: RemoteInfo, queries: Query[]) => Uint8Array[] | Promise<Uint8Array[]>;

/** Binds port 53 on `ep` and answers every query with `answer`; records what arrived. */
function serve(ep: Endpoint, answer: Answerer): { queries: Query[]; socket: EndpointUdpSocket } {
  const socket = ep.bind(53);
  const queries: Query[] = [];
  socket.on('message', (data: Uint8Array, from: RemoteInfo) => {
    const packet = dnsPacket.decode(Buffer.from(data));
    queries.push({ packet, from: { ...from } });
    void Promise.resolve(answer(packet, from, queries)).then((replies) => {
      for (const r of replies) socket.send(r, from.address, from.port);
    });
  });
  return { queries, socket };
}

/** A response to `q`: same id and question, RD and RA set, RCODE `rcode`, with `answers`. */
function reply(q: dnsPacket.DecodedPacket, answers: dnsPacket.Answer[] = [], rcode = 0, over: Partial<dnsPacket.Packet> = {}): Uint8Array {
  return dnsPacket.encode({ type: 'response', id: q.id, flags: RECURSION_DESIRED | RECURSION_AVAILABLE | rcode, questions: q.questions, answers, ...over });
}

const a = (name: string, data: string): dnsPacket.Answer => ({ type: 'A', name, ttl: 60, class: 'IN', data });
const cname = (name: string, data: string): dnsPacket.Answer => ({ type: 'CNAME', name, ttl: 60, class: 'IN', data });
/**
 * Watches the timers code under test sets and clears. (Counting the process's
 * active timers would also count Jest's own, which come and go.)
 */
function watchTimers() {
  const set = jest.spyOn(global, 'setTimeout');
  const clear = jest.spyOn(global, 'clearTimeout');
  return {
    /** Handles of the timers set with `ms`. */
    setWith: (ms: number): unknown[] => set.mock.calls.flatMap((c, i) => (c[1] === ms ? [set.mock.results[i]!.value] : [])),
    cleared: (handle: unknown): boolean => clear.mock.calls.some((c) => c[0] === handle),
    restore: () => {
      set.mockRestore();
      clear.mockRestore();
    },
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Endpoint.resolve', () => {
  it('sends one standard A query from an ephemeral port to nameserver:53 and keeps the answer order', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const server = serve(t.add('b', 53), (q) => [reply(q, [a('web', '10.1.0.7'), a('web', '10.1.0.3'), a('web', '10.1.0.5')])]);
    try {
      await expect(client.resolve('web')).resolves.toEqual(['10.1.0.7', '10.1.0.3', '10.1.0.5']);
      expect(server.queries).toHaveLength(1);
      const { packet, from } = server.queries[0]!;
      expect(from.address).toBe(client.ip);
      expect(from.port).toBeGreaterThanOrEqual(49152);
      expect(packet).toMatchObject({ type: 'query', opcode: 'QUERY', flag_rd: true, questions: [{ name: 'web', type: 'A', class: 'IN' }], answers: [] });
      expect(client.counters.dns).toEqual({ queries: 1, replies: 1, timeouts: 0, mismatched: 0, malformed: 0 });
      // The lookup's socket is closed: its port can be bound again.
      expect(client.bind(from.port).port).toBe(from.port);
    } finally {
      await t.close();
    }
  });

  it('draws the query id and the source port from the injected random source', async () => {
    const t = lan();
    const fixed = t.add('a', 1, { nameserver: NS, random: () => 0.5 });
    const crypto = t.add('a', 2, { nameserver: NS });
    const server = serve(t.add('b', 53), (q) => [reply(q, [a('web', '10.1.0.7')])]);
    try {
      await fixed.resolve('web');
      expect([server.queries[0]!.packet.id, server.queries[0]!.from.port]).toEqual([0x8000, 49152 + 8192]);
      for (let i = 0; i < 4; i++) await crypto.resolve('web');
      const ids = new Set(server.queries.slice(1).map((q) => q.packet.id));
      expect(ids.size).toBeGreaterThan(1); // 4 draws of 16 bits all equal: a 2^-48 chance
    } finally {
      await t.close();
    }
  });

  it('sends the name as given and leaves case to the server (its reply may change the case)', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const server = serve(t.add('b', 53), (q) => {
      const lower = q.questions![0]!.name.toLowerCase();
      return [reply(q, [a(lower, '10.1.0.8')], 0, { questions: [{ name: lower, type: 'A', class: 'IN' }] })];
    });
    try {
      await expect(client.resolve('Web.Example')).resolves.toEqual(['10.1.0.8']);
      expect(server.queries[0]!.packet.questions![0]!.name).toBe('Web.Example');
    } finally {
      await t.close();
    }
  });

  it('follows a CNAME chain inside the answer and ignores records for other names', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    serve(t.add('b', 53), (q) => [
      reply(q, [a('other', '10.9.9.9'), cname('web', 'web.svc'), cname('web.svc', 'lb.svc'), a('lb.svc', '10.1.0.20'), a('lb.svc', '10.1.0.21')]),
    ]);
    try {
      await expect(client.resolve('web')).resolves.toEqual(['10.1.0.20', '10.1.0.21']);
    } finally {
      await t.close();
    }
  });

  it('rejects NXDOMAIN and NODATA with NameNotFoundError carrying the rcode', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    serve(t.add('b', 53), (q) => {
      const name = q.questions![0]!.name;
      if (name === 'gone') return [reply(q, [], 3)];
      if (name === 'v6only') return [reply(q, [{ type: 'AAAA', name, ttl: 60, class: 'IN', data: 'fd00::1' }])];
      return [reply(q, [cname('loop', 'loop2'), cname('loop2', 'loop')])];
    });
    try {
      const nx = client.resolve('gone');
      await expect(nx).rejects.toBeInstanceOf(NameNotFoundError);
      await expect(nx).rejects.toMatchObject({ code: 'ERR_NAME_NOT_FOUND', hostname: 'gone', rcode: 3, reason: 'NXDOMAIN' });
      await expect(client.resolve('v6only')).rejects.toMatchObject({ name: 'NameNotFoundError', rcode: 0, reason: 'NODATA' });
      await expect(client.resolve('loop')).rejects.toMatchObject({ name: 'NameNotFoundError', reason: 'NODATA' });
      expect(client.counters.dns.replies).toBe(3);
    } finally {
      await t.close();
    }
  });

  it('rejects SERVFAIL, REFUSED (even with no question section) with DnsServerFailureError', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    serve(t.add('b', 53), (q) => (q.questions![0]!.name === 'broken' ? [reply(q, [], 2)] : [reply(q, [], 5, { questions: [] })]));
    try {
      const fail = client.resolve('broken');
      await expect(fail).rejects.toBeInstanceOf(DnsServerFailureError);
      await expect(fail).rejects.toMatchObject({ code: 'ERR_DNS_SERVER_FAILURE', rcode: 2, rcodeName: 'SERVFAIL', nameserver: NS });
      await expect(client.resolve('secret')).rejects.toMatchObject({ name: 'DnsServerFailureError', rcode: 5, rcodeName: 'REFUSED' });
    } finally {
      await t.close();
    }
  });

  it('ignores and counts replies from the wrong source, with the wrong id or question, or malformed; then takes the right one', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const spoofer = t.add('b', 66);
    const spoofSocket = spoofer.bind(53);
    const nsEndpoint = t.add('b', 53);
    const otherPort = nsEndpoint.bind(5353);
    await spoofer.resolveMac(client.ip); // so the spoofed reply is not held back by ARP
    serve(nsEndpoint, async (q, from) => {
      spoofSocket.send(reply(q, [a('web', '10.6.6.6')]), from.address, from.port); // right id and port, wrong address
      otherPort.send(reply(q, [a('web', '10.6.6.7')]), from.address, from.port); // right address, wrong port
      const wrongId = reply({ ...q, id: (q.id! + 1) & 0xffff }, [a('web', '10.6.6.8')]);
      const wrongQuestion = reply(q, [a('api', '10.6.6.9')], 0, { questions: [{ name: 'api', type: 'A', class: 'IN' }] });
      const notDns = new Uint8Array([1, 2, 3]);
      await sleep(20); // the bad ones above go first
      return [wrongId, wrongQuestion, notDns, reply(q, [a('web', '10.1.0.7')])];
    });
    try {
      await expect(client.resolve('web', { timeoutMs: 5_000 })).resolves.toEqual(['10.1.0.7']);
      expect(client.counters.dns).toEqual({ queries: 1, replies: 1, timeouts: 0, mismatched: 4, malformed: 1 });
    } finally {
      await t.close();
    }
  });

  it('retries a query nobody answers attempts times, then rejects with DnsTimeoutError and leaves no timer or socket', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const server = serve(t.add('b', 53), () => []);
    const timers = watchTimers();
    try {
      const p = client.resolve('web', { timeoutMs: 15, attempts: 3 });
      await expect(p).rejects.toBeInstanceOf(DnsTimeoutError);
      await expect(p).rejects.toMatchObject({ code: 'ERR_DNS_TIMEOUT', hostname: 'web', nameserver: NS, attempts: 3, timeoutMs: 15 });
      expect(timers.setWith(15)).toHaveLength(3); // one per attempt; the last one fired and rejected
      expect(server.queries).toHaveLength(3);
      // The same query each time, from the same socket.
      expect(new Set(server.queries.map((q) => q.packet.id)).size).toBe(1);
      expect(new Set(server.queries.map((q) => q.from.port)).size).toBe(1);
      expect(client.counters.dns).toMatchObject({ queries: 3, timeouts: 1, replies: 0 });
      const port = server.queries[0]!.from.port;
      expect(client.bind(port).port).toBe(port);
    } finally {
      timers.restore();
      await t.close();
    }
  });

  it('takes a reply to a retry', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const server = serve(t.add('b', 53), (q, _from, queries) => (queries.length < 2 ? [] : [reply(q, [a('web', '10.1.0.7')])]));
    try {
      await expect(client.resolve('web', { timeoutMs: 30, attempts: 2 })).resolves.toEqual(['10.1.0.7']);
      expect(server.queries).toHaveLength(2);
    } finally {
      await t.close();
    }
  });

  it('uses the A records of a truncated reply, and rejects a truncated one without with DnsTruncatedError', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    serve(t.add('b', 53), (q) => {
      const tc = RECURSION_DESIRED | RECURSION_AVAILABLE | TRUNCATED_RESPONSE;
      return q.questions![0]!.name === 'big' ? [reply(q, [a('big', '10.1.0.30')], 0, { flags: tc })] : [reply(q, [], 0, { flags: tc })];
    });
    try {
      await expect(client.resolve('big')).resolves.toEqual(['10.1.0.30']);
      const p = client.resolve('huge');
      await expect(p).rejects.toBeInstanceOf(DnsTruncatedError);
      await expect(p).rejects.toMatchObject({ code: 'ERR_DNS_TRUNCATED', hostname: 'huge' });
    } finally {
      await t.close();
    }
  });

  it('returns an IPv4 literal without a query, even with no nameserver', async () => {
    const t = lan();
    const client = t.add('a', 1);
    try {
      await expect(client.resolve('10.1.0.9')).resolves.toEqual(['10.1.0.9']);
      expect(client.counters.dns.queries).toBe(0);
      expect(client.counters.txFrames).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('rejects with NoNameserverError without one; setNameserver sets, clears and validates it', async () => {
    const t = lan();
    const client = t.add('a', 1);
    serve(t.add('b', 53), (q) => [reply(q, [a('web', '10.1.0.7')])]);
    try {
      expect(client.nameserver).toBeUndefined();
      const p = client.resolve('web');
      await expect(p).rejects.toBeInstanceOf(NoNameserverError);
      await expect(p).rejects.toBeInstanceOf(NameResolutionError);
      await expect(p).rejects.toMatchObject({ code: 'ERR_NO_NAMESERVER', hostname: 'web' });
      client.setNameserver(NS);
      expect(client.nameserver).toBe(NS);
      await expect(client.resolve('web')).resolves.toEqual(['10.1.0.7']);
      client.setNameserver(undefined);
      expect(client.nameserver).toBeUndefined();
      await expect(client.resolve('web')).rejects.toBeInstanceOf(NoNameserverError);
      expect(() => client.setNameserver('dns.example')).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'nameserver', message: expect.stringMatching(/^Endpoint\.setNameserver: option "nameserver" /) }));
      expect(() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', nameserver: '10.0.0.256' })).toThrow(expect.objectContaining({ field: 'nameserver' }));
      expect(() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', maxLookups: 0 })).toThrow(expect.objectContaining({ field: 'maxLookups' }));
      expect(() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', random: 4 as never })).toThrow(expect.objectContaining({ field: 'random' }));
    } finally {
      await t.close();
    }
  });

  it('validates the name and the options synchronously, naming the field', () => {
    const e = new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', nameserver: NS });
    for (const name of ['', 'a..b', 'has space', `${'x'.repeat(64)}.example`, `${'abcdefgh.'.repeat(29)}x`, 42 as never]) {
      expect(() => e.resolve(name)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'name', message: expect.stringMatching(/^Endpoint\.resolve: option "name" /) }));
    }
    expect(() => e.resolve('10.0.0')).toThrow(InvalidAddressError);
    expect(() => e.resolve('web', { attempts: 0 })).toThrow(expect.objectContaining({ field: 'attempts' }));
    expect(() => e.resolve('web', { timeoutMs: -1 })).toThrow(expect.objectContaining({ field: 'timeoutMs' }));
    expect(() => e.resolve('web', { family: 6 as never })).toThrow(expect.objectContaining({ field: 'family' }));
    expect(() => e.ping('a..b')).toThrow(expect.objectContaining({ field: 'name', message: expect.stringMatching(/^Endpoint\.ping: /) }));
  });

  it('rejects a pending lookup with EndpointClosedError on close and leaves no timer', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const server = serve(t.add('b', 53), () => []);
    const timers = watchTimers();
    try {
      const p = client.resolve('web', { timeoutMs: 60_000 });
      const [timer] = timers.setWith(60_000);
      expect(timer).toBeDefined();
      while (server.queries.length === 0) await sleep(1);
      expect(timers.cleared(timer)).toBe(false);
      await client.close();
      await expect(p).rejects.toBeInstanceOf(EndpointClosedError);
      expect(timers.cleared(timer)).toBe(true);
      await expect(client.resolve('web')).rejects.toBeInstanceOf(EndpointClosedError);
      await expect(client.resolve('10.1.0.9')).rejects.toBeInstanceOf(EndpointClosedError);
    } finally {
      timers.restore();
      await t.close();
    }
  });

  it('bounds the lookups in flight with TooManyLookupsError', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS, maxLookups: 2 });
    serve(t.add('b', 53), (q, _from, queries) => (queries.length <= 2 ? [] : [reply(q, [a(q.questions![0]!.name, '10.1.0.7')])]));
    try {
      const first = client.resolve('one', { timeoutMs: 60_000, attempts: 1 });
      const second = client.resolve('two', { timeoutMs: 60_000, attempts: 1 });
      const third = client.resolve('three');
      await expect(third).rejects.toBeInstanceOf(TooManyLookupsError);
      await expect(third).rejects.toMatchObject({ code: 'ERR_TOO_MANY_LOOKUPS', limit: 2 });
      await expect(client.resolve('10.1.0.9')).resolves.toEqual(['10.1.0.9']); // a literal is no lookup
      await client.close();
      await expect(first).rejects.toBeInstanceOf(EndpointClosedError);
      await expect(second).rejects.toBeInstanceOf(EndpointClosedError);
    } finally {
      await t.close();
    }
  });
});

describe('ping and UDP by name', () => {
  it('ping(name) resolves the name and pings its first address', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const peer = t.add('b', 2);
    serve(t.add('b', 53), (q) => [reply(q, [a('peer', peer.ip), a('peer', '10.1.0.99')])]);
    try {
      const rtt = await client.ping('peer', { timeoutMs: 5_000 });
      expect(typeof rtt).toBe('number');
      expect(peer.counters.echoRequestsAnswered).toBe(1);
      await expect(client.ping('nobody')).rejects.toBeInstanceOf(NameNotFoundError);
    } finally {
      await t.close();
    }
  });

  it('ping(name) with no nameserver rejects with NoNameserverError', async () => {
    const t = lan();
    const client = t.add('a', 1);
    try {
      await expect(client.ping('peer')).rejects.toBeInstanceOf(NoNameserverError);
    } finally {
      await t.close();
    }
  });

  it('sendTo(data, name, port) delivers to the first address, with the bytes as they were at the call', async () => {
    const t = lan();
    const client = t.add('a', 1, { nameserver: NS });
    const peer = t.add('b', 2);
    serve(t.add('b', 53), (q) => (q.questions![0]!.name === 'peer' ? [reply(q, [a('peer', peer.ip)])] : [reply(q, [], 3)]));
    const inbox = peer.bind(7000);
    const got: { data: number[]; from: RemoteInfo }[] = [];
    inbox.on('message', (data: Uint8Array, from: RemoteInfo) => got.push({ data: [...data], from: { ...from } }));
    const socket = client.bind(6000);
    try {
      const data = new Uint8Array([1, 2, 3]);
      const sent = socket.sendTo(data, 'peer', 7000);
      data.fill(9); // the caller may reuse its buffer at once
      await sent;
      await socket.sendTo(new Uint8Array([4]), peer.ip, 7000); // a literal: no lookup
      while (got.length < 2) await sleep(1);
      expect(got).toEqual([
        { data: [1, 2, 3], from: { address: client.ip, port: 6000, size: 3 } },
        { data: [4], from: { address: client.ip, port: 6000, size: 1 } },
      ]);
      expect(client.counters.dns.queries).toBe(1);
      await expect(socket.sendTo(new Uint8Array(1), 'nobody', 7000)).rejects.toBeInstanceOf(NameNotFoundError);
      await expect(socket.sendTo(new Uint8Array(1), 'a..b', 7000)).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'name' });
      await expect(socket.sendTo(new Uint8Array(1), peer.ip, 0)).rejects.toMatchObject({ name: 'EndpointError' });
      socket.close();
      await expect(socket.sendTo(new Uint8Array(1), 'peer', 7000)).rejects.toBeInstanceOf(EndpointClosedError);
    } finally {
      await t.close();
    }
  });
});
