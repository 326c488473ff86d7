/**
 * A whole cluster with mutual TLS on every control connection
 * (`LocalCluster`'s `tls`): 3 managers with Raft over TLS, 2 workers whose
 * store connections are TLS to the managers, each node known by its
 * certificate. An encrypted network created on a worker, endpoints on a
 * manager and both workers exchanging traffic; the managers' store servers
 * see the workers by their certificates; a client without a certificate is
 * refused and counted and gets no answer.
 */
import { StoreUnavailableError } from '@weft/interface';
import { RemoteStore } from '../../src';
import { LocalCluster } from '../../src/testing';
import { pingEventually, udpRoundTrip } from '../support/traffic';

describe('LocalCluster with mutual TLS on the control plane', () => {
  it('3 managers + 2 workers: encrypted network from a worker, endpoints on three nodes reach each other; workers known by certificate; a client without one refused', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, tls: true, storage: 'memory' });
    const plain: RemoteStore[] = [];
    try {
      const net = await cluster.node('w1').createNetwork({ name: 'secure', attachable: true, encrypted: true });
      expect(net.encrypted).toBe(true);
      const a = await cluster.node('m1').attach('secure', { name: 'a' });
      const b = await cluster.node('w1').attach('secure', { name: 'b' });
      const c = await cluster.node('w2').attach('secure', { name: 'c' });
      await pingEventually(a, b.ip);
      await pingEventually(b, c.ip);
      await pingEventually(c, a.ip);
      expect(await udpRoundTrip(a, c, 'over tls')).toBe('over tls');

      const servers = cluster.managerIds.map((id) => cluster.raftStoreOf(id)!.storeServer!);
      const peers = servers.flatMap((s) => s.connectedPeers());
      expect(peers).toEqual(expect.arrayContaining([{ nodeId: 'w1', role: 'worker' }, { nodeId: 'w2', role: 'worker' }]));

      // A client without a certificate: the TLS server refuses it; no request is answered.
      const target = servers[0]!;
      const refusedBefore = target.stats.refused + target.stats.handshakeTimeouts;
      const intruder = new RemoteStore({ endpoints: [target.address], requestTimeoutMs: 1500, reconnectMs: 200 });
      plain.push(intruder);
      await expect(intruder.get('networks/')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(target.stats.refused + target.stats.handshakeTimeouts).toBeGreaterThan(refusedBefore);
      expect(target.connectedPeers().every((p) => p.nodeId === 'w1' || p.nodeId === 'w2' || p.nodeId.startsWith('m'))).toBe(true);
    } finally {
      for (const p of plain) await p.close();
      await cluster.close();
    }
  }, 60_000);
});
