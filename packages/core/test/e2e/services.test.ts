import { Ipam } from '@weft/ipam';
import { textOf } from '@weft/interface';
import type { WeftNode } from '../../src';
import { LocalCluster } from '../../src/testing';
import { eventually } from '../support/traffic';

/** The VIPs a node's data plane has programmed on a network, read back from it. */
async function programmedVips(node: WeftNode, networkId: string): Promise<unknown[]> {
  const net = (await node.programmedState()).networks.find((n) => n.spec.id === networkId);
  return net === undefined ? [] : net.vips.map((v) => ({ vip: v.vip, backends: v.backends.map((b) => `${b.ip}:${b.state}`) }));
}

/** Services as records: VIP allocation, backends, draining, removal — and every active node's data plane following them. */
describe('services', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start({ managers: 3, workers: 2, control: 'memory', underlay: 'memory', storage: 'memory', node: { dns: { loopback: false } } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('a network reserves a DNS address in its pool: shown by inspect, programmed on active nodes only, never given to an endpoint', async () => {
    const m1 = cluster.node('m1');
    const net = await m1.createNetwork({ name: 'small', attachable: true, subnet: '10.77.0.0/28' });
    expect(net.dnsAddress).toBe('10.77.0.14');
    expect((await m1.inspectNetwork('small')).IPAM.Config[0]?.AuxiliaryAddresses).toEqual({ dns: '10.77.0.14' });
    // /28: 14 usable, minus gateway and DNS = 12 endpoints, none of them the DNS address.
    const eps = [];
    for (let i = 0; i < 12; i++) eps.push(await cluster.node(i % 2 ? 'w1' : 'w2').attach('small', { name: `e${i}` }));
    expect(eps.map((e) => e.ip)).not.toContain('10.77.0.14');
    await expect(cluster.node('w1').attach('small', { name: 'one-too-many' })).rejects.toMatchObject({ name: 'PoolExhaustedError' });
    await cluster.node('w1').reconciled();
    const w1 = (await cluster.node('w1').programmedState()).networks.find((n) => n.spec.id === net.id);
    expect(w1?.dnsAddress).toBe('10.77.0.14');
    // Never advertised: no node has it as a remote endpoint.
    expect(w1?.remote.map((r) => r.ip)).not.toContain('10.77.0.14');
    expect((await cluster.node('m3').programmedState()).networks.find((n) => n.spec.id === net.id)).toBeUndefined();
    await Promise.all(eps.map((e) => e.detach()));
    await m1.removeNetwork('small');
  }, 60_000);

  it('create allocates a VIP per network in one txn; backends on three nodes are programmed on every active node; drain, remove and detach follow', async () => {
    const m1 = cluster.node('m1');
    const net = await m1.createNetwork({ name: 'front', attachable: true });
    const b1 = await cluster.node('w1').attach('front', { name: 'api-1' });
    const b2 = await cluster.node('w2').attach('front', { name: 'api-2' });
    const b3 = await cluster.node('m2').attach('front', { name: 'api-3' });
    const client = await cluster.node('m3').attach('front', { name: 'client' });

    const svc = await cluster.node('w2').services.create({ name: 'api', networks: ['front'] });
    const vip = svc.networks[0]!.vip!;
    expect(svc.mode).toBe('vip');
    expect([b1.ip, b2.ip, b3.ip, client.ip, net.gateway, net.dnsAddress]).not.toContain(vip);
    const pool = Ipam.restore(textOf((await m1.store.get(`weft/ipam/pools/${net.id}`))!));
    expect(pool.isAllocated(`default/${net.subnet}`, vip)).toBe(true);
    await expect(m1.services.create({ name: 'API', networks: ['front'] })).rejects.toMatchObject({ name: 'NameConflictError' });
    await expect(m1.services.create({ name: 'bad name', networks: ['front'] })).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'name' });

    for (const b of [b1, b2, b3]) await m1.services.addBackend('api', b);
    const all = { vip, backends: [b1, b2, b3].map((b) => b.ip).sort().map((ip) => `${ip}:up`) };
    for (const id of ['w1', 'w2', 'm2', 'm3']) await eventually(async () => JSON.stringify(await programmedVips(cluster.node(id), net.id)) === JSON.stringify([all]), `VIP on ${id}`);
    // A node with no endpoint on the network holds no VIP either (lazy).
    expect((await cluster.node('m1').programmedState()).networks.find((n) => n.spec.id === net.id)).toBeUndefined();

    await m1.services.drainBackend('api', b2);
    await eventually(async () => JSON.stringify(await programmedVips(cluster.node('m3'), net.id)).includes(`${b2.ip}:draining`), 'draining on m3');
    const inspected = await m1.services.inspect('api');
    expect(inspected.backends.map((b) => `${b.name}:${b.state}`).sort()).toEqual(['api-1:up', 'api-2:draining', 'api-3:up']);

    await m1.services.removeBackend('api', b1);
    await b3.detach(); // a detach removes it from every service in the same txn
    await eventually(async () => JSON.stringify(await programmedVips(cluster.node('m3'), net.id)) === JSON.stringify([{ vip, backends: [`${b2.ip}:draining`] }]), 'm3 follows');
    expect((await m1.services.inspect('api')).backends.map((b) => b.name)).toEqual(['api-2']);
    expect((await m1.store.range({ prefix: `weft/service-backends/${net.id}/${b3.id}/` })).kvs).toHaveLength(0);

    await expect(m1.services.addBackend('api', b3)).rejects.toMatchObject({ name: 'BackendRefusedError' });
    await expect(m1.services.addBackend('nope', b1)).rejects.toMatchObject({ name: 'ServiceNotFoundError' });

    // The network cannot go while a service uses it; removing the service releases its VIP.
    for (const a of [b1, b2, client]) await a.detach();
    await expect(m1.removeNetwork('front')).rejects.toMatchObject({ name: 'NetworkInUseError', services: ['api'] });
    await m1.services.remove('api');
    expect(await m1.services.list()).toEqual([]);
    const after = Ipam.restore(textOf((await m1.store.get(`weft/ipam/pools/${net.id}`))!));
    expect(after.isAllocated(`default/${net.subnet}`, vip)).toBe(false);
    await m1.removeNetwork('front');
  }, 60_000);

  it('a backend on a network the service is not on is refused; dnsrr services get no VIP', async () => {
    const m1 = cluster.node('m1');
    await m1.createNetwork({ name: 'a-net', attachable: true });
    await m1.createNetwork({ name: 'b-net', attachable: true });
    const x = await cluster.node('w1').attach('b-net', { name: 'x' });
    const svc = await m1.services.create({ name: 'rr', networks: ['a-net'], mode: 'dnsrr' });
    expect(svc.networks[0]!.vip).toBeNull();
    await expect(m1.services.addBackend('rr', x)).rejects.toMatchObject({ name: 'BackendRefusedError' });
    await m1.services.remove('rr');
    await x.detach();
  }, 60_000);
});
