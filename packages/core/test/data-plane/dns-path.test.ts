/**
 * The node-local DNS address on the userspace plane: each local endpoint's
 * shim answers ARP for it and hands UDP to port 53 to the plane's
 * DnsQueryHandler; the reply comes back from the address, port 53. Nothing
 * about the address reaches the segment's peers or their tables.
 */
import * as dnsPacket from 'dns-packet';
import { macForIpv4, parseIpv4, type DnsQuery } from '@weft/interface';
import { MemoryNetwork, type Endpoint, type EndpointUdpSocket, type Port, type RemoteInfo } from '@weft/vxlan';
import type { UserspaceDataPlane } from '../../src/data-plane';
import { countersOf, local, net, pairOn, PlaneRegistry, sleep, until } from './helpers';

const DNS = '10.9.0.250';
const DNS_MAC = macForIpv4(parseIpv4(DNS));

function query(name: string, id: number): Uint8Array {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', class: 'IN', name }] });
}

/** Answers every A question with 10.9.0.77 (and records what it was asked). */
function answering(asked: DnsQuery[]) {
  return async (q: DnsQuery): Promise<Uint8Array | undefined> => {
    asked.push(q);
    const req = dnsPacket.decode(Buffer.from(q.message));
    return dnsPacket.encode({
      type: 'response',
      id: req.id ?? 0,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHORITATIVE_ANSWER,
      questions: req.questions ?? [],
      answers: (req.questions ?? []).map((qq) => ({ type: 'A' as const, class: 'IN' as const, name: qq.name, ttl: 600, data: '10.9.0.77' })),
    });
  };
}

