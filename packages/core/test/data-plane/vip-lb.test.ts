/**
 * Client-side VIP load balancing on the userspace plane: each local
 * endpoint's shim answers ARP for the VIP, rewrites each UDP flow to a
 * backend chosen by rendezvous hashing and pinned, and rewrites the
 * backend's replies to come from the VIP. Plus the pure parts: rendezvous
 * stability (property), incremental checksums against a full recomputation
 * (property), the flow table's expiry and bound, and the shim's pass-through.
 */
import fc from 'fast-check';
import { formatIpv4, macForIpv4, ManualClock, parseIpv4, parseMac, type ServiceVip } from '@weft/interface';
import { Endpoint, MemoryNetwork, VXLAN_HEADROOM, writeUdpFrame, type EndpointUdpSocket, type PortLink, type RemoteInfo, type Segment } from '@weft/vxlan';
import type { UserspaceDataPlane } from '../../src/data-plane';
import { rewriteIpv4Address } from '../../src/data-plane/address-rewrite';
import { NetworkServices, type ServiceSettings } from '../../src/data-plane/network-services';
import { chooseBackend, flowHash } from '../../src/data-plane/rendezvous';
import { ServicePort } from '../../src/data-plane/service-port';
import { VipBalancer } from '../../src/data-plane/vip-balancer';
import { countersOf, local, net, PlaneRegistry, remoteOf, sleep, until } from './helpers';

const VIP = '10.9.0.100';
const PORT = 8080;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const u32 = (ip: string): number => parseIpv4(ip);

/** The backend the plane must pick for a new flow: rendezvous over `up`, as documented. */
function expected(client: Endpoint, clientPort: number, up: string[]): string {
  return formatIpv4(chooseBackend(flowHash(17, u32(client.ip), clientPort, u32(VIP), PORT), up.map(u32)));
}

/** One client UDP socket = one flow to VIP:PORT; every reply it gets. */
interface Flow {
  client: Endpoint;
  socket: EndpointUdpSocket;
  replies: { backend: string; tag: string; rinfo: RemoteInfo }[];
}

function openFlows(clients: Endpoint[], perClient: number): Flow[] {
  const flows: Flow[] = [];
  for (const client of clients) {
    for (let i = 0; i < perClient; i++) {
      const socket = client.bind(0);
      const flow: Flow = { client, socket, replies: [] };
      socket.on('message', (data: Uint8Array, rinfo: RemoteInfo) => {
        const [backend, tag] = dec(data).split('|') as [string, string];
        flow.replies.push({ backend, tag, rinfo });
      });
      flows.push(flow);
    }
  }
  return flows;
}

/** Sends one datagram tagged `tag` on every flow, waits for every reply, and returns each flow's backend (by IP). */
async function round(flows: Flow[], tag: string): Promise<string[]> {
  for (const f of flows) f.socket.send(enc(tag), VIP, PORT);
  const answered = (f: Flow) => f.replies.find((r) => r.tag === tag);
  await until(() => flows.every((f) => answered(f) !== undefined), `every flow's reply to ${tag}`, 5000);
  return flows.map((f) => answered(f)!.backend);
}

/** A backend service on PORT that answers `<its ip>|<payload>`, and remembers who asked. */
function serve(e: Endpoint): { seen: string[] } {
  const seen: string[] = [];
  const s = e.bind(PORT);
  s.on('message', (data: Uint8Array, rinfo: RemoteInfo) => {
    seen.push(`${rinfo.address}:${rinfo.port}`);
    s.send(enc(`${e.ip}|${dec(data)}`), rinfo.address, rinfo.port);
  });
  return { seen };
}

const vip = (backends: [string, 'up' | 'draining'][]): ServiceVip => ({ vip: VIP, backends: backends.map(([ip, state]) => ({ ip, state })) });

