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
  /** value / baseline (or as the suite defines it, said in `note`). */
  ratio?: number;
  /** The figure the issue asks for, e.g. `ratio >= 0.85`. */
  target?: string;
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
