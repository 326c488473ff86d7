/**
 * Order statistics for benchmark rounds: every figure in docs/benchmarks.md is
 * a median over interleaved rounds, printed with the spread of those rounds.
 */

/** Median of `xs` (mean of the two middle values for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The `q`-quantile (0..1) of `xs` by the nearest-rank method (p90: q = 0.9); NaN for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil(q * s.length)));
  return s[rank - 1]!;
}

/** Smallest and largest of `xs`, and how many there were. */
export interface Spread {
  min: number;
  max: number;
  /** Number of rounds the spread is over. */
  rounds: number;
  /** What varies: the row's `value` or its `ratio`. */
  of: 'value' | 'ratio';
}

/** The spread of per-round figures `xs`. */
export function spreadOf(xs: readonly number[], of: Spread['of']): Spread {
  return { min: Math.min(...xs), max: Math.max(...xs), rounds: xs.length, of };
}

/** Per-round results of two measurements taken in alternating order. */
export interface PairedRounds {
  a: number[];
  b: number[];
  /** a[i] / b[i] for each round. */
  ratios: number[];
}

/**
 * Runs `rounds` rounds of `a` and `b`, alternating which goes first (so load
 * that drifts during a round hits both alike), and collects each round's
 * figures and ratio a/b.
 */
export async function pairedRounds(rounds: number, a: () => Promise<number> | number, b: () => Promise<number> | number, onRound?: (i: number, x: number, y: number) => void): Promise<PairedRounds> {
  const out: PairedRounds = { a: [], b: [], ratios: [] };
  for (let r = 0; r < rounds; r++) {
    let x: number;
    let y: number;
    if (r % 2 === 0) {
      x = await a();
      y = await b();
    } else {
      y = await b();
      x = await a();
    }
    out.a.push(x);
    out.b.push(y);
    out.ratios.push(x / y);
    onRound?.(r, x, y);
  }
  return out;
}
