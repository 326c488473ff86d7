/**
 * The Fdb against a plain model, over random operation sequences on a few
 * MACs: its lookup caches (one entry each for `get` and `learn`) must never
 * answer with a removed, replaced or expired entry.
 */
import fc from 'fast-check';
import { Fdb, formatMacKey, type FdbTarget, type SocketAddress } from '../../src';

const KEYS = [0x020000000001, 0x020000000002, 0xfe0000000003, 0x0a0b0c0d0e0f];
const ADDRESSES: SocketAddress[] = [
  { host: '192.0.2.1', port: 4789 },
  { host: '192.0.2.2', port: 4789 },
  { host: '192.0.2.1', port: 4790 },
];
const AGING = 100;
const MAX_LEARNED = 2;

type Op =
  | { op: 'get'; k: number; dt: number }
  | { op: 'learn'; k: number; a: number; dt: number }
  | { op: 'static'; k: number; a: number }
  | { op: 'delete'; k: number }
  | { op: 'sweep'; dt: number };

interface ModelEntry {
  learned: boolean;
  address: SocketAddress;
  lastSeen: number;
}

/** The documented semantics, without caches. */
class Model {
  readonly table = new Map<number, ModelEntry>();
  get(k: number, now: number): SocketAddress | undefined {
    const e = this.table.get(k);
    if (e === undefined) return undefined;
    if (e.learned && now - e.lastSeen > AGING) return undefined;
    return e.address;
  }
  learn(k: number, a: SocketAddress, now: number): boolean {
    const e = this.table.get(k);
    if (e !== undefined) {
      if (!e.learned) return false;
      const same = e.address.host === a.host && e.address.port === a.port;
      e.lastSeen = now;
      if (same) return false;
      e.address = a;
      return true;
    }
    const learned = [...this.table.values()].filter((x) => x.learned).length;
    if (learned >= MAX_LEARNED && this.sweep(now) === 0) return false;
    this.table.set(k, { learned: true, address: a, lastSeen: now });
    return true;
  }
  sweep(now: number): number {
    let n = 0;
    for (const [k, e] of this.table) {
      if (e.learned && now - e.lastSeen > AGING) {
        this.table.delete(k);
        n++;
      }
    }
    return n;
  }
}

const addressOf = (t: FdbTarget | undefined): SocketAddress | undefined => (t === undefined || t.kind !== 'remote' ? undefined : t.address);

describe('Fdb against a model', () => {
  it('a deleted, replaced or swept entry is gone for the very next lookup of its key', () => {
    const fdb = new Fdb(AGING, MAX_LEARNED);
    const k = KEYS[3]!;
    const mac = formatMacKey(k);
    fdb.setStatic(mac, { kind: 'remote', address: ADDRESSES[0]! });
    expect(addressOf(fdb.get(k, 0))).toEqual(ADDRESSES[0]);
    fdb.setStatic(mac, { kind: 'remote', address: ADDRESSES[1]! });
    expect(addressOf(fdb.get(k, 0))).toEqual(ADDRESSES[1]);
    expect(fdb.delete(mac)).toBe(true);
    expect(fdb.get(k, 0)).toBeUndefined();
    expect(fdb.learn(k, ADDRESSES[2]!, 0)).toBe(true);
    expect(addressOf(fdb.get(k, 0))).toEqual(ADDRESSES[2]);
    expect(fdb.sweep(AGING + 1)).toBe(1);
    expect(fdb.get(k, 0)).toBeUndefined(); // even read with an old clock: the entry is gone, not just expired
    expect(fdb.learn(k, ADDRESSES[2]!, AGING + 1)).toBe(true); // new again, not a refresh
  });

  it('answers every lookup as the model does, whatever the sequence of changes', () => {
    const key = fc.integer({ min: 0, max: KEYS.length - 1 }).map((i) => KEYS[i]!);
    const addr = fc.integer({ min: 0, max: ADDRESSES.length - 1 });
    const dt = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 }));
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const), k: key, dt }) },
      { weight: 5, arbitrary: fc.record({ op: fc.constant('learn' as const), k: key, a: addr, dt }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('static' as const), k: key, a: addr }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), k: key }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('sweep' as const), dt }) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120, size: 'max' }), (ops) => {
        const fdb = new Fdb(AGING, MAX_LEARNED);
        const model = new Model();
        let now = 0;
        for (const o of ops) {
          if (o.op === 'get') {
            now += o.dt;
            // Twice: the second answer comes from the cache.
            for (let i = 0; i < 2; i++) if (JSON.stringify(addressOf(fdb.get(o.k, now))) !== JSON.stringify(model.get(o.k, now))) return false;
          } else if (o.op === 'learn') {
            now += o.dt;
            const a = ADDRESSES[o.a]!;
            if (fdb.learn(o.k, { ...a }, now) !== model.learn(o.k, a, now)) return false;
          } else if (o.op === 'static') {
            const a = ADDRESSES[o.a]!;
            fdb.setStatic(formatMacKey(o.k), { kind: 'remote', address: { ...a } });
            model.table.set(o.k, { learned: false, address: a, lastSeen: now });
          } else if (o.op === 'delete') {
            if (fdb.delete(formatMacKey(o.k)) !== model.table.delete(o.k)) return false;
          } else {
            now += o.dt;
            if (fdb.sweep(now) !== model.sweep(now)) return false;
          }
          for (const k of KEYS) if (JSON.stringify(addressOf(fdb.get(k, now))) !== JSON.stringify(model.get(k, now))) return false;
          if (fdb.size !== model.table.size) return false;
        }
        return true;
      }),
      { seed: 7348, numRuns: 500 },
    );
  });
});
