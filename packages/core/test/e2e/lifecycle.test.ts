import type { WeftNode } from '../../src';
import { LocalCluster } from '../../src/testing';
import { ep, eventually, pingEventually, programmedRemotes } from '../support/traffic';

/** Node restart, store reconnects, orphan reclaiming, MTU. Over the seeded in-process underlay and Raft transport. */
describe('node lifecycle', () => {
  it('a restarted node reprograms its endpoints from the store and drops what went away while it was down', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, control: 'memory', underlay: 'memory', storage: 'memory' });
    try {
      await cluster.node('m1').createNetwork({ name: 'svc', attachable: true });
      const a = await cluster.node('w1').attach('svc', { name: 'a' });
      const b = await cluster.node('w2').attach('svc', { name: 'b' });
      const c = await cluster.node('m2').attach('svc', { name: 'c' });
      await pingEventually(a, b.ip);
      await cluster.crash('w1');
      await c.detach(); // while w1 is down
      const d = await cluster.node('m3').attach('svc', { name: 'd' });
      const w1 = await cluster.restart('w1');
      await w1.reconciled();
      const [again] = w1.attachments();
      expect(again?.id).toBe(a.id);
      expect(again?.ip).toBe(a.ip);
      const remotes = await programmedRemotes(w1, a.networkId);
      expect(remotes.sort()).toEqual([b.id, d.id].sort());
      await pingEventually(again!, d.ip);
      await pingEventually(b, again!.ip);
    } finally {
      await cluster.close();
    }
  }, 60_000);

  it('a worker whose store connection drops resumes its watches, applies what it missed, and a resync with nothing changed makes no data-plane call', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, control: 'memory', underlay: 'memory', storage: 'memory' });
    try {
      await cluster.node('m1').createNetwork({ name: 'watch', attachable: true });
      const a = await cluster.node('w1').attach('watch', { name: 'a' });
      const b = await cluster.node('m2').attach('watch', { name: 'b' });
      const w1 = cluster.node('w1');
      await eventually(async () => (await programmedRemotes(w1, a.networkId)).includes(b.id), 'b on w1');
      cluster.isolateControl('w1');
      const c = await cluster.node('m3').attach('watch', { name: 'c' });
      await b.detach();
      // While cut off, w1's data plane still has b and not c; traffic to the unchanged peers keeps flowing.
      expect(await programmedRemotes(w1, a.networkId)).toEqual([b.id]);
      cluster.heal();
      await eventually(async () => JSON.stringify(await programmedRemotes(w1, a.networkId)) === JSON.stringify([c.id]), 'w1 to catch up');
      await pingEventually(a, c.ip);
      const calls = w1.stats.reconcile.calls;
      await w1.resync();
      await w1.resync();
      expect(w1.stats.reconcile.calls).toBe(calls);
      expect(w1.stats.reconcile.fullResyncs).toBeGreaterThanOrEqual(3);
    } finally {
      await cluster.close();
    }
  }, 60_000);

  it('managers reclaim the endpoints and addresses of a node that died and never came back (swarmkit#2800)', async () => {
    const cluster = await LocalCluster.start({
      managers: 3,
      workers: 2,
      control: 'memory',
      underlay: 'memory',
      storage: 'memory',
      node: { heartbeatIntervalMs: 50, orphanGraceMs: 600 },
    });
    try {
      await cluster.node('m1').createNetwork({ name: 'orphans', attachable: true, subnet: '10.240.0.0/29' });
      // A /29 has 5 addresses after the gateway: fill 4 from w2, which then dies.
      const doomed = [];
      for (let i = 0; i < 4; i++) doomed.push(await cluster.node('w2').attach('orphans', { name: `d${i}` }));
      const survivor = await cluster.node('w1').attach('orphans', { name: 's' });
      await expect(cluster.node('w1').attach('orphans', { name: 'extra' })).rejects.toMatchObject({ name: 'PoolExhaustedError' });
      await cluster.crash('w2');
      await eventually(async () => Object.keys((await cluster.node('m1').inspectNetwork('orphans')).Containers).length === 1, 'the dead node endpoints reclaimed', 15_000);
      const sweeps = [...cluster.nodes.values()].reduce((n, x: WeftNode) => n + (x.stats.sweeper?.reclaimed ?? 0), 0);
      expect(sweeps).toBeGreaterThanOrEqual(4);
      // The addresses are usable again, and the survivor's peers are gone.
      const fresh = await cluster.node('w1').attach('orphans', { name: 'fresh' });
      expect(doomed.map((d) => d.ip)).toContain(fresh.ip);
      expect(await programmedRemotes(cluster.node('w1'), survivor.networkId)).toEqual([]);
    } finally {
      await cluster.close();
    }
  }, 60_000);

  it('derives the overlay MTU from the underlay (1400 → 1350, encrypted 1318) and drops larger frames, counted', async () => {
    const cluster = await LocalCluster.start({ managers: 1, workers: 1, control: 'memory', underlay: 'memory', storage: 'memory', underlayMtu: 1400 });
    try {
      const plain = await cluster.node('m1').createNetwork({ name: 'small', attachable: true });
      const sealed = await cluster.node('m1').createNetwork({ name: 'small-sealed', attachable: true, encrypted: true });
      const fixed = await cluster.node('m1').createNetwork({ name: 'fixed', attachable: true, mtu: 1200 });
      expect(plain.mtu).toBe(1350);
      expect(sealed.mtu).toBe(1350 - 32);
      expect(fixed.mtu).toBe(1200);
      expect((await cluster.node('w1').inspectNetwork('small')).Options['com.docker.network.driver.mtu']).toBe('1350');
      const a = await cluster.node('m1').attach('small', { name: 'a' });
      const b = await cluster.node('w1').attach('small', { name: 'b' });
      await pingEventually(a, b.ip);
      const mtuDrops = async (): Promise<number> => {
        const c = await cluster.node('m1').dataPlane.counters();
        return Object.entries(c)
          .filter(([k]) => k.endsWith('.drops.mtu'))
          .reduce((n, [, v]) => n + v, 0);
      };
      const before = await mtuDrops();
      // ICMP echo: 20 (IP) + 8 (ICMP) + data. 1322 data bytes make a 1350-byte packet: passes; one more: dropped.
      await ep(a).ping(b.ip, { size: 1322, timeoutMs: 1000 });
      await expect(ep(a).ping(b.ip, { size: 1323, timeoutMs: 500 })).rejects.toThrow();
      expect(await mtuDrops()).toBeGreaterThan(before);
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
