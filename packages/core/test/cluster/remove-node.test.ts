/**
 * `removeNode` (Swarm's `docker node rm`): refusals (a manager, a node that is
 * up without `force`, an unknown id, from a worker), then a dead worker
 * removed — its endpoints' addresses released, its peer entries gone from
 * every data plane, its records gone, and it cannot start under its id
 * again. With TLS, a removed node that is still running loses its live
 * control connections and every new one is refused.
 */
import { StoreUnavailableError } from '@weft/interface';
import { NodeNotFoundError, NodeRemovalRefusedError, NodeRemovedError, RemoteStore } from '../../src';
import { LocalCluster } from '../../src/testing';
import { eventually, pingEventually, programmedRemotes } from '../support/traffic';

describe('removeNode', () => {
  it('refuses managers, live nodes without force, unknown ids and workers as callers; removes a dead worker everywhere', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, control: 'memory', underlay: 'memory', storage: 'memory', node: { heartbeatIntervalMs: 100 } });
    try {
      const m1 = cluster.node('m1');
      await m1.createNetwork({ name: 'rm', attachable: true });
      const a = await m1.attach('rm', { name: 'a' });
      const b = await cluster.node('w2').attach('rm', { name: 'b' });
      await pingEventually(a, b.ip);
      await eventually(async () => (await m1.listNodes()).every((n) => n.status === 'ready'), 'every node ready');

      await expect(m1.removeNode('m2')).rejects.toBeInstanceOf(NodeRemovalRefusedError);
      await expect(m1.removeNode('w2')).rejects.toThrow(/is up/);
      await expect(m1.removeNode('nope')).rejects.toBeInstanceOf(NodeNotFoundError);
      await expect(cluster.node('w1').removeNode('w2')).rejects.toBeInstanceOf(NodeRemovalRefusedError);
      await expect(m1.removeNode('m1')).rejects.toBeInstanceOf(NodeRemovalRefusedError);

      await cluster.crash('w2');
      await eventually(async () => (await m1.listNodes()).find((n) => n.id === 'w2')?.status === 'down', 'w2 judged down');
      await m1.removeNode('w2');
      await m1.removeNode('w2'); // idempotent
      expect((await m1.listNodes()).map((n) => n.id)).not.toContain('w2');
      expect(m1.isRemoved('w2')).toBe(true);
      // Its endpoint is gone: the address is free again, and no data plane keeps an entry for it.
      const inspect = await m1.inspectNetwork('rm');
      expect(Object.values(inspect.Containers).map((c) => c.Name)).toEqual(['a']);
      await eventually(async () => !(await programmedRemotes(m1, a.networkId)).includes(b.id), 'b gone from m1');
      const again = await cluster.node('w1').attach('rm', { name: 'b2', ip: b.ip });
      expect(again.ip).toBe(b.ip);
      await pingEventually(a, again.ip);
      // It cannot come back under its id.
      await expect(cluster.restart('w2')).rejects.toBeInstanceOf(NodeRemovedError);
    } finally {
      await cluster.close();
    }
  }, 60_000);

  it('with TLS: a removed node still running loses its control connections and is refused from then on', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, tls: true, storage: 'memory', node: { heartbeatIntervalMs: 100 } });
    const extra: RemoteStore[] = [];
    try {
      const m1 = cluster.node('m1');
      await eventually(async () => (await m1.listNodes()).every((n) => n.status === 'ready'), 'every node ready');
      const servers = cluster.managerIds.map((id) => cluster.raftStoreOf(id)!.storeServer!);
      await eventually(async () => servers.some((s) => s.connectedPeers().some((p) => p.nodeId === 'w1')), 'w1 connected');
      await m1.removeNode('w1', { force: true });
      await eventually(async () => servers.every((s) => !s.connectedPeers().some((p) => p.nodeId === 'w1')), 'w1 disconnected everywhere');
      expect(servers.reduce((n, s) => n + s.stats.revoked, 0)).toBeGreaterThanOrEqual(1);
      // A new connection with w1's certificate is refused (its requests never served).
      const refused = servers.reduce((n, s) => n + s.stats.refused, 0);
      const asW1 = new RemoteStore({ endpoints: [servers[0]!.address], tls: cluster.controlTlsOf('w1')!, requestTimeoutMs: 1500, reconnectMs: 200 });
      extra.push(asW1);
      await expect(asW1.get('weft/cluster')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(servers.reduce((n, s) => n + s.stats.refused, 0)).toBeGreaterThan(refused);
      // w2 is unaffected.
      const w2 = new RemoteStore({ endpoints: [servers[0]!.address], tls: cluster.controlTlsOf('w2')!, requestTimeoutMs: 3000 });
      extra.push(w2);
      expect(await w2.get('weft/cluster')).toBeDefined();
    } finally {
      for (const r of extra) await r.close();
      await cluster.close();
    }
  }, 60_000);
});
