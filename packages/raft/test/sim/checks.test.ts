/**
 * The simulation's checks are not vacuous: deliberately broken drivers are
 * caught, the safety monitor flags hand-made violations, and a seed replays
 * exactly.
 */
import { MemoryStorage } from '../../src/core';
import type { Entry } from '../../src/core/types';
import { SafetyMonitor, SafetyViolation } from './safety-monitor';
import { runSeed, Simulation, configForSeed } from './simulation';

const entry = (index: number, term: number, text = ''): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(text),
});

function logOf(entries: Entry[]): MemoryStorage {
  const s = new MemoryStorage();
  s.append(entries);
  return s;
}

describe('SafetyMonitor', () => {
  it('flags two leaders in one term (Election Safety, Raft §5.2)', () => {
    const m = new SafetyMonitor();
    m.onLeader('a', 3, logOf([]));
    m.onLeader('a', 3, logOf([])); // the same leader seen again is fine
    expect(() => m.onLeader('b', 3, logOf([]))).toThrow(new SafetyViolation('Election Safety: a and b are both leader in term 3'));
  });

  it('flags different entries applied at one index, and gaps (State Machine Safety, §5.4.3)', () => {
    const m = new SafetyMonitor();
    m.onApply('a', 0, entry(1, 1, 'x'));
    m.onApply('b', 0, entry(1, 1, 'x'));
    expect(() => m.onApply('c', 0, entry(1, 1, 'y'))).toThrow(SafetyViolation);
    expect(() => m.onApply('a', 1, entry(3, 1, 'z'))).toThrow(/applied index 3 right after 1/);
  });

  it('flags a leader missing a committed entry (Leader Completeness, §5.4)', () => {
    const m = new SafetyMonitor();
    m.onApply('a', 0, entry(1, 1));
    m.onApply('a', 1, entry(2, 2));
    expect(() => m.onLeader('b', 3, logOf([entry(1, 1)]))).toThrow(/last index 1 but index 2 \(term 2\) is committed/);
    expect(() => m.onLeader('c', 4, logOf([entry(1, 1), entry(2, 1)]))).toThrow(/term 1 at index 2, committed entry has term 2/);
    expect(() => m.onLeader('d', 5, logOf([entry(1, 1), entry(2, 2), entry(3, 3)]))).not.toThrow();
  });

  it('flags logs that agree on an entry but not on an earlier one (Log Matching, §5.3)', () => {
    const m = new SafetyMonitor();
    const a = logOf([entry(1, 1, 'p'), entry(2, 2, 'q'), entry(3, 2, 'r')]);
    const b = logOf([entry(1, 1, 'p'), entry(2, 2, 'q'), entry(3, 3, 's')]); // diverges after 2: fine
    m.checkLogMatching(new Map([['a', a], ['b', b]]));
    const c = logOf([entry(1, 1, 'p'), entry(2, 2, 'DIFFERENT'), entry(3, 2, 'r')]);
    expect(() => m.checkLogMatching(new Map([['a', a], ['c', c]]))).toThrow(/a and c agree on a later entry but differ at index 2/);
  });
});

describe('the simulation catches broken drivers', () => {
  it('serving reads from the local store without ReadIndex produces non-linearizable histories', () => {
    const failures = [];
    for (let seed = 1; seed <= 30; seed++) {
      const r = runSeed(seed, { unsafeLocalReads: true });
      if (r.failure) failures.push(r.failure);
    }
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) expect(f).toMatch(/^Linearizability: partition "[xyz]": not linearizable/);
  });

  it('sending a Ready before persisting it breaks the run when nodes crash before persisting, and only then', () => {
    const crashy = { midReadyCrash: 1, crashStages: ['before-persist' as const], nemesisMs: 30 };
    const broken: string[] = [];
    const sound: string[] = [];
    for (let seed = 1; seed <= 50; seed++) {
      const bad = runSeed(seed, { ...crashy, unsafeSendBeforePersist: true });
      if (bad.failure) broken.push(bad.failure);
      const good = runSeed(seed, crashy);
      if (good.failure) sound.push(`seed ${seed}: ${good.failure}`);
    }
    expect(sound).toEqual([]);
    expect(broken.length).toBeGreaterThan(0);
  });
});

describe('the simulation is deterministic', () => {
  it('replays a seed exactly: same stats, same client history, same final states', () => {
    const a = new Simulation(configForSeed(41));
    const b = new Simulation(configForSeed(41));
    const ra = a.run();
    const rb = b.run();
    expect(rb.stats).toEqual(ra.stats);
    expect(b.history()).toEqual(a.history());
    for (const [id, node] of a.nodes) {
      expect(Buffer.from(b.nodes.get(id)?.kv.snapshot() ?? []).equals(Buffer.from(node.kv.snapshot()))).toBe(true);
    }
    expect(runSeed(42).stats).not.toEqual(ra.stats);
  });
});
