/**
 * The randomized fault simulation over many seeds (docs/raft-simulation.md).
 * Each seed: 5 RawNodes with MemoryStorage, KvStore as the state machine, a
 * lossy/duplicating/reordering network with partitions and one-way cuts,
 * crashes (also in the middle of handling a Ready) and restarts from persisted
 * state, 4 clients doing get/put/cas/delete. Safety properties are checked as
 * it runs; the client history is checked for linearizability at the end.
 */
import { reproLine, runSeed, type SimResult } from './simulation';
import { seedsFromEnv } from './seed-env';

const { seeds, single } = seedsFromEnv();
const CHUNK = 100;

function report(failed: SimResult[]): string {
  return failed
    .map((r) => `seed ${r.seed}: ${r.failure}\n  reproduce: ${reproLine(r.seed)}`)
    .join('\n');
}

describe('Raft + KvStore deterministic simulation', () => {
  const totals = { operations: 0, unknown: 0, crashes: 0, midReadyCrashes: 0, snapshotsInstalled: 0, elections: 0, confChanges: 0, transfers: 0, staleMembershipSnapshots: 0 };

  for (let i = 0; i < seeds.length; i += CHUNK) {
    const chunk = seeds.slice(i, i + CHUNK);
    it(`seeds ${chunk[0]}..${chunk[chunk.length - 1]} keep Raft safety and linearizable KV histories`, () => {
      const failed: SimResult[] = [];
      for (const seed of chunk) {
        const r = runSeed(seed);
        totals.operations += r.stats.operations;
        totals.unknown += r.stats.unknown;
        totals.crashes += r.stats.crashes;
        totals.snapshotsInstalled += r.stats.snapshotsInstalled;
        totals.elections += r.stats.leaderElections;
        totals.confChanges += r.stats.confChangesApplied;
        totals.staleMembershipSnapshots += r.stats.snapshotsPredatingMembership;
        totals.transfers += r.stats.faults['transfer-leader'] ?? 0;
        for (const stage of ['before-persist', 'after-persist', 'after-send']) totals.midReadyCrashes += r.stats.faults[`crash-${stage}`] ?? 0;
        if (single) console.log(`seed ${seed}: ${r.failure ?? 'ok'}\n${JSON.stringify(r.stats)}\n${r.trace.join('\n')}`);
        if (r.failure) failed.push(r);
      }
      if (failed.length > 0) {
        console.error(report(failed));
        throw new Error(`${failed.length} simulation seed(s) failed:\n${report(failed)}`);
      }
    });
  }

  if (!single) {
    it('seeds 1..50 stay safe and linearizable with pre-vote and check-quorum turned off', () => {
      const failed: SimResult[] = [];
      for (let seed = 1; seed <= 50; seed++) {
        const r = runSeed(seed, { preVote: false, checkQuorum: false });
        if (r.failure) failed.push(r);
      }
      if (failed.length > 0) {
        const lines = failed.map((r) => `seed ${r.seed}: ${r.failure}\n  reproduce: runSeed(${r.seed}, { preVote: false, checkQuorum: false }) from test/sim/simulation.ts`);
        throw new Error(`${failed.length} seed(s) failed without pre-vote/check-quorum:\n${lines.join('\n')}`);
      }
    });
  }

  if (seeds.length >= 100) {
    it('the fault schedule actually exercised crashes, elections, unknown outcomes, snapshots and membership changes', () => {
      expect(totals.operations).toBeGreaterThan(seeds.length * 50);
      expect(totals.crashes).toBeGreaterThan(seeds.length);
      expect(totals.midReadyCrashes).toBeGreaterThan(seeds.length / 2);
      expect(totals.elections).toBeGreaterThan(seeds.length * 2);
      expect(totals.unknown).toBeGreaterThan(seeds.length);
      expect(totals.snapshotsInstalled).toBeGreaterThan(seeds.length / 2);
      expect(totals.confChanges).toBeGreaterThan(seeds.length);
      expect(totals.transfers).toBeGreaterThan(seeds.length / 5);
      expect(totals.staleMembershipSnapshots).toBeGreaterThan(0);
    });
  }
});
