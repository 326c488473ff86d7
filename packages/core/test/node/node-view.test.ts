import { MemoryStore } from '../../src/store/memory-store';
import { KeyLayout } from '../../src/records/keys';
import { NodeView } from '../../src/node/node-view';
import type { EndpointRecord, NodeRecord } from '../../src/records/schemas';

const keys = new KeyLayout('weft/');

const nodeRecord = (id: string, address: string): NodeRecord => ({
  id,
  role: 'worker',
  dataPlane: { kind: 'userspace', address, vxlanPort: 4789, encryptedPort: 4790, underlayMtu: 1500, epoch: '00000000000000a1' },
  labels: {},
  startedAt: '2026-01-01T00:00:00.000Z',
});

const endpoint = (id: string, nodeId: string, ip: string): EndpointRecord => ({
  id,
  networkId: 'n1',
  name: `name-${id}`,
  aliases: ['alias'],
  ip,
  prefixLength: 24,
  mac: `02:42:0a:00:00:${ip.split('.')[3]!.padStart(2, '0')}`,
  nodeId,
  service: 'svc',
  requestId: `r-${id}`,
  createdAt: '2026-01-01T00:00:00.000Z',
});

async function attach(store: MemoryStore, e: EndpointRecord): Promise<void> {
  await store.put(keys.endpoint(e.networkId, e.id), JSON.stringify(e));
  await store.put(keys.nodeEndpoint(e.nodeId, e.id), JSON.stringify({ networkId: e.networkId }));
}

describe('NodeView', () => {
  it('keeps its own endpoints whole and, of an active network’s endpoints, the fields a data plane programs', async () => {
    const store = new MemoryStore();
    await store.put(keys.node('a'), JSON.stringify(nodeRecord('a', '192.0.2.1')));
    await store.put(keys.node('b'), JSON.stringify(nodeRecord('b', '192.0.2.2')));
    const mine = endpoint('e1', 'a', '10.0.0.2');
    await attach(store, mine);
    await attach(store, endpoint('e2', 'b', '10.0.0.3'));
    const view = new NodeView(store, keys, 'a', () => undefined);
    try {
      await view.start();
      expect([...view.localEndpoints.values()]).toEqual([mine]);
      const peers = (): unknown[] => [...(view.networkEndpoints.get('n1')?.values() ?? [])];
      // Its own endpoint whole (it is programmed as a local endpoint), another node's reduced to what the
      // data plane programs and the DNS view answers (no request id, timestamps, sandbox, service).
      expect(peers()).toEqual([mine, { id: 'e2', ip: '10.0.0.3', mac: '02:42:0a:00:00:03', nodeId: 'b', name: 'name-e2', aliases: ['alias'] }]);
      // Changes arrive through the watch, filed under the endpoint id.
      await attach(store, endpoint('e3', 'c', '10.0.0.4')); // a node the view does not know (yet)
      await store.delete(keys.endpoint('n1', 'e2'));
      const ids = (): string[] => [...(view.networkEndpoints.get('n1')?.keys() ?? [])];
      for (let i = 0; i < 100 && ids().join() !== 'e1,e3'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(ids()).toEqual(['e1', 'e3']);
      expect(peers()).toContainEqual({ id: 'e3', ip: '10.0.0.4', mac: '02:42:0a:00:00:04', nodeId: 'c', name: 'name-e3', aliases: ['alias'] });
    } finally {
      view.stop();
    }
  });
});
