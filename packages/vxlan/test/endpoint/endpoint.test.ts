import { ManualClock } from '@weft/interface';
import {
  Endpoint,
  EndpointClosedError,
  InvalidAddressError,
  InvalidOptionsError,
  MemoryNetwork,
  MessageTooLongError,
  PortInUseError,
  Vtep,
  icmpv4,
  ipv4,
  ethernet,
  type Segment,
} from '../../src';

function lan(clock = new ManualClock()) {
  const net = new MemoryNetwork({ autoDeliver: false, clock });
  const va = new Vtep({ underlay: net.attach({ host: '10.0.0.1', port: 4789 }), clock });
  const vb = new Vtep({ underlay: net.attach({ host: '10.0.0.2', port: 4789 }), clock });
  const sa = va.addSegment(1, { flood: [vb.local] });
  const sb = vb.addSegment(1, { flood: [va.local] });
  return { net, clock, va, vb, sa, sb };
}

/** Lets microtasks and the network run until quiet (bounded). */
async function settle(net: MemoryNetwork): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    if (net.flush() === 0 && net.pending === 0) return;
  }
}

describe('Endpoint', () => {
  it('ping() resolves with the round-trip time by the injected clock', async () => {
    const t = lan();
    const a = new Endpoint({ mac: '02:00:00:00:00:0a', ip: '10.1.0.1', clock: t.clock }).attach(t.sa);
    const b = new Endpoint({ mac: '02:00:00:00:00:0b', ip: '10.1.0.2', clock: t.clock }).attach(t.sb);
    try {
      const p = a.resolveMac(b.ip);
      await settle(t.net);
      await expect(p).resolves.toBe(b.mac);
      const ping = a.ping(b.ip, { timeoutMs: 10_000 });
      await Promise.resolve();
      t.clock.advance(7); // the echo request is in flight for 7 ms of clock time
      await settle(t.net);
      await expect(ping).resolves.toBe(7);
      expect(b.counters.echoRequestsAnswered).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close(), t.va.close(), t.vb.close()]);
    }
  });

  it('rejects pending pings with EndpointClosedError on close and leaves no timers', async () => {
    const t = lan();
    const a = new Endpoint({ mac: '02:00:00:00:00:0a', ip: '10.1.0.1', clock: t.clock }).attach(t.sa);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const p = a.ping('10.1.0.99', { timeoutMs: 60_000 });
    expect(timers()).toBeGreaterThan(before);
    await a.close();
    await expect(p).rejects.toBeInstanceOf(EndpointClosedError);
    expect(timers()).toBe(before);
    expect(t.sa.ports).toEqual([]);
    await expect(a.ping('10.1.0.2')).rejects.toBeInstanceOf(EndpointClosedError);
    await Promise.all([t.va.close(), t.vb.close()]);
  });

  it('gives up on an address nobody answers with HostUnreachableError', async () => {
    const net = new MemoryNetwork();
    const v = new Vtep({ underlay: net.attach() });
    const a = new Endpoint({ mac: '02:00:00:00:00:0a', ip: '10.1.0.1', arpTimeoutMs: 5, arpRetries: 2 }).attach(v.addSegment(3, { flood: [{ host: '127.0.0.1', port: 1 }] }));
    try {
      await expect(a.ping('10.1.0.50')).rejects.toMatchObject({ name: 'HostUnreachableError', ip: '10.1.0.50' });
      expect(v.counters.flooded).toBe(3); // first request + 2 retries
    } finally {
      await Promise.all([a.close(), v.close()]);
    }
  });

  it('UDP sockets: ephemeral ports, PortInUseError, MessageTooLongError, no-socket drops', async () => {
    const t = lan();
    const a = new Endpoint({ mac: '02:00:00:00:00:0a', ip: '10.1.0.1', clock: t.clock }).attach(t.sa);
    const b = new Endpoint({ mac: '02:00:00:00:00:0b', ip: '10.1.0.2', clock: t.clock }).attach(t.sb);
    try {
      const s1 = a.bind();
      const s2 = a.bind();
      expect(s1.port).toBeGreaterThanOrEqual(49152);
      expect(s2.port).not.toBe(s1.port);
      expect(() => a.bind(s1.port)).toThrow(PortInUseError);
      expect(() => s1.send(new Uint8Array(65508), b.ip, 1)).toThrow(MessageTooLongError);
      expect(() => s1.send(new Uint8Array(1), 'not-an-ip', 1)).toThrow(InvalidAddressError);
      expect(() => s1.send(new Uint8Array(1), 'not-an-ip', 1)).toThrow('"not-an-ip"');
      s1.send(new Uint8Array(4), b.ip, 4444); // nobody listens on 4444
      await settle(t.net);
      expect(b.counters.drops['no-socket']).toBe(1);
      s1.close();
      expect(() => s1.send(new Uint8Array(1), b.ip, 1)).toThrow(EndpointClosedError);
      expect(a.bind(s1.port).port).toBe(s1.port); // the port is free again
    } finally {
      await Promise.all([a.close(), b.close(), t.va.close(), t.vb.close()]);
    }
  });

  it('drops frames with a bad IPv4 checksum, fragments and other hosts\' packets, counting each', async () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ autoDeliver: false, clock });
    const v = new Vtep({ underlay: net.attach(), clock });
    const seg: Segment = v.addSegment(1);
    const b = new Endpoint({ mac: '02:00:00:00:00:0b', ip: '10.1.0.2', clock }).attach(seg);
    const injector = { mac: '02:00:00:00:00:0c', receive: () => undefined, link: undefined as undefined | { transmit(f: Uint8Array): void }, attached(l: { transmit(f: Uint8Array): void }) { this.link = l; } };
    seg.attach(injector);
    const icmp = icmpv4.encode({ type: 8, code: 0, id: 1, seq: 1, payload: new Uint8Array(8) });
    const packet = (over: Partial<Parameters<typeof ipv4.encode>[0]> = {}) =>
      ipv4.encode({ tos: 0, id: 1, df: false, mf: false, fragmentOffset: 0, ttl: 64, protocol: 1, src: '10.1.0.3', dst: '10.1.0.2', payload: icmp, ...over });
    const send = (p: Uint8Array) => injector.link!.transmit(ethernet.encode({ dst: b.mac, src: injector.mac, etherType: 0x0800, payload: p }));
    try {
      const bad = packet();
      bad[10]! ^= 0xff;
      send(bad);
      send(packet({ mf: true }));
      send(packet({ dst: '10.1.0.9' }));
      send(packet());
      await settle(net);
      expect(b.counters.drops).toMatchObject({ 'bad-checksum': 1, fragment: 1, 'not-for-me': 1 });
      expect(b.counters.echoRequestsAnswered).toBe(1);
    } finally {
      await Promise.all([b.close(), v.close()]);
    }
  });

  it('attaches to one segment at a time', async () => {
    const v = new Vtep({ underlay: new MemoryNetwork().attach() });
    const s1 = v.addSegment(1);
    const s2 = v.addSegment(2);
    const e = new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).attach(s1);
    expect(() => e.attach(s2)).toThrow(/already attached to segment 1/);
    expect(s2.ports).toEqual([]);
    expect(s2.fdbEntries()).toEqual([]);
    await e.close();
    expect(() => s2.attach(e)).toThrow(EndpointClosedError);
    await v.close();
  });

  it('validates options, naming the field', () => {
    expect(() => new Endpoint({ mac: '01:00:5e:00:00:01', ip: '10.0.0.1' })).toThrow(/option "mac" must be a unicast MAC/);
    expect(() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.256' })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'ip' }));
    expect(() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', arpRetries: -1 })).toThrow(InvalidOptionsError);
    const e = new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' });
    expect(() => e.ping('10.0.0.2', { size: -1 })).toThrow(/Endpoint.ping: option "size"/);
    expect(() => e.ping('10.0.0.2', { timeoutMs: 0 })).toThrow(expect.objectContaining({ field: 'timeoutMs' }));
    expect(() => e.ping('10.0.0')).toThrow(InvalidAddressError);
    for (const port of [-1, 65536, 1.5, '80' as never]) {
      expect(() => e.bind(port)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'port', message: expect.stringMatching(/^Endpoint\.bind: option "port" /) }));
    }
  });
});
