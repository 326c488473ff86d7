import { MemoryStore } from '../../src/store/memory-store';
import { RemoteStore } from '../../src/store/remote/remote-store';
import { StoreServer } from '../../src/store/remote/store-server';
import { storeConformanceCases, type StoreHarness } from '../../src/testing/store-conformance';

/** A RemoteStore talking the store protocol over real TCP on loopback to a StoreServer over a MemoryStore. */
async function open(): Promise<StoreHarness> {
  const backing = new MemoryStore({ historyLimit: 64 });
  const server = await StoreServer.listen({ store: backing, listen: { host: '127.0.0.1', port: 0 } });
  const store = new RemoteStore({ endpoints: [server.address], requestTimeoutMs: 5000 });
  return {
    store,
    prefix: 'conf/',
    compact: async () => {
      for (let i = 0; i < 70; i++) await backing.put('conf/zz-filler', String(i));
    },
    reconnect: async () => {
      const before = store.stats.connections;
      store.dropConnection();
      const deadline = Date.now() + 5000;
      while ((store.stats.connections === before || store.connectedTo === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    close: async () => {
      await store.close();
      await server.close();
      await backing.close();
    },
  };
}

describe('RemoteStore → StoreServer conformance (TCP on loopback)', () => {
  for (const c of storeConformanceCases()) it(c.name, () => c.run(open));
});
