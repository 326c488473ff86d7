import { EtcdStore } from '@weft/core/etcd';
import { describeWith } from '../../../../test-support/capabilities';
import { LocalCluster } from '../../src/testing';
import { etcdCapability, EtcdServer } from '../etcd/etcd-server';
import { eventually, pingEventually, programmedRemotes, udpRoundTrip } from '../support/traffic';

/** The pre-swarm "cluster store" model: every node uses one etcd (a real etcd-server on loopback), no Raft of ours. */
describeWith(etcdCapability(), 'a cluster on an etcd store', () => {
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await EtcdServer.start();
  }, 60_000);

  afterAll(async () => {
    await etcd?.stop();
  });

  it('creates, attaches, pings, exchanges UDP and detaches as on the embedded store', async () => {
    const cluster = await LocalCluster.start({
      managers: 1,
      workers: 2,
      underlay: 'udp',
      store: () => EtcdStore.connect({ endpoints: [etcd.clientUrl], namespace: 'e2e/' }),
    });
    try {
      const net = await cluster.node('w1').createNetwork({ name: 'on-etcd', attachable: true, encrypted: true });
      for (const node of cluster.nodes.values()) expect((await node.listNetworks()).map((n) => n.name)).toContain('on-etcd');
      const a = await cluster.node('m1').attach('on-etcd', { name: 'a' });
      const b = await cluster.node('w1').attach('on-etcd', { name: 'b' });
      const c = await cluster.node('w2').attach('on-etcd', { name: 'c' });
      await pingEventually(a, b.ip);
      await pingEventually(b, c.ip);
      await pingEventually(c, a.ip);
      expect(await udpRoundTrip(a, c, 'via etcd')).toBe('via etcd');
      await b.detach();
      await eventually(async () => !(await programmedRemotes(cluster.node('m1'), net.id)).includes(b.id), 'b gone from m1');
      await eventually(async () => !(await programmedRemotes(cluster.node('w2'), net.id)).includes(b.id), 'b gone from w2');
      await a.detach();
      await c.detach();
      await cluster.node('m1').removeNetwork('on-etcd');
    } finally {
      await cluster.close();
    }
  }, 120_000);
});
