/**
 * Which seeds the simulation test runs, from the environment:
 * - WEFT_SIM_SEED=N: only seed N (a reproduction; prints the trace);
 * - WEFT_SIM_SEEDS=N (default 1000; the driver simulation reads
 *   WEFT_DRIVER_SIM_SEEDS) seeds from WEFT_SIM_SEED_START=K (default 1).
 */
export interface SeedSelection {
  readonly seeds: readonly number[];
  /** True when a single seed was asked for (verbose output). */
  readonly single: boolean;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function seedsFromEnv(defaultCount = 1000, countVariable = 'WEFT_SIM_SEEDS'): SeedSelection {
  if (process.env.WEFT_SIM_SEED !== undefined && process.env.WEFT_SIM_SEED !== '') {
    return { seeds: [intFromEnv('WEFT_SIM_SEED', 0)], single: true };
  }
  const count = intFromEnv(countVariable, defaultCount);
  const start = intFromEnv('WEFT_SIM_SEED_START', 1);
  return { seeds: Array.from({ length: count }, (_, i) => start + i), single: false };
}
