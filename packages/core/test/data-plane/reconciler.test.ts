/**
 * Core's own loop drives the plane: records → desiredState → Reconciler →
 * UserspaceDataPlane. What the plane reads back equals what core computes,
 * so a second full resync makes no call; a key rotation written to the
 * records goes through; endpoints reach each other.
 */
import { macForIpv4, parseIpv4 } from '@weft/interface';
import { MemoryNetwork, type Endpoint } from '@weft/vxlan';
import type { UserspaceDataPlane } from '../../src/data-plane';
import { desiredState, type ClusterView } from '../../src/reconcile/desired-state';
import { Reconciler } from '../../src/reconcile/reconciler';
import type { EndpointRecord, KeysRecord, NetworkRecord, NodeRecord } from '../../src/records/schemas';
import { PlaneRegistry, secret } from './helpers';

const at = '2026-01-01T00:00:00.000Z';
const b64 = (n: number): string => Buffer.from(secret(n)).toString('base64url');

const network: NetworkRecord = {
  id: 'net1',
  name: 'backend',
  driver: 'overlay',
  scope: 'swarm',
  vni: 4200,
  subnet: '10.9.0.0/24',
  gateway: '10.9.0.1',
  mtu: 1418,
  encrypted: true,
  attachable: true,
  internal: false,
  ingress: false,
  labels: {},
  createdAt: at,
};

const endpoint = (id: string, nodeId: string, ip: string): EndpointRecord => ({
  id,
  networkId: 'net1',
  name: id,
  aliases: [],
  ip,
  prefixLength: 24,
  mac: macForIpv4(parseIpv4(ip)),
  nodeId,
  requestId: `r-${id}`,
  createdAt: at,
});

const nodeOf = (plane: UserspaceDataPlane): NodeRecord => ({ id: plane.nodeId, role: 'worker', dataPlane: { ...plane.info }, labels: {}, startedAt: at });

describe('UserspaceDataPlane under core’s Reconciler', () => {
  const registry = new PlaneRegistry();
  const loops: Reconciler[] = [];
  afterEach(async () => {
    await Promise.all(loops.splice(0).map((r) => r.close()));
    await registry.closeAll();
  });

  it('converges on what the records say, makes no call when nothing changed, and follows a key rotation', async () => {
    const mem = new MemoryNetwork();
    const planes = [await registry.memory(mem, 'node-a', '192.0.2.1'), await registry.memory(mem, 'node-b', '192.0.2.2')];
    const endpoints = new Map([
      ['ep-a', endpoint('ep-a', 'node-a', '10.9.0.2')],
      ['ep-b', endpoint('ep-b', 'node-b', '10.9.0.3')],
    ]);
    let keysRecord: KeysRecord = { networkId: 'net1', suite: 'aes-256-gcm', keys: [{ generation: 1, secret: b64(1) }], sendGeneration: 1, rotatedAtMs: 0 };
    const view = (): ClusterView => ({
      networks: new Map([['net1', network]]),
      nodes: new Map(planes.map((p) => [p.nodeId, nodeOf(p)])),
      localEndpoints: endpoints,
      networkEndpoints: new Map([['net1', endpoints]]),
      keys: new Map([['net1', keysRecord]]),
    });
    const errors: unknown[] = [];
    const reconcilers = planes.map((p) => new Reconciler({ dataPlane: p, desired: () => desiredState(view(), p.nodeId), onError: (e) => errors.push(e) }));
    loops.push(...reconcilers);
    const syncAll = async (full = false): Promise<void> => {
      for (const r of reconcilers) await r.request(full);
    };

    await syncAll(true);
    expect(errors).toEqual([]);
    for (const p of planes) expect(await p.programmed()).toEqual(desiredState(view(), p.nodeId));
    const calls = reconcilers.map((r) => r.stats.calls);
    await syncAll(true); // full resync: reads back, plans, finds nothing to do
    expect(reconcilers.map((r) => r.stats.calls)).toEqual(calls);

    const ea = reconcilers[0]!.handle('ep-a') as Endpoint;
    const eb = reconcilers[1]!.handle('ep-b') as Endpoint;
    await expect(ea.ping(eb.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);

    // The rotator's three record states, each reconciled on every node before the next.
    for (const next of [
      { keys: [{ generation: 1, secret: b64(1) }, { generation: 2, secret: b64(2) }], sendGeneration: 1 },
      { keys: [{ generation: 1, secret: b64(1) }, { generation: 2, secret: b64(2) }], sendGeneration: 2 },
      { keys: [{ generation: 2, secret: b64(2) }], sendGeneration: 2 },
    ]) {
      keysRecord = { ...keysRecord, ...next };
      await syncAll();
      await expect(ea.ping(eb.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
    }
    expect(errors).toEqual([]);
    expect(reconcilers[0]!.stats.callsByKind['setNetworkKeys']).toBe(3);
    await syncAll(true);
    for (const p of planes) expect(await p.programmed()).toEqual(desiredState(view(), p.nodeId));

    // ep-b leaves: node-b has nothing left on net1 (lazy activation removes it); node-a drops the remote and its flood entry.
    endpoints.delete('ep-b');
    await syncAll();
    expect((await planes[1]!.programmed()).networks).toEqual([]);
    expect((await planes[0]!.programmed()).networks[0]).toMatchObject({ remote: [], flood: [] });
    await expect(eb.ping(ea.ip, { timeoutMs: 100 })).rejects.toMatchObject({ name: 'EndpointClosedError' });
  });
});
