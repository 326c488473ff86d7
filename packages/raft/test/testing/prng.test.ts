import { Prng, RaftTestingError } from '@weft/raft/testing';

describe('Prng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('produces floats in [0, 1) and integers within inclusive bounds, roughly uniform', () => {
    const p = new Prng(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) {
      const f = p.next();
      expect(f >= 0 && f < 1).toBe(true);
      const k = p.int(0, 3);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(600);
  });

  it('shuffles to a permutation and forks independent streams', () => {
    const p = new Prng(1);
    const xs = p.shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...xs].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const f1 = new Prng(9).fork();
    const f2 = new Prng(9).fork();
    expect(f1.nextUint32()).toBe(f2.nextUint32());
  });

  it('rejects bad arguments', () => {
    expect(() => new Prng(Number.NaN)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'seed' }));
    expect(() => new Prng('1' as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'seed' }));
    expect(() => new Prng(1).int(3, 2)).toThrow(RaftTestingError);
    expect(() => new Prng(1).int(3, 2)).toThrow(/invalid range \[3, 2\]/);
    expect(() => new Prng(1).pick([])).toThrow(/empty list/);
  });
});
