import { ManualClock } from '@weft/interface';
import { InvalidOptionsError, MemoryNetwork, UnderlayClosedError, type MemoryNetworkCounters } from '../../src';

function run(seed: number): { order: number[]; counters: MemoryNetworkCounters } {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ seed, clock, autoDeliver: false, loss: 0.2, duplicate: 0.1, reorder: 0.2, latencyMs: 5, jitterMs: 3 });
  const a = net.attach({ host: '10.0.0.1', port: 1 });
  const b = net.attach({ host: '10.0.0.2', port: 1 });
  const order: number[] = [];
  b.onReceive((p) => order.push(p[0]! | (p[1]! << 8)));
  for (let i = 0; i < 500; i++) {
    a.send(Uint8Array.of(i & 0xff, i >> 8), b.local);
    clock.advance(1);
    net.deliverDue();
  }
  clock.advance(1000);
  net.deliverDue();
  return { order, counters: net.counters };
}

describe('MemoryNetwork', () => {
  it('is deterministic for a seed, and the seed matters', () => {
    const x = run(3);
    const y = run(3);
    const z = run(4);
    expect(y).toEqual(x);
    expect(z.order).not.toEqual(x.order);
  });

  it('loses, duplicates and reorders in the proportions asked for, and accounts for every datagram', () => {
    const { order, counters } = run(11);
    expect(counters.sent).toBe(500);
    expect(counters.lost).toBeGreaterThan(60);
    expect(counters.lost).toBeLessThan(140);
    expect(counters.duplicated).toBeGreaterThan(15);
    expect(counters.delivered).toBe(counters.sent - counters.lost + counters.duplicated);
    expect(order).toHaveLength(counters.delivered);
    const inversions = order.filter((v, i) => i > 0 && v < order[i - 1]!).length;
    expect(inversions).toBeGreaterThan(10);
  });

  it('delivers in send order with no impairments, asynchronously on its own', async () => {
    const net = new MemoryNetwork();
    const a = net.attach();
    const b = net.attach();
    const got: number[] = [];
    const done = new Promise<void>((resolve) =>
      b.onReceive((p, from) => {
        expect(from).toEqual(a.local);
        got.push(p[0]!);
        if (got.length === 100) resolve();
      }),
    );
    for (let i = 0; i < 100; i++) a.send(Uint8Array.of(i), b.local);
    expect(got).toEqual([]);
    await done;
    expect(got).toEqual([...Array(100).keys()]);
    await Promise.all([a.close(), b.close()]);
  });

  it('counts datagrams to nobody, refuses a taken address, throws after close', async () => {
    const net = new MemoryNetwork({ autoDeliver: false });
    const a = net.attach({ host: '10.0.0.1', port: 7 });
    expect(() => net.attach({ host: '10.0.0.1', port: 7 })).toThrow(InvalidOptionsError);
    a.send(new Uint8Array(1), { host: '10.9.9.9', port: 1 });
    net.flush();
    expect(net.counters.unroutable).toBe(1);
    await a.close();
    await a.close();
    expect(() => a.send(new Uint8Array(1), a.local)).toThrow(UnderlayClosedError);
  });

  it('validates its options, naming the field', () => {
    expect(() => new MemoryNetwork({ loss: 1.5 })).toThrow(/option "loss"/);
    expect(() => new MemoryNetwork({ latencyMs: -1 })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'latencyMs' }));
    const net = new MemoryNetwork();
    expect(() => net.attach({ host: 'vtep-a' })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'host' }));
    expect(() => net.attach({ port: 65536 })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'port' }));
    expect(() => net.setConditions({ reorder: -0.1 })).toThrow(/^MemoryNetwork.setConditions: option "reorder" /);
  });

  it('routes every spelling of an IPv6 address to the same underlay', async () => {
    const net = new MemoryNetwork({ autoDeliver: false });
    const a = net.attach({ host: '2001:db8::1', port: 4789 });
    const b = net.attach({ host: '2001:DB8:0:0::2', port: 4789 });
    expect(() => net.attach({ host: '2001:db8:0::1', port: 4789 })).toThrow(/already attached/);
    const got: string[] = [];
    b.onReceive((p, from) => got.push(`${p[0]} from ${from.host}`));
    a.send(Uint8Array.of(1), { host: '2001:db8::2', port: 4789 });
    a.send(Uint8Array.of(2), { host: '2001:0db8:0000::0002', port: 4789 });
    net.flush();
    expect(got).toEqual(['1 from 2001:db8::1', '2 from 2001:db8::1']);
    expect(net.counters.unroutable).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });
});
