import type { SimConfig, SimResult } from './simulation';

/**
 * Seeds run on every CI run, in two kinds:
 *
 * - `found`: seeds that once failed, so the bug stays fixed. Add
 *   `{ name: 'what broke', seeds: [N], found: 'YYYY-MM-DD: symptom' }`.
 *   None has failed yet.
 * - coverage: candidate seeds that exercise a rare path. Every candidate
 *   must pass, and at least one must still exercise the path (`exercises`).
 *   Several candidates are listed because any change to the core or the
 *   simulation changes what a given seed does; if none covers the path any
 *   more the test says so, and new candidates must be picked (run seeds and
 *   look at `SimResult.stats`).
 */
export interface NamedSeeds {
  readonly name: string;
  readonly seeds: readonly number[];
  readonly overrides?: Partial<SimConfig>;
  /** What at least one run must have done for the entry to still be meaningful. */
  readonly exercises?: (stats: SimResult['stats']) => boolean;
  /** For seeds that found a bug: when and what. */
  readonly found?: string;
}

const f = (stats: SimResult['stats'], kind: string): number => stats.faults[kind] ?? 0;
const stages = (s: SimResult['stats']): number =>
  [f(s, 'crash-before-persist'), f(s, 'crash-after-persist'), f(s, 'crash-after-send')].filter((k) => k > 0).length;

export const REGRESSION_SEEDS: readonly NamedSeeds[] = [
  { name: 'crash before a Ready is persisted (its entries and vote are lost)', seeds: [5, 8, 11, 13, 24], exercises: (s) => f(s, 'crash-before-persist') > 0 },
  { name: 'crash after persisting a Ready, before its messages go out', seeds: [12, 14, 15, 18, 23], exercises: (s) => f(s, 'crash-after-persist') > 0 },
  { name: 'crash after sending a Ready, before applying it', seeds: [3, 6, 10, 14, 18], exercises: (s) => f(s, 'crash-after-send') > 0 },
  { name: 'crashes at two different Ready stages in one run', seeds: [14, 18, 24, 30, 34], exercises: (s) => stages(s) >= 2 },
  { name: 'asymmetric (one-way) partitions', seeds: [1, 4, 10, 13, 25], exercises: (s) => f(s, 'one-way-cut') >= 3 },
  { name: 'leader isolated repeatedly (check-quorum step-down)', seeds: [10, 12, 48, 78, 79], exercises: (s) => f(s, 'isolate-leader') >= 3 },
  { name: 'leadership transfers under faults', seeds: [3, 5, 13, 19, 26], exercises: (s) => f(s, 'transfer-leader') >= 2 },
  { name: 'snapshots, compaction and InstallSnapshot to lagging followers', seeds: [3, 5, 7, 11, 13], exercises: (s) => s.snapshotsInstalled > 0 && s.snapshotsTaken > 0 },
  { name: 'aggressive snapshotting (every 8 entries) with membership changes', seeds: [7, 37, 65, 66, 71], exercises: (s) => s.snapshotsInstalled >= 5 && s.confChangesApplied >= 5 },
  { name: 'membership: learners, promotions, removals, joint replacements', seeds: [3, 4, 5, 7, 16], exercises: (s) => s.confChangesApplied >= 8 },
  { name: 'a new member installs a snapshot taken before it was added', seeds: [3, 5, 7, 18, 37], exercises: (s) => s.snapshotsPredatingMembership > 0 },
  { name: 'membership changes without snapshots (new members replay the whole log)', seeds: [10, 16, 36, 43, 53], exercises: (s) => s.confChangesApplied >= 8 && s.snapshotsTaken === 0 },
];
