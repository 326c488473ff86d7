import type { Message } from '../../src/core/types';
import { MemoryTransport, MemoryTransportNetwork } from '../../src/transport';

const hb = (from: string, to: string, term: number): Message => ({ type: 'MsgHeartbeat', from, to, term });
/** Waits `ms`, then one more macrotask turn: a delivery scheduled with setImmediate before this call has run by then. */
const settle = async (ms = 5) => {
  await new Promise((r) => setTimeout(r, ms));
  await new Promise((r) => setImmediate(r));
};

function setup(seed = 1) {
  const net = new MemoryTransportNetwork({ seed });
  const got = new Map<string, Message[]>();
  for (const id of ['a', 'b', 'c']) {
    got.set(id, []);
    net.transport(id).onMessage((m) => got.get(id)!.push(m));
  }
  return { net, got, send: (from: string, to: string, term = 1) => net.transport(from).send([hb(from, to, term)]) };
}

describe('MemoryTransportNetwork', () => {
  test('delivers asynchronously, never inside send', async () => {
    const { net, got, send } = setup();
    send('a', 'b');
    expect(got.get('b')).toHaveLength(0);
    await settle();
    expect(got.get('b')).toHaveLength(1);
    await net.close();
  });

  test('partitions block both directions until healed; cuts block one direction', async () => {
    const { net, got, send } = setup();
    net.partition(['a'], ['b', 'c']);
    send('a', 'b');
    send('b', 'a');
    send('b', 'c');
    await settle();
    expect(got.get('a')).toHaveLength(0);
    expect(got.get('b')).toHaveLength(0);
    expect(got.get('c')).toHaveLength(1);
    net.heal();
    net.cut('a', 'b');
    send('a', 'b');
    send('b', 'a');
    await settle();
    expect(got.get('b')).toHaveLength(0);
    expect(got.get('a')).toHaveLength(1);
    net.uncut('a', 'b');
    send('a', 'b');
    await settle();
    expect(got.get('b')).toHaveLength(1);
    expect(net.stats().dropped).toBe(3);
    await net.close();
  });

  test('a partition also drops messages already in flight', async () => {
    const { net, got, send } = setup();
    send('a', 'b');
    net.isolate('b');
    await settle();
    expect(got.get('b')).toHaveLength(0);
    await net.close();
  });

  test('seeded drops and duplicates are replayable', async () => {
    const run = async (seed: number) => {
      const { net, got, send } = setup(seed);
      net.setFaults({ dropRate: 0.3, duplicateRate: 0.2 });
      for (let i = 1; i <= 200; i++) send('a', 'b', i);
      await settle(10);
      const terms = got.get('b')!.map((m) => m.term);
      const stats = net.stats();
      await net.close();
      return { terms, stats };
    };
    const x = await run(42);
    const y = await run(42);
    expect(x).toEqual(y);
    expect(x.stats.dropped).toBeGreaterThan(20);
    expect(x.stats.duplicated).toBeGreaterThan(10);
    expect(x.terms.length).toBe(200 - x.stats.dropped + x.stats.duplicated);
  });

  test('random delays reorder messages', async () => {
    const { net, got, send } = setup(3);
    net.setFaults({ minDelayMs: 0, maxDelayMs: 20 });
    for (let i = 1; i <= 50; i++) send('a', 'b', i);
    for (let i = 0; i < 100 && got.get('b')!.length < 50; i++) await settle(5);
    const terms = got.get('b')!.map((m) => m.term);
    expect(terms.slice().sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(terms).not.toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await net.close();
  });

  test('serialize: messages cross the wire codec (copies, validated; refused ones counted)', async () => {
    const net = new MemoryTransportNetwork({ serialize: true });
    const got: Message[] = [];
    net.transport('b').onMessage((m) => got.push(m));
    const sent: Message = { type: 'MsgApp', from: 'a', to: 'b', term: 2, index: 4, logTerm: 1, commit: 3, entries: [{ index: 5, term: 2, type: 'normal', data: Uint8Array.of(7) }] };
    net.transport('a').send([sent, { type: 'MsgHeartbeat', from: 'b', to: 'b', term: 1 }]);
    await settle();
    expect(got).toHaveLength(1);
    expect(got[0]).not.toBe(sent);
    expect(got[0]).toMatchObject({ type: 'MsgApp', from: 'a', to: 'b', term: 2, index: 4, logTerm: 1, commit: 3 });
    expect(Array.from(got[0]!.entries![0]!.data)).toEqual([7]);
    expect(net.stats().malformed).toBe(1);
    await net.close();
  });

  test('bad fault settings throw InvalidOptionsError naming the field and keep the old settings', async () => {
    const net = new MemoryTransportNetwork();
    expect(() => net.setFaults({ dropRate: 2 })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'dropRate' }));
    expect(() => net.setFaults({ dropRate: 2 })).toThrow(/^MemoryTransportNetwork\.setFaults: option "dropRate" .*\(got 2\)$/);
    expect(() => net.setFaults({ minDelayMs: 5, maxDelayMs: 1 })).toThrow(expect.objectContaining({ field: 'maxDelayMs' }));
    expect(() => net.setFaults({ minDelayMs: 5, maxDelayMs: 1 })).toThrow(/must be >= minDelayMs/);
    // nothing was changed by the refused calls: delivery is immediate and lossless
    const got: Message[] = [];
    net.transport('b').onMessage((m) => got.push(m));
    net.transport('a').send([hb('a', 'b', 1)]);
    await settle();
    expect(got).toHaveLength(1);
    await net.close();
  });

  test('bad constructor options and transport ids throw InvalidOptionsError naming the field', () => {
    expect(() => new MemoryTransportNetwork({ seed: 'x' } as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'seed' }));
    expect(() => new MemoryTransportNetwork({ scheduler: {} } as never)).toThrow(expect.objectContaining({ field: 'scheduler' }));
    expect(() => new MemoryTransportNetwork({ serialize: 1 } as never)).toThrow(expect.objectContaining({ field: 'serialize' }));
    expect(() => new MemoryTransportNetwork().transport('')).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'id' }));
    expect(() => new MemoryTransport('a', {} as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'network' }));
  });

  test('a closed transport receives nothing and close() cancels pending delays', async () => {
    const { net, got, send } = setup();
    net.setFaults({ minDelayMs: 50, maxDelayMs: 50 });
    send('a', 'b');
    await net.close();
    await settle(60);
    expect(got.get('b')).toHaveLength(0);
  });
});
