import { MemoryStore } from '../../src/store/memory-store';
import { storeConformanceCases, type StoreHarness } from '../../src/testing/store-conformance';

/** A MemoryStore with a small history, so compaction is a matter of writing past it. */
async function open(): Promise<StoreHarness> {
  const store = new MemoryStore({ historyLimit: 64 });
  return {
    store,
    prefix: 'conf/',
    compact: async () => {
      for (let i = 0; i < 70; i++) await store.put('conf/zz-filler', String(i));
    },
    close: () => store.close(),
  };
}

describe('MemoryStore conformance', () => {
  for (const c of storeConformanceCases()) it(c.name, () => c.run(open));
});
