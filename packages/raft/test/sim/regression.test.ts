/** Named simulation seeds (see regression-seeds.ts): every seed passes, and each entry still exercises what it was picked for. */
import { REGRESSION_SEEDS } from './regression-seeds';
import { reproLine, runSeed, type SimResult } from './simulation';

describe('simulation regression seeds', () => {
  for (const named of REGRESSION_SEEDS) {
    it(`${named.name} (seeds ${named.seeds.join(', ')})`, () => {
      const results: SimResult[] = named.seeds.map((seed) => runSeed(seed, named.overrides));
      for (const r of results) {
        if (r.failure) throw new Error(`seed ${r.seed} failed: ${r.failure}\n  reproduce: ${reproLine(r.seed)}\n${r.trace.join('\n')}`);
      }
      if (named.exercises) {
        const covering = results.filter((r) => named.exercises?.(r.stats)).map((r) => r.seed);
        expect({ entry: named.name, covering: covering.length > 0 }).toEqual({ entry: named.name, covering: true });
      }
    });
  }
});
