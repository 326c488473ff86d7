/**
 * The real RaftNode driver under simulated faults (see driver-simulation.ts
 * and docs/raft-simulation.md). Slower per seed than the core simulation
 * (every event drains the driver's promise chains), so fewer seeds by default:
 * WEFT_DRIVER_SIM_SEEDS=N (default 20) from WEFT_SIM_SEED_START=K (default 1);
 * WEFT_SIM_SEED=N runs only seed N.
 */
import { seedsFromEnv } from '../seed-env';
import { DriverSimulation, driverConfigForSeed, driverReproLine, type DriverSimConfig, type DriverSimResult } from './driver-simulation';

/**
 * Driver seeds that once failed and are fixed, run on every CI run:
 * `{ seed, overrides?, found: 'YYYY-MM-DD: symptom' }`.
 */
const DRIVER_REGRESSION_SEEDS: readonly { seed: number; overrides?: Partial<DriverSimConfig>; found: string }[] = [
  {
    seed: 345,
    overrides: { fsyncMs: [5, 30] },
    found:
      '2026-11-21: with stores that have no writeReady, a crash between saving a received snapshot and the hard state left ' +
      'snapshot index 14 on disk with hard state commit 8, and RaftNode.create threw RaftInvariantError ' +
      '"hard state commit 8 outside [14, 14]" (fixed in loadState: commit and term are raised to the snapshot\'s)',
  },
  { seed: 507, overrides: { atomicReady: false, fsyncMs: [3, 20], snapshotThreshold: 8, snapshotTrailingEntries: 0 }, found: '2026-11-21: same torn snapshot write, slow disk' },
  { seed: 571, overrides: { atomicReady: false, fsyncMs: [3, 20], snapshotThreshold: 8, snapshotTrailingEntries: 0 }, found: '2026-11-21: same torn snapshot write, slow disk' },
  { seed: 594, overrides: { atomicReady: false, fsyncMs: [3, 20], snapshotThreshold: 8, snapshotTrailingEntries: 0 }, found: '2026-11-21: same torn snapshot write, slow disk' },
];

const selection = seedsFromEnv(20, 'WEFT_DRIVER_SIM_SEEDS');
const single = selection.single;
const seeds = selection.seeds;
const CHUNK = 10;

describe('RaftNode driver deterministic simulation', () => {
  let crashes = 0;
  let unknown = 0;
  for (let i = 0; i < seeds.length; i += CHUNK) {
    const chunk = seeds.slice(i, i + CHUNK);
    it(`seeds ${chunk[0]}..${chunk[chunk.length - 1]}: RaftKv histories over crashing RaftNodes are linearizable`, async () => {
      const failed: DriverSimResult[] = [];
      for (const seed of chunk) {
        const r = await new DriverSimulation(driverConfigForSeed(seed)).run();
        crashes += r.stats.crashes;
        unknown += r.stats.unknown;
        if (single) console.log(`seed ${seed}: ${r.failure ?? 'ok'}\n${JSON.stringify(r.stats)}\n${r.trace.join('\n')}`);
        if (r.failure) failed.push(r);
      }
      if (failed.length > 0) {
        const report = failed.map((r) => `seed ${r.seed}: ${r.failure}\n  reproduce: ${driverReproLine(r.seed)}`).join('\n');
        console.error(report);
        throw new Error(`${failed.length} driver simulation seed(s) failed:\n${report}`);
      }
    });
  }
  if (!single) {
    for (const r of DRIVER_REGRESSION_SEEDS) {
      it(`regression seed ${r.seed} (${r.found})`, async () => {
        const result = await new DriverSimulation(driverConfigForSeed(r.seed, r.overrides)).run();
        expect(result.failure).toBeNull();
      });
    }
  }

  if (seeds.length >= 10) {
    it('the runs crashed nodes and produced unknown outcomes', () => {
      expect(crashes).toBeGreaterThan(seeds.length / 2);
      expect(unknown).toBeGreaterThan(0);
    });
  }
});
