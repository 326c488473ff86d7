/**
 * A whole cluster with mutual TLS on every control connection
 * (`LocalCluster`'s `tls`): 3 managers with Raft over TLS, 2 workers whose
 * store connections are TLS to the managers, each node known by its
 * certificate. Workers get only what they need (a worker cannot create a
 * network, read another network's keys or write another node's records);
 * an encrypted network created on a manager, endpoints on a manager and both
 * workers exchanging traffic; the managers' store servers see the workers by
 * their certificates; a client without a certificate is refused and counted
 * and gets no answer.
 */
import { StoreUnavailableError } from '@weft/interface';
import { PermissionDeniedError, RemoteStore } from '../../src';
import { LocalCluster } from '../../src/testing';
import { pingEventually, udpRoundTrip } from '../support/traffic';

describe('LocalCluster with mutual TLS on the control plane', () => {
  it('3 managers + 2 workers: workers restricted to what they need; encrypted network, endpoints on three nodes reach each other; workers known by certificate; a client without one refused', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, tls: true, storage: 'memory' });
    const plain: RemoteStore[] = [];
    try {
      // Workers may not create networks (only what they need: workerStorePolicy).
      await expect(cluster.node('w1').createNetwork({ name: 'nope', attachable: true })).rejects.toBeInstanceOf(PermissionDeniedError);
      const net = await cluster.node('m2').createNetwork({ name: 'secure', attachable: true, encrypted: true });
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

      // What a worker may not do, each refused with PermissionDeniedError and counted: another network's keys,
      // another node's records; what it needs works.
      const other = await cluster.node('m1').createNetwork({ name: 'other', attachable: true, encrypted: true });
      await cluster.node('m1').attach('other', { name: 'only-on-m1' });
      const asW2 = new RemoteStore({ endpoints: [servers[1]!.address], tls: cluster.controlTlsOf('w2')!, requestTimeoutMs: 3000 });
      plain.push(asW2);
      const deniedBefore = servers[1]!.stats.denied;
      expect(await asW2.get(`weft/keys/${net.id}`)).toBeDefined(); // w2 has an endpoint on "secure"
      await expect(asW2.get(`weft/keys/${other.id}`)).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(asW2.range({ prefix: `weft/endpoints/${other.id}/` })).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(asW2.range({ prefix: 'weft/' })).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(asW2.put('weft/nodes/w1', '{}')).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(asW2.put(`weft/endpoints/${net.id}/forged`, JSON.stringify({ nodeId: 'w1' }))).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(asW2.delete(`weft/endpoints/${net.id}/${b.id}`)).rejects.toBeInstanceOf(PermissionDeniedError); // b is w1's
      expect(servers[1]!.stats.denied - deniedBefore).toBe(6);
      expect((await cluster.node('m1').inspectNetwork('secure')).Containers[b.id]).toBeDefined();

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
