import { textOf } from '@weft/interface';
import { RemoteStore } from '../../src/store/remote/remote-store';
import { storeConformanceCases, type StoreHarness } from '../../src/testing/store-conformance';
import { RaftStoreCluster } from '../support/raft-cluster';

const HISTORY = 64;

async function fill(store: { put(k: string, v: string): Promise<unknown> }): Promise<void> {
  for (let i = 0; i < HISTORY + 6; i++) await store.put('conf/zz-filler', String(i));
}

/** The store of a follower manager (writes are forwarded to the leader), 3 managers over TCP, LevelDB with fsync. */
async function openFollower(): Promise<StoreHarness> {
  const cluster = await RaftStoreCluster.start({ level: true, historyLimit: HISTORY });
  const store = await cluster.follower();
  return { store, prefix: 'conf/', compact: () => fill(store), close: () => cluster.close() };
}

/** A worker's view: RemoteStore → a follower manager's StoreServer → its RaftStore. */
async function openRemote(): Promise<StoreHarness> {
  const cluster = await RaftStoreCluster.start({ historyLimit: HISTORY });
  const follower = await cluster.follower();
  const store = new RemoteStore({ endpoints: [follower.serverAddress!], requestTimeoutMs: 5000 });
  return {
    store,
    prefix: 'conf/',
    compact: () => fill(store),
    reconnect: async () => {
      const before = store.stats.connections;
      store.dropConnection();
      const deadline = Date.now() + 5000;
      while ((store.stats.connections === before || store.connectedTo === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    close: async () => {
      await store.close();
      await cluster.close();
    },
  };
}

describe('RaftStore conformance (follower manager, 3 managers, TCP + LevelDB)', () => {
  for (const c of storeConformanceCases()) it(c.name, () => c.run(openFollower));
});

describe('RemoteStore → follower RaftStore conformance', () => {
  for (const c of storeConformanceCases()) it(c.name, () => c.run(openRemote));
});

describe('RaftStore', () => {
  it('keeps serving through a leader crash and a restart from LevelDB; the restarted manager catches up', async () => {
    const cluster = await RaftStoreCluster.start({ level: true });
    try {
      const leader = await cluster.leader();
      const other = [...cluster.stores.values()].find((s) => s !== leader)!;
      await other.put('k', 'before');
      const oldId = leader.id;
      await cluster.stopOne(oldId);
      await other.put('k', 'after'); // retried internally until a new leader takes it
      expect(textOf((await other.get('k'))!)).toBe('after');
      const restarted = await cluster.startOne(oldId);
      const deadline = Date.now() + 10_000;
      let seen: string | undefined;
      while (Date.now() < deadline) {
        const kv = await restarted.get('k', { serializable: true });
        seen = kv && textOf(kv);
        if (seen === 'after') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toBe('after');
      expect(other.stats.retries + other.stats.forwarded + other.stats.proposed).toBeGreaterThan(0);
    } finally {
      await cluster.close();
    }
  });
});