describe('UserspaceDataPlane: client-side VIP load balancing', () => {
  const registry = new PlaneRegistry();
  let c: UserspaceDataPlane;
  let clients: Endpoint[];
  /** Backends by IP: three on their own planes, the fourth local to the clients' plane. */
  let seen: Map<string, string[]>;
  let backendEps: Map<string, Endpoint>;
  const [B1, B2, B3, B4] = ['10.9.0.11', '10.9.0.12', '10.9.0.13', '10.9.0.14'] as const;

  beforeEach(async () => {
    const network = new MemoryNetwork();
    const spec = net('svc', 4200);
    c = await registry.memory(network, 'node-c', '192.0.2.10');
    await c.ensureNetwork(spec);
    const lc = [local('c1', '10.9.0.2'), local('c2', '10.9.0.3')];
    clients = [];
    for (const l of lc) clients.push((await c.addLocalEndpoint('svc', l)).handle!);
    seen = new Map();
    backendEps = new Map();
    let n = 11;
    for (const ip of [B1, B2, B3]) {
      const p = await registry.memory(network, `node-${ip}`, `192.0.2.${n++}`);
      await p.ensureNetwork(spec);
      const l = local(`e-${ip}`, ip);
      const e = (await p.addLocalEndpoint('svc', l)).handle!;
      for (const cl of lc) await p.addRemoteEndpoint('svc', remoteOf(c, cl));
      await c.addRemoteEndpoint('svc', remoteOf(p, l));
      backendEps.set(ip, e);
      seen.set(ip, serve(e).seen);
    }
    const e4 = (await c.addLocalEndpoint('svc', local('e4', B4))).handle!;
    backendEps.set(B4, e4);
    seen.set(B4, serve(e4).seen);
  });
  afterEach(() => registry.closeAll());

  it('spreads flows over every backend, keeps each flow on one, and replies come from the VIP', async () => {
    await c.setServiceVip('svc', vip([[B1, 'up'], [B2, 'up'], [B3, 'up']]));
    const flows = openFlows(clients, 16);
    const first = await round(flows, 'r1');
    expect(new Set(first)).toEqual(new Set([B1, B2, B3]));
    expect(first).toEqual(flows.map((f) => expected(f.client, f.socket.port, [B1, B2, B3])));
    for (const tag of ['r2', 'r3', 'r4']) expect(await round(flows, tag)).toEqual(first);
    for (const f of flows) {
      for (const r of f.replies) expect(r.rinfo).toMatchObject({ address: VIP, port: PORT });
    }
    // The backends saw the clients' own addresses (only the destination is translated).
    const askers = new Set([...seen.values()].flat().map((s) => s.split(':')[0]));
    expect(askers).toEqual(new Set(['10.9.0.2', '10.9.0.3']));
    expect(seen.get(B4)).toEqual([]);
    const k = await countersOf(c);
    expect(k('lb.newFlows')).toBe(32);
    expect(k('lb.rewrittenOut')).toBe(128);
    expect(k('lb.rewrittenIn')).toBe(128);
    expect(k('lb.arpAnswered')).toBe(2); // one ARP per client, answered by its shim
    expect(k('net.svc.lb.newFlows')).toBe(32);
    expect(k('lb.moved') + k('lb.drops.no-backend') + k('lb.drops.unresolved')).toBe(0);
    // The VIP is in no table.
    const seg = clients[0]!.segment!;
    expect(seg.neighbourEntries().map((e) => e.ip)).not.toContain(VIP);
    expect(seg.fdbEntries().map((e) => e.mac)).not.toContain(macForIpv4(u32(VIP)));
  });

  it('adding a fourth backend moves no pinned flow; new flows may go to it (a local backend)', async () => {
    await c.setServiceVip('svc', vip([[B1, 'up'], [B2, 'up'], [B3, 'up']]));
    const flows = openFlows(clients, 16);
    const before = await round(flows, 'r1');
    await c.setServiceVip('svc', vip([[B1, 'up'], [B2, 'up'], [B3, 'up'], [B4, 'up']]));
    expect(await round(flows, 'r2')).toEqual(before);
    const fresh = openFlows(clients, 16);
    const chosen = await round(fresh, 'n1');
    expect(chosen).toEqual(fresh.map((f) => expected(f.client, f.socket.port, [B1, B2, B3, B4])));
    expect(chosen).toContain(B4);
    for (const f of fresh) for (const r of f.replies) expect(r.rinfo.address).toBe(VIP);
    expect((await countersOf(c))('lb.moved')).toBe(0);
  });

  it('removing a backend moves only its flows, on their next datagram', async () => {
    await c.setServiceVip('svc', vip([[B1, 'up'], [B2, 'up'], [B3, 'up']]));
    const flows = openFlows(clients, 16);
    const before = await round(flows, 'r1');
    const onB2 = before.filter((b) => b === B2).length;
    expect(onB2).toBeGreaterThan(0);
    const b2Seen = seen.get(B2)!.length;
    await c.setServiceVip('svc', vip([[B1, 'up'], [B3, 'up']]));
    const after = await round(flows, 'r2');
    flows.forEach((f, i) => {
      if (before[i] === B2) expect(after[i]).toBe(expected(f.client, f.socket.port, [B1, B3]));
      else expect(after[i]).toBe(before[i]);
    });
    expect(seen.get(B2)!.length).toBe(b2Seen); // the first datagram after the removal already went elsewhere
    expect((await countersOf(c))('lb.moved')).toBe(onB2);
    expect(await round(flows, 'r3')).toEqual(after);
  });

  it('a draining backend keeps its pinned flows and gets no new one', async () => {
    await c.setServiceVip('svc', vip([[B1, 'up'], [B2, 'up'], [B3, 'up']]));
    const flows = openFlows(clients, 16);
    const before = await round(flows, 'r1');
    expect(before).toContain(B1);
    await c.setServiceVip('svc', vip([[B1, 'draining'], [B2, 'up'], [B3, 'up']]));
    expect(await round(flows, 'r2')).toEqual(before);
    const fresh = openFlows(clients, 16);
    const chosen = await round(fresh, 'n1');
    expect(chosen).not.toContain(B1);
    expect(chosen).toEqual(fresh.map((f) => expected(f.client, f.socket.port, [B2, B3])));
  });

  it('no up backend: new and moved flows are dropped and counted; a removed VIP forwards nothing', async () => {
    await c.setServiceVip('svc', vip([[B1, 'up'], [B2, 'up'], [B3, 'up']]));
    const flows = openFlows(clients, 8);
    const before = await round(flows, 'r1');
    const onB1 = flows.filter((_, i) => before[i] === B1);
    const others = flows.filter((_, i) => before[i] !== B1);
    expect(onB1.length).toBeGreaterThan(0);
    // B2 and B3 removed, B1 draining: B1's flows continue, the others have nowhere to go.
    await c.setServiceVip('svc', vip([[B1, 'draining']]));
    expect(await round(onB1, 'r2')).toEqual(onB1.map(() => B1));
    for (const f of others) f.socket.send(enc('lost'), VIP, PORT);
    const fresh = openFlows([clients[0]!], 1);
    fresh[0]!.socket.send(enc('lost'), VIP, PORT);
    const dropped = others.length + 1;
    await until(async () => (await countersOf(c))('lb.drops.no-backend') === dropped, 'the flows without a backend to be dropped');
    // Every backend removed: the VIP is gone, its flows forgotten; what the clients still send there is dropped by the segment.
    const seenBefore = [...seen.values()].map((s) => s.length);
    await c.setServiceVip('svc', vip([]));
    const k0 = await countersOf(c);
    for (const f of onB1) f.socket.send(enc('gone'), VIP, PORT);
    await until(async () => (await countersOf(c))('net.svc.segment.drops.no-fdb-entry') === k0('net.svc.segment.drops.no-fdb-entry') + onB1.length, 'the segment to drop them');
    await sleep(20);
    const k = await countersOf(c);
    expect(k('lb.rewrittenOut')).toBe(k0('lb.rewrittenOut'));
    expect([...seen.values()].map((s) => s.length)).toEqual(seenBefore);
    for (const f of [...others, ...fresh]) expect(f.replies.filter((r) => r.tag === 'lost')).toEqual([]);
    expect((await c.programmed()).networks[0]!.vips).toEqual([]);
  });

  it('answers ping to the VIP itself, from the VIP', async () => {
    await c.setServiceVip('svc', vip([[B1, 'up']]));
    expect(await clients[0]!.ping(VIP, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    const k = await countersOf(c);
    expect(k('lb.echoAnswered')).toBe(1);
    expect(backendEps.get(B1)!.counters.echoRequestsAnswered).toBe(0);
  });

  it('reads back the VIPs as given', async () => {
    const v = vip([[B2, 'draining'], [B1, 'up']]);
    await c.setServiceVip('svc', v);
    expect((await c.programmed()).networks[0]!.vips).toEqual([{ vip: VIP, backends: [{ ip: B1, state: 'up' }, { ip: B2, state: 'draining' }] }]);
  });
});

describe('rendezvous choice (property)', () => {
  const ip = fc.integer({ min: 0, max: 0xffffffff });
  const backends = fc.uniqueArray(ip, { minLength: 1, maxLength: 16 });

  it('adding a backend moves a flow only to the new backend, and order never matters', () => {
    fc.assert(
      fc.property(ip, fc.integer({ min: 1, max: 65535 }), ip, fc.integer({ min: 1, max: 65535 }), backends, ip, (client, cport, v, vport, set, extra) => {
        fc.pre(!set.includes(extra));
        const h = flowHash(17, client, cport, v, vport);
        const before = chooseBackend(h, set);
        const after = chooseBackend(h, [...set, extra]);
        expect(after === before || after === extra).toBe(true);
        expect(chooseBackend(h, [extra, ...[...set].reverse()])).toBe(after);
        // Removing a backend that was not chosen moves nothing either.
        if (set.length > 1) {
          const other = set.find((b) => b !== before)!;
          expect(chooseBackend(h, set.filter((b) => b !== other))).toBe(before);
        }
      }),
      { seed: 20240611, numRuns: 500 },
    );
  });

  it('spreads flows roughly evenly', () => {
    const set = [B(11), B(12), B(13)];
    const counts = new Map<number, number>();
    for (let port = 49152; port < 49152 + 3000; port++) {
      const b = chooseBackend(flowHash(17, u32('10.9.0.2'), port, u32(VIP), PORT), set);
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    for (const b of set) expect(counts.get(b)).toBeGreaterThan(800);
  });

  function B(n: number): number {
    return u32(`10.9.0.${n}`);
  }
});

describe('incremental checksum update (property, RFC 1624)', () => {
  const addr = fc.integer({ min: 0, max: 0xffffffff });

  it('gives the same bytes as building the frame with the new address', () => {
    fc.assert(
      fc.property(addr, addr, addr, fc.uint8Array({ maxLength: 64 }), fc.boolean(), fc.boolean(), (src, dst, to, data, checksum, rewriteSource) => {
        const fields = { dstMac: parseMac('02:42:0a:09:00:0b'), srcMac: parseMac('02:42:0a:09:00:02'), srcIp: src, dstIp: dst, id: 7, ttl: 64, srcPort: 40000, dstPort: PORT, checksum };
        const frame = writeUdpFrame(fields, data);
        rewriteIpv4Address(frame, 14, rewriteSource ? 26 : 30, to, 34);
        const want = writeUdpFrame(rewriteSource ? { ...fields, srcIp: to } : { ...fields, dstIp: to }, data);
        expect(Buffer.from(frame.subarray(0, 34)).toString('hex')).toBe(Buffer.from(want.subarray(0, 34)).toString('hex'));
        // The UDP checksum: equal, or the other ones'-complement zero (0x0000 is "none" and never produced when on).
        const got = (frame[40]! << 8) | frame[41]!;
        const exp = (want[40]! << 8) | want[41]!;
        if (!checksum) expect(got).toBe(0);
        else expect(got).toBe(exp);
      }),
      { seed: 1624, numRuns: 1000 },
    );
  });
});

describe('VipBalancer and its flow table (manual clock)', () => {
  function setup(maxFlows = 8, idleMs = 1000) {
    const clock = new ManualClock(0);
    const settings: ServiceSettings = { clock, flowIdleMs: idleMs, maxFlows, dnsHandler: () => undefined };
    const macs = new Map([10, 11, 12].map((n) => [u32(`10.9.0.${n}`), parseMac(macForIpv4(u32(`10.9.0.${n}`)))]));
    const services = new NetworkServices('n', settings, (ip) => macs.get(ip));
    services.setVip(vip([['10.9.0.10', 'up'], ['10.9.0.11', 'up']]));
    const balancer = new VipBalancer(u32('10.9.0.2'), services);
    const entry = services.vips.get(u32(VIP))!;
    return { clock, services, balancer, entry, lb: services.counters.lb };
  }

  it('keeps a flow while it is used, forgets it after the idle time, and finds replies by backend and ports', () => {
    const { clock, balancer, entry, lb } = setup();
    const f = balancer.route(entry, 40000, PORT, clock.now())!;
    expect(balancer.reply(f.backend, PORT, 40000, clock.now())).toBe(f);
    expect(balancer.reply(f.backend, PORT, 40001, clock.now())).toBeUndefined();
    clock.advance(999);
    expect(balancer.route(entry, 40000, PORT, clock.now())).toBe(f);
    clock.advance(999);
    expect(balancer.reply(f.backend, PORT, 40000, clock.now())).toBe(f); // a reply refreshes it too
    clock.advance(1001);
    const g = balancer.route(entry, 40000, PORT, clock.now())!;
    expect(g).not.toBe(f);
    expect(g.backend).toBe(f.backend); // deterministic: the same choice again
    expect(lb).toMatchObject({ newFlows: 2, expired: 1 });
  });

  it('sweeps idle flows and evicts the oldest when full', () => {
    const { clock, balancer, entry, lb } = setup(3, 1000);
    for (let p = 1; p <= 3; p++) balancer.route(entry, p, PORT, clock.now());
    expect(balancer.size).toBe(3);
    balancer.route(entry, 4, PORT, clock.now());
    expect(balancer.size).toBe(3);
    expect(lb.evicted).toBe(1);
    balancer.route(entry, 1, PORT, clock.now()); // the oldest (port 1) was forgotten: a new flow
    expect(lb.newFlows).toBe(5);
    clock.advance(2000);
    balancer.route(entry, 9, PORT, clock.now()); // the new-flow path sweeps everything idle
    expect(balancer.size).toBe(1);
    expect(lb.expired + lb.evicted).toBe(5);
  });

  it('moves a flow whose backend is removed, and drops (counted) when none is up or the MAC is unknown', () => {
    const { clock, services, balancer, entry, lb } = setup();
    const f = balancer.route(entry, 5000, PORT, clock.now())!;
    const other = f.backend === u32('10.9.0.10') ? '10.9.0.11' : '10.9.0.10';
    services.setVip(vip([[other, 'up']]));
    expect(balancer.route(entry, 5000, PORT, clock.now())!.backend).toBe(u32(other));
    expect(balancer.reply(f.backend, PORT, 5000, clock.now())).toBe(f); // the reverse key moved with it
    expect(lb.moved).toBe(1);
    services.setVip(vip([[other, 'draining']]));
    expect(balancer.route(entry, 5001, PORT, clock.now())).toBeUndefined();
    expect(lb.drops['no-backend']).toBe(1);
    services.setVip(vip([['10.9.0.99', 'up']])); // nobody holds that address
    expect(balancer.route(entry, 5002, PORT, clock.now())).toBeUndefined();
    expect(lb.drops.unresolved).toBe(1);
  });

  it('never picks the client itself', () => {
    const { clock, services, balancer, entry, lb } = setup();
    services.setVip(vip([['10.9.0.2', 'up']]));
    expect(balancer.route(entry, 1, PORT, clock.now())).toBeUndefined();
    expect(lb.drops['no-backend']).toBe(1);
  });
});

describe('ServicePort pass-through', () => {
  function shim(withVip: boolean) {
    const settings: ServiceSettings = { clock: new ManualClock(0), flowIdleMs: 1000, maxFlows: 8, dnsHandler: () => undefined };
    const services = new NetworkServices('n', settings, (ip) => parseMac(macForIpv4(ip)));
    if (withVip) services.setVip(vip([['10.9.0.11', 'up']]));
    const endpoint = new Endpoint({ mac: macForIpv4(u32('10.9.0.2')), ip: '10.9.0.2' });
    const port = new ServicePort(endpoint, services);
    const sent: { frame: Uint8Array; headroom: number }[] = [];
    const link: PortLink = { segment: {} as Segment, transmit: (frame, headroom = 0) => void sent.push({ frame, headroom }), detach: () => undefined };
    port.attached(link);
    return { port, endpoint, sent, services };
  }
  const udpTo = (dst: string, dstMac = macForIpv4(u32(dst))): Uint8Array =>
    writeUdpFrame({ dstMac: parseMac(dstMac), srcMac: parseMac(macForIpv4(u32('10.9.0.2'))), srcIp: u32('10.9.0.2'), dstIp: u32(dst), id: 1, ttl: 64, srcPort: 40000, dstPort: PORT, checksum: true }, enc('x'));

  it('with no VIP and no DNS address passes the very frame and its headroom, both ways', () => {
    const { port, endpoint, sent } = shim(false);
    const f = udpTo('10.9.0.3');
    const copy = Uint8Array.from(f);
    port.transmit(f, VXLAN_HEADROOM);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.frame).toBe(f);
    expect(sent[0]!.headroom).toBe(VXLAN_HEADROOM);
    expect(f).toEqual(copy);
    expect(endpoint.segment).toBeDefined();
    const before = endpoint.counters.rxFrames;
    port.receive(udpTo('10.9.0.2'));
    expect(endpoint.counters.rxFrames).toBe(before + 1);
  });

  it('with a VIP: other traffic passes untouched; VIP traffic is rewritten in place and keeps its headroom', () => {
    const { port, sent } = shim(true);
    const other = udpTo('10.9.0.3');
    const copy = Uint8Array.from(other);
    port.transmit(other, VXLAN_HEADROOM);
    expect(sent[0]!.frame).toBe(other);
    expect(other).toEqual(copy);
    const toVip = udpTo(VIP);
    port.transmit(toVip, VXLAN_HEADROOM);
    expect(sent[1]!.frame).toBe(toVip); // no copy
    expect(sent[1]!.headroom).toBe(VXLAN_HEADROOM);
    // Exactly the frame the endpoint would have built for the backend: MAC, address and both checksums.
    expect(Buffer.from(toVip).toString('hex')).toBe(Buffer.from(udpTo('10.9.0.11')).toString('hex'));
  });

  it('drops and counts protocols other than UDP and ICMP echo to a VIP', () => {
    const { port, sent, services } = shim(true);
    const tcp = udpTo(VIP);
    tcp[23] = 6;
    port.transmit(tcp, 0);
    expect(sent).toEqual([]);
    expect(services.counters.lb.drops.unsupported).toBe(1);
  });
});