/** The next datagram `socket` receives, or a rejection after `ms`. */
function nextMessage(socket: EndpointUdpSocket, ms = 2000): Promise<{ data: Uint8Array; rinfo: RemoteInfo }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no datagram on port ${socket.port} within ${ms} ms`)), ms);
    socket.once('message', (data: Uint8Array, rinfo: RemoteInfo) => {
      clearTimeout(timer);
      resolve({ data: Uint8Array.from(data), rinfo });
    });
  });
}

/** A port on a segment that records every frame it is given (flooded or addressed to it). */
class Probe implements Port {
  readonly mac = '02:00:00:00:0b:99';
  readonly frames: Uint8Array[] = [];
  receive(frame: Uint8Array): void {
    this.frames.push(Uint8Array.from(frame));
  }
}

describe('UserspaceDataPlane: the network DNS address', () => {
  const registry = new PlaneRegistry();
  let network: MemoryNetwork;
  let a: UserspaceDataPlane;
  let b: UserspaceDataPlane;
  let ea: Endpoint;
  let eb: Endpoint;
  let probe: Probe;

  beforeEach(async () => {
    network = new MemoryNetwork();
    a = await registry.memory(network, 'node-a', '192.0.2.1');
    b = await registry.memory(network, 'node-b', '192.0.2.2');
    ({ ea, eb } = await pairOn(net('n', 4096), a, b, '10.9.0.2', '10.9.0.3'));
    probe = new Probe();
    eb.segment!.attach(probe);
  });
  afterEach(() => registry.closeAll());

  it('hands a UDP query to the handler and delivers its reply from the DNS address, port 53; nothing reaches the peer', async () => {
    const asked: DnsQuery[] = [];
    a.setDnsHandler(answering(asked));
    await a.setDnsAddress('n', DNS);
    const before = await countersOf(b);
    const aBefore = await countersOf(a);
    const socket = ea.bind(0);
    const reply = nextMessage(socket);
    socket.send(query('web.weft', 4242), DNS, 53);
    const { data, rinfo } = await reply;

    expect(rinfo).toEqual({ address: DNS, port: 53, size: data.length });
    const answer = dnsPacket.decode(Buffer.from(data));
    expect(answer).toMatchObject({ id: 4242, type: 'response', answers: [{ type: 'A', name: 'web.weft', data: '10.9.0.77' }] });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ networkId: 'n', sourceIp: '10.9.0.2', sourcePort: socket.port, transport: 'udp' });
    expect(dnsPacket.decode(Buffer.from(asked[0]!.message)).questions).toEqual([{ type: 'A', class: 'IN', name: 'web.weft' }]);
    // ARP for the address was answered by the shim, with the virtual MAC.
    expect(ea.neighbours().find((n) => n.ip === DNS)?.mac).toBe(DNS_MAC);

    const ca = await countersOf(a);
    expect(ca('dns.arpAnswered')).toBe(1);
    expect(ca('dns.queries')).toBe(1);
    expect(ca('dns.replies')).toBe(1);
    expect(ca('net.n.dns.queries')).toBe(1);
    // Neither the ARP request nor the query left node A or reached anything on node B.
    expect(ca('net.n.segment.txPackets') - aBefore('net.n.segment.txPackets')).toBe(0);
    expect(ca('net.n.segment.flooded') - aBefore('net.n.segment.flooded')).toBe(0);
    const cb = await countersOf(b);
    expect(cb('plain.rxPackets') - before('plain.rxPackets')).toBe(0);
    expect(probe.frames).toEqual([]);
    expect(eb.counters.rxFrames).toBe(0);
  });

  it('the DNS address is in no FDB, neighbour table or flood list, and peers are never told of it', async () => {
    a.setDnsHandler(answering([]));
    await a.setDnsAddress('n', DNS);
    const socket = ea.bind(0);
    const reply = nextMessage(socket);
    socket.send(query('x.weft', 1), DNS, 53);
    await reply;
    for (const plane of [a, b]) {
      const n = (await plane.programmed()).networks[0]!;
      expect(n.remote.map((r) => r.ip)).not.toContain(DNS);
      expect(n.remote.map((r) => r.mac)).not.toContain(DNS_MAC);
    }
    expect((await b.programmed()).networks[0]!.flood.map((p) => p.id)).toEqual(['node-a']);
    expect((await b.programmed()).networks[0]!.dnsAddress).toBeUndefined();
    expect((await a.programmed()).networks[0]!.dnsAddress).toBe(DNS); // recorded read-back unchanged
    for (const seg of [ea.segment!, eb.segment!]) {
      expect(seg.fdbEntries().map((e) => e.mac)).not.toContain(DNS_MAC);
      expect(seg.neighbourEntries().map((e) => e.ip)).not.toContain(DNS);
    }
  });

  it('drops and counts: no handler, other ports and protocols, and a handler that throws', async () => {
    await a.setDnsAddress('n', DNS);
    const socket = ea.bind(0);
    socket.send(query('a.weft', 1), DNS, 53);
    await until(async () => (await countersOf(a))('dns.drops.no-handler') === 1, 'the query without a handler to be counted');

    const asked: DnsQuery[] = [];
    a.setDnsHandler(answering(asked));
    socket.send(query('b.weft', 2), DNS, 5353); // not port 53
    await expect(ea.ping(DNS, { timeoutMs: 200 })).rejects.toMatchObject({ name: 'PingTimeoutError' }); // not UDP
    await until(async () => (await countersOf(a))('dns.drops.not-dns') === 2, 'other traffic to the DNS address to be counted');

    a.setDnsHandler(() => Promise.reject(new Error('boom')));
    socket.send(query('c.weft', 3), DNS, 53);
    await until(async () => (await countersOf(a))('dns.drops.handler-error') === 1, 'the failing handler to be counted');

    a.setDnsHandler(async () => undefined);
    socket.send(query('d.weft', 4), DNS, 53);
    await until(async () => (await countersOf(a))('dns.noReply') === 1, 'the unanswered query to be counted');

    expect(asked).toEqual([]);
    const c = await countersOf(a);
    expect(c('dns.replies')).toBe(0);
    expect(c('net.n.segment.txPackets')).toBe(0);
    expect(probe.frames).toEqual([]);
  });

  it('without a DNS address the same datagram goes nowhere: never to the handler, counted where it is dropped', async () => {
    const asked: DnsQuery[] = [];
    a.setDnsHandler(answering(asked));
    // Never set: the endpoint's ARP for the address goes unanswered and the datagram is dropped as unresolved.
    const socket = ea.bind(0);
    socket.send(query('never.weft', 5), DNS, 53);
    await until(() => ea.counters.drops.unresolved === 1, 'the endpoint to give up on the address', 5000);
    expect(eb.counters.udpReceived).toBe(0);
    expect(probe.frames.every((f) => f[12] === 0x08 && f[13] === 0x06)).toBe(true); // only the endpoint's ARP requests were flooded

    // Set, used, then cleared: the endpoint still has the virtual MAC cached, and the segment drops what it sends there.
    await a.setDnsAddress('n', DNS);
    const reply = nextMessage(socket);
    socket.send(query('once.weft', 6), DNS, 53);
    await reply;
    await a.setDnsAddress('n', undefined);
    const before = await countersOf(a);
    socket.send(query('after.weft', 7), DNS, 53);
    await until(async () => (await countersOf(a))('net.n.segment.drops.no-fdb-entry') === before('net.n.segment.drops.no-fdb-entry') + 1, 'the segment to drop it');
    await sleep(20);
    expect(asked.map((q) => dnsPacket.decode(Buffer.from(q.message)).id)).toEqual([6]);
    const c = await countersOf(a);
    expect(c('dns.queries')).toBe(1);
    expect(c('net.n.segment.txPackets')).toBe(before('net.n.segment.txPackets'));
    expect(eb.counters.udpReceived).toBe(0);
    expect((await a.programmed()).networks[0]!.dnsAddress).toBeUndefined();
  });

  it('each network asks with its own id; a removed network keeps its DNS counts in the totals', async () => {
    const asked: DnsQuery[] = [];
    a.setDnsHandler(answering(asked));
    await a.ensureNetwork(net('m', 4097));
    const em = (await a.addLocalEndpoint('m', local('m1', '10.9.0.2'))).handle!;
    await a.setDnsAddress('n', DNS);
    await a.setDnsAddress('m', DNS);
    for (const e of [ea, em]) {
      const s = e.bind(0);
      const reply = nextMessage(s);
      s.send(query('svc.weft', 9), DNS, 53);
      expect((await reply).rinfo.address).toBe(DNS);
    }
    expect(asked.map((q) => q.networkId)).toEqual(['n', 'm']);
    await a.removeNetwork('m');
    const c = await countersOf(a);
    expect(c('dns.queries')).toBe(2);
    expect(c('net.n.dns.queries')).toBe(1);
  });
});
