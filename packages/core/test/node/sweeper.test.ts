import { MemoryStore } from '../../src/store/memory-store';
import { KeyLayout } from '../../src/records/keys';
import { Sweeper } from '../../src/node/sweeper';
import type { EndpointRecord } from '../../src/records/schemas';

function setup() {
  const store = new MemoryStore();
  const keys = new KeyLayout('weft/');
  const ctx = { store, keys, nodeId: 'm1', now: () => 0, randomBytes: (n: number) => new Uint8Array(n) };
  let clock = 0;
  const reclaimed: string[] = [];
  const sweeper = new Sweeper(ctx, 1000, async (r: EndpointRecord) => void reclaimed.push(r.id), () => undefined, () => clock);
  const endpoint = (id: string, nodeId: string): EndpointRecord => ({
    id,
    networkId: 'n1',
    name: id,
    aliases: [],
    ip: '10.0.0.2',
    prefixLength: 24,
    mac: '02:42:0a:00:00:02',
    nodeId,
    requestId: `r-${id}`,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  return {
    store,
    keys,
    sweeper,
    reclaimed,
    at: (t: number) => (clock = t),
    beat: (nodeId: string, seq: number) => store.put(keys.heartbeat(nodeId), JSON.stringify({ nodeId, seq })),
    attach: async (id: string, nodeId: string) => {
      await store.put(keys.endpoint('n1', id), JSON.stringify(endpoint(id, nodeId)));
      await store.put(keys.nodeEndpoint(nodeId, id), JSON.stringify({ networkId: 'n1' }));
    },
  };
}

describe('Sweeper', () => {
  it('reclaims a node whose heartbeat revision has not moved for the grace period, and spares one that beats', async () => {
    const t = setup();
    await t.attach('e-dead', 'w1');
    await t.attach('e-live', 'w2');
    await t.beat('w1', 1);
    await t.beat('w2', 1);
    t.at(0);
    expect(await t.sweeper.sweep()).toBe(0);
    t.at(600);
    await t.beat('w2', 2);
    expect(await t.sweeper.sweep()).toBe(0);
    t.at(1100);
    await t.beat('w2', 3);
    expect(await t.sweeper.sweep()).toBe(1);
    expect(t.reclaimed).toEqual(['e-dead']);
  });

  it('does not judge nodes by a gap in its own view of the store (an outage): their clocks start afresh', async () => {
    const t = setup();
    await t.attach('e1', 'w1');
    await t.beat('w1', 1);
    t.at(0);
    await t.sweeper.sweep();
    t.at(500);
    await t.sweeper.sweep();
    // No sweep could read the store for 5 s; the node could not beat either.
    t.at(5500);
    expect(await t.sweeper.sweep()).toBe(0);
    t.at(6000);
    expect(await t.sweeper.sweep()).toBe(0);
    // Still silent a full grace period after the outage: now it is dead.
    t.at(6600);
    expect(await t.sweeper.sweep()).toBe(1);
    expect(t.reclaimed).toEqual(['e1']);
  });
});
