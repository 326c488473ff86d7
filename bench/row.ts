import type { Spread } from './stats';

/** One measured figure, as written to bench/results/<suite>.json. */
export interface BenchRow {
  /** Stable name, e.g. `vtep forward pps`. */
  name: string;
  /** The measured value of the thing under test. */
  value: number;
  /** Unit of `value` (and `baseline`), e.g. `packets/s`, `bytes`, `ms`. */
  unit: string;
  /** The same work done by the baseline, measured in the same run. */
  baseline?: number;
  /** What the baseline is, e.g. `raw node:dgram`. */
  baselineName?: string;
  /** value / baseline, or the median of per-round ratios (said in `note`); the table also prints value ÷ baseline when the two differ. */
  ratio?: number;
  /** Lowest and highest per-round figure behind `value` or `ratio`. */
  spread?: Spread;
  /**
   * The figure the issue asks for: `[ratio|value] (>=|<=) N [unit]`, e.g.
   * `ratio >= 0.85` or `>= 100,000` (a bare comparison applies to `value`).
   */
  target?: string;
  /** Whether the row meets `target` (set by the runner from `target` unless the suite sets it); false prints ✗. */
  pass?: boolean;
  /** Free text: parameters, caveats. */
  note?: string;
}

/** A benchmark suite: bench/suites/<name>.ts default-exports one. */
export type BenchSuite = (ctx: BenchContext) => Promise<BenchRow[]>;

export interface BenchContext {
  /** Print a progress line (goes to stderr so the table stays clean). */
  log(message: string): void;
  /** Scale factor from WEFT_BENCH_SCALE (default 1); suites multiply their iteration counts by it. */
  scale: number;
}

/** Runs `fn` repeatedly for about `ms` milliseconds and returns operations per second. */
export function opsPerSecond(fn: (iterations: number) => void, ms = 1000, batch = 1000): number {
  // Warm up so the JIT has compiled the hot path.
  fn(batch);
  let iterations = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    fn(batch);
    iterations += batch;
    now = process.hrtime.bigint();
  }
  return iterations / (Number(now - start) / 1e9);
}

/**
 * Whether `row` meets its `target` (see {@link BenchRow.target}): undefined
 * when it has none, false when the measured figure is missing (NaN) or on the
 * wrong side. Compares the unrounded figure, so 0.847 fails `ratio >= 0.85`.
 * @throws Error for a target this grammar does not cover (so a typo cannot pass silently).
 */
export function meetsTarget(row: BenchRow): boolean | undefined {
  if (row.target === undefined) return undefined;
  const m = /^\s*(ratio\s+|value\s+)?(>=|<=)\s*([\d,]+(?:\.\d+)?)/.exec(row.target);
  if (!m) throw new Error(`bench row "${row.name}": cannot read target "${row.target}"`);
  const figure = m[1]?.trim() === 'ratio' ? row.ratio : row.value;
  const bound = Number(m[3]!.replace(/,/g, ''));
  if (figure === undefined || Number.isNaN(figure)) return false;
  return m[2] === '>=' ? figure >= bound : figure <= bound;
}
