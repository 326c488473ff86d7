import { isWeftError } from '@weft/interface';
import { Ipam } from '@weft/ipam';
import type { Attachment } from '../../src';
import { LocalCluster } from '../../src/testing';
import { eventually, pingEventually, programmedRemotes, udpRoundTrip } from '../support/traffic';

/**
 * 3 managers + 2 workers in one process: Raft over real TCP on loopback,
 * LevelDB with fsync, userspace VTEPs on distinct 127.0.x.y addresses over real UDP.
 */
describe('a five-node cluster (TCP + LevelDB + UDP)', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ managers: 3, workers: 2, control: 'tcp', underlay: 'udp', storage: 'level' });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('an encrypted attachable network created on a worker is listed everywhere; endpoints on three nodes reach each other; idle nodes hold nothing; detach removes the peers everywhere', async () => {
    const w1 = cluster.node('w1');
    const net = await w1.createNetwork({ name: 'secure', encrypted: true, attachable: true });
    expect(net).toMatchObject({ name: 'secure', encrypted: true, attachable: true, driver: 'overlay', scope: 'swarm' });
    expect(net.vni).toBeGreaterThanOrEqual(4096);
    for (const node of cluster.nodes.values()) {
      expect((await node.listNetworks()).map((n) => n.name)).toContain('secure');
    }

    const a = await cluster.node('m1').attach('secure', { name: 'a' });
    const b = await cluster.node('w1').attach('secure', { name: 'b' });
    const c = await cluster.node('w2').attach('secure', { name: 'c' });
    const all: Attachment[] = [a, b, c];
    expect(new Set(all.map((x) => x.ip)).size).toBe(3);
    expect(a.mac).toBe(`02:42:${a.ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`);

    for (const from of all) for (const to of all) if (from !== to) await pingEventually(from, to.ip);
    expect(await udpRoundTrip(a, c, 'hello over the overlay')).toBe('hello over the overlay');
    expect(await udpRoundTrip(c, b, 'and back')).toBe('and back');

    // Lazy activation: m2 and m3 have no endpoint on the network, so their data planes hold nothing for it.
    for (const idle of ['m2', 'm3']) {
      const state = await cluster.node(idle).programmedState();
      expect(state.networks.find((n) => n.spec.id === net.id)).toBeUndefined();
      expect(cluster.node(idle).activeNetworks()).not.toContain(net.id);
    }
    const inspect = await cluster.node('m3').inspectNetwork('secure');
    expect(Object.keys(inspect.Containers)).toHaveLength(3);
    expect(inspect.Peers.map((p) => p.Name).sort()).toEqual(['m1', 'w1', 'w2']);
    expect(inspect.Options.encrypted).toBe('');

    // Detach: the peer entries vanish on every node that had them.
    await c.detach();
    await eventually(async () => !(await programmedRemotes(cluster.node('m1'), net.id)).includes(c.id), 'c gone from m1');
    await eventually(async () => !(await programmedRemotes(cluster.node('w1'), net.id)).includes(c.id), 'c gone from w1');
    expect((await cluster.node('w2').programmedState()).networks.find((n) => n.spec.id === net.id)).toBeUndefined();
    await a.detach();
    await b.detach();
    for (const node of cluster.nodes.values()) {
      expect((await node.programmedState()).networks.find((n) => n.spec.id === net.id)).toBeUndefined();
    }
    await cluster.node('m2').removeNetwork('secure');
    await expect(cluster.node('w2').inspectNetwork('secure')).rejects.toMatchObject({ name: 'NetworkNotFoundError' });
  }, 120_000);

  it('200 concurrent attaches over all nodes get 200 distinct addresses in the subnet; detaching all leaks none', async () => {
    const net = await cluster.node('m2').createNetwork({ name: 'wide', subnet: '10.200.0.0/22', attachable: true });
    const ids = [...cluster.nodes.keys()];
    const attachments = await Promise.all(
      Array.from({ length: 200 }, (_, i) => cluster.node(ids[i % ids.length]!).attach('wide', { name: `e${i}` })),
    );
    const ips = attachments.map((x) => x.ip);
    expect(new Set(ips).size).toBe(200);
    for (const ip of ips) {
      const [o1, o2, o3] = ip.split('.').map(Number);
      expect(o1 === 10 && o2 === 200 && o3! >= 0 && o3! <= 3).toBe(true);
    }
    await Promise.all(attachments.map((x) => x.detach()));
    const pool = await cluster.node('w1').store.get(`weft/ipam/pools/${net.id}`);
    const ipam = Ipam.restore(new TextDecoder().decode(pool!.value));
    expect(ipam.pool(`default/${net.subnet}`).allocated).toBe(0);
    await cluster.node('w1').removeNetwork('wide');
  }, 120_000);

  it('refuses what Swarm refuses: duplicate names, overlapping subnets, non-attachable and ingress standalone attaches, removing a network in use', async () => {
    const m1 = cluster.node('m1');
    await m1.createNetwork({ name: 'solo', subnet: '10.201.0.0/24' });
    await expect(m1.createNetwork({ name: 'solo' })).rejects.toMatchObject({ name: 'NameConflictError' });
    const overlap = await m1.createNetwork({ name: 'other', subnet: '10.201.0.128/25' }).catch((e: unknown) => e);
    expect(isWeftError(overlap, 'OverlapError')).toBe(true);
    await expect(m1.attach('solo', { name: 'x' })).rejects.toMatchObject({ name: 'AttachRefusedError' });
    const task = await m1.attach('solo', { name: 'task1', service: 'web' });
    await expect(m1.attach('ingress', { name: 'y' })).rejects.toMatchObject({ name: 'AttachRefusedError' });
    await expect(m1.removeNetwork('solo')).rejects.toMatchObject({ name: 'NetworkInUseError' });
    await expect(cluster.node('w1').attach('solo', { name: 'TASK1', service: 'web' })).rejects.toMatchObject({ name: 'NameConflictError' });
    await task.detach();
    await m1.removeNetwork('solo');
    const ingress = await m1.inspectNetwork('ingress');
    expect(ingress).toMatchObject({ Ingress: true, Attachable: false });
  }, 60_000);

  it('an attach retried with the same request id gets the same endpoint, never a second address', async () => {
    const w2 = cluster.node('w2');
    await w2.createNetwork({ name: 'idem', attachable: true });
    const [x, y] = await Promise.all([w2.attach('idem', { name: 'one', requestId: 'req-1' }), w2.attach('idem', { name: 'one', requestId: 'req-1' })]);
    const z = await w2.attach('idem', { name: 'one', requestId: 'req-1' });
    expect(y.id).toBe(x.id);
    expect(z.id).toBe(x.id);
    expect(z.ip).toBe(x.ip);
    const inspect = await w2.inspectNetwork('idem');
    expect(Object.keys(inspect.Containers)).toEqual([x.id]);
    await x.detach();
    await x.detach(); // idempotent
    await w2.removeNetwork('idem');
  }, 60_000);
});
