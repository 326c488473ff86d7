import fc from 'fast-check';
import { SortedKeys } from '../../src/kv/sorted-keys';

/** The obvious implementation, as the model. */
class Model {
  keys: string[] = [];
  insert(k: string): void {
    if (!this.keys.includes(k)) this.keys = [...this.keys, k].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  remove(k: string): void {
    this.keys = this.keys.filter((x) => x !== k);
  }
}

const key = fc.stringMatching(/^[a-d]{0,3}\/?[a-z0-9]{0,4}$/);
const op = fc.oneof(
  fc.record({ t: fc.constant('insert' as const), k: key }),
  fc.record({ t: fc.constant('remove' as const), k: key }),
  fc.record({ t: fc.constant('bulk' as const), n: fc.integer({ min: 0, max: 3000 }), p: fc.constantFrom('a/', 'b/', 'c') }),
);

describe('SortedKeys (chunked)', () => {
  it('behaves like a sorted array under inserts, removes and selections, across chunk splits and merges', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(key, { maxLength: 8 }), (ops, probes) => {
        const s = new SortedKeys();
        const m = new Model();
        for (const o of ops) {
          if (o.t === 'bulk') {
            // Many keys at once: enough to split chunks (1,024 keys each).
            for (let i = 0; i < o.n; i++) {
              const k = `${o.p}${String(i).padStart(5, '0')}`;
              s.insert(k);
              m.insert(k);
            }
          } else {
            s[o.t](o.k);
            m[o.t](o.k);
          }
        }
        expect(s.size).toBe(m.keys.length);
        expect(s.all()).toEqual(m.keys);
        for (const p of probes) {
          expect(s.select({ key: p })).toEqual(m.keys.filter((k) => k === p));
          expect(s.select({ prefix: p })).toEqual(m.keys.filter((k) => k.startsWith(p)));
          expect(s.select({ start: p })).toEqual(m.keys.filter((k) => k >= p));
          expect(s.select({ start: p, end: `${p}z` })).toEqual(m.keys.filter((k) => k >= p && k < `${p}z`));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('removes every key of a large set in random order back to empty', () => {
    const s = new SortedKeys();
    const keys = Array.from({ length: 5000 }, (_, i) => `k${(i * 7919) % 5000}`);
    for (const k of keys) s.insert(k);
    expect(s.size).toBe(5000);
    for (const k of keys.reverse()) s.remove(k);
    expect(s.size).toBe(0);
    expect(s.all()).toEqual([]);
    expect(s.select({ prefix: '' })).toEqual([]);
  });
});
