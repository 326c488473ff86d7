/**
 * programmed() reads back what is really in the segments, key rings and
 * encrypted underlays; adds and removes are idempotent; add of an existing id
 * replaces it in place; core's reconcile plan converges against it.
 */
import { DataPlaneError, type PeerNode, type ProgrammedNetwork, type ProgrammedState, type RemoteEndpointSpec } from '@weft/interface';
import { MemoryNetwork, type Endpoint } from '@weft/vxlan';
import { planReconcile } from '../../src/reconcile/plan';
import type { UserspaceDataPlane } from '../../src/data-plane';
import { apply, keys, local, net, PlaneRegistry } from './helpers';

const peerB: PeerNode = { id: 'node-b', address: '192.0.2.2', vxlanPort: 4789, encryptedPort: 4790, epoch: 'b2b2b2b2b2b2b2b2' };
const peerC: PeerNode = { id: 'node-c', address: '192.0.2.3', vxlanPort: 4789, encryptedPort: 4790, epoch: 'c3c3c3c3c3c3c3c3' };
const remote = (id: string, ip: string, peer: PeerNode): RemoteEndpointSpec => {
  const l = local(id, ip);
  return { id, ip: l.ip, mac: l.mac, peer };
};

describe('UserspaceDataPlane.programmed()', () => {
  const registry = new PlaneRegistry();
  let a: UserspaceDataPlane;

  beforeEach(async () => {
    a = await registry.memory(new MemoryNetwork(), 'node-a', '192.0.2.1');
  });
  afterEach(() => registry.closeAll());

  const only = async (): Promise<ProgrammedNetwork> => {
    const s = await a.programmed();
    expect(s.networks).toHaveLength(1);
    return s.networks[0]!;
  };

  it('reflects exactly what was added and removed; repeats change nothing', async () => {
    const spec = net('n1', 4096, { gateway: '10.9.0.1' });
    const e1 = local('e1', '10.9.0.2');
    const e2 = local('e2', '10.9.0.3');
    const r1 = remote('r1', '10.9.0.10', peerB);
    const r2 = remote('r2', '10.9.0.11', peerB);
    const r3 = remote('r3', '10.9.0.12', peerC);
    const calls = async (): Promise<Endpoint[]> => {
      await a.ensureNetwork(spec);
      const h = [(await a.addLocalEndpoint('n1', e2)).handle!, (await a.addLocalEndpoint('n1', e1)).handle!];
      for (const r of [r3, r1, r2]) await a.addRemoteEndpoint('n1', r);
      await a.setServiceVip('n1', { vip: '10.9.0.200', backends: [{ ip: '10.9.0.10', state: 'up' }, { ip: '10.9.0.2', state: 'up' }] });
      await a.setDnsAddress('n1', '10.9.0.253');
      return h;
    };
    const handles = await calls();
    const want: ProgrammedState = {
      networks: [
        {
          spec,
          local: [e1, e2],
          remote: [r1, r2, r3],
          flood: [peerB, peerC],
          vips: [{ vip: '10.9.0.200', backends: [{ ip: '10.9.0.10', state: 'up' }, { ip: '10.9.0.2', state: 'up' }] }],
          dnsAddress: '10.9.0.253',
        },
      ],
    };
    expect(await a.programmed()).toEqual(want);
    const segment = handles[0]!.segment!;
    expect(segment.fdbEntries().filter((e) => e.target.kind === 'remote')).toHaveLength(3);
    expect(segment.floodList).toEqual([
      { host: '192.0.2.3', port: 4789 },
      { host: '192.0.2.2', port: 4789 },
    ]);

    const again = await calls(); // every call repeated
    expect(again).toEqual(handles); // the same Endpoint objects
    expect(again[0]).toBe(handles[0]);
    expect(await a.programmed()).toEqual(want);
    expect(segment.fdbEntries()).toHaveLength(5);
    expect(segment.neighbourEntries()).toHaveLength(3);
    expect(planReconcile(want, await a.programmed())).toEqual([]);

    await a.removeRemoteEndpoint('n1', 'r3'); // node-c's last endpoint: its flood entry goes
    expect((await only()).flood).toEqual([peerB]);
    await a.removeRemoteEndpoint('n1', 'r1'); // node-b still has r2
    expect((await only()).flood).toEqual([peerB]);
    await a.removeRemoteEndpoint('n1', 'r2');
    await a.removeRemoteEndpoint('n1', 'r2'); // not there: fine
    await a.removeLocalEndpoint('n1', 'e2');
    await a.removeLocalEndpoint('n1', 'nope');
    await a.setServiceVip('n1', { vip: '10.9.0.200', backends: [] });
    await a.setDnsAddress('n1', undefined);
    expect(await only()).toEqual({ spec, local: [e1], remote: [], flood: [], vips: [] });
    expect(segment.floodList).toEqual([]);
    expect(segment.neighbourEntries()).toEqual([]);
    expect(segment.fdbEntries().map((e) => e.mac)).toEqual([e1.mac]);
    await expect(handles[0]!.ping('10.9.0.2', { timeoutMs: 50 })).rejects.toMatchObject({ name: 'EndpointClosedError' });
  });

  it('holds one peer per node however many copies the calls carried, and reads it back shared by that node’s entries', async () => {
    await a.ensureNetwork(net('n1', 4096));
    const h = (await a.addLocalEndpoint('n1', local('e1', '10.9.0.2'))).handle!;
    for (const [id, ip, peer] of [['r1', '10.9.0.10', peerB], ['r2', '10.9.0.11', peerB], ['r3', '10.9.0.12', peerC], ['r4', '10.9.0.13', peerB]] as const) {
      await a.addRemoteEndpoint('n1', remote(id, ip, { ...peer }));
    }
    const n = await only();
    const [r1, r2, r3, r4] = n.remote;
    expect(n.remote.map((r) => r.id)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(r2!.peer).toBe(r1!.peer);
    expect(r4!.peer).toBe(r1!.peer);
    expect(r3!.peer).not.toBe(r1!.peer);
    expect(n.flood).toEqual([peerB, peerC]);
    expect(n.flood[0]).toBe(r1!.peer);
    // One FDB target per peer VTEP, shared by its MACs.
    const targets = new Map(h.segment!.fdbEntries().map((e) => [e.mac, e.target]));
    expect(targets.get(r2!.mac)).toBe(targets.get(r1!.mac));
    expect(targets.get(r3!.mac)).not.toBe(targets.get(r1!.mac));
    // The node restarts (new epoch): every endpoint of it follows, still sharing.
    const peerB2 = { ...peerB, epoch: 'b3b3b3b3b3b3b3b3' };
    await a.addRemoteEndpoint('n1', remote('r2', '10.9.0.11', { ...peerB2 }));
    const m = await only();
    expect(m.remote.filter((r) => r.peer.id === 'node-b').map((r) => r.peer)).toEqual([peerB2, peerB2, peerB2]);
    expect(new Set(m.remote.filter((r) => r.peer.id === 'node-b').map((r) => r.peer)).size).toBe(1);
    expect(m.flood).toEqual([peerB2, peerC]);
  });

  it('treats two spellings of a peer’s IPv6 underlay address as one VTEP', async () => {
    await a.ensureNetwork(net('n1', 4096));
    const h = (await a.addLocalEndpoint('n1', local('e1', '10.9.0.2'))).handle!;
    const v6 = { ...peerB, address: '2001:db8::2' };
    await a.addRemoteEndpoint('n1', remote('r1', '10.9.0.10', v6));
    await a.addRemoteEndpoint('n1', remote('r2', '10.9.0.11', { ...v6 }));
    const respelled = { ...v6, address: '2001:DB8:0::2' };
    await a.addRemoteEndpoint('n1', remote('r3', '10.9.0.12', respelled)); // the node's record now spells it another way
    const n = await only();
    expect(n.remote.map((r) => r.peer)).toEqual([respelled, respelled, respelled]);
    expect(n.flood).toEqual([respelled]);
    expect(h.segment!.floodList).toEqual([{ host: '2001:db8::2', port: 4789 }]);
    const targets = h.segment!.fdbEntries().filter((e) => e.target.kind === 'remote');
    expect(targets.map((e) => e.mac)).toEqual([n.remote[0]!.mac, n.remote[1]!.mac, n.remote[2]!.mac]);
    await a.removeRemoteEndpoint('n1', 'r1');
    await a.removeRemoteEndpoint('n1', 'r3');
    expect((await only()).remote.map((r) => r.id)).toEqual(['r2']);
    expect(h.segment!.floodList).toHaveLength(1);
    await a.removeRemoteEndpoint('n1', 'r2');
    expect(h.segment!.floodList).toEqual([]);
    expect(h.segment!.fdbEntries().filter((e) => e.target.kind === 'remote')).toEqual([]);
  });

  it('reads back the real state: entries removed behind the plane’s back disappear, and re-adding restores them', async () => {
    await a.ensureNetwork(net('n1', 4096));
    const h = (await a.addLocalEndpoint('n1', local('e1', '10.9.0.2'))).handle!;
    const r1 = remote('r1', '10.9.0.10', peerB);
    const r2 = remote('r2', '10.9.0.11', peerB);
    await a.addRemoteEndpoint('n1', r1);
    await a.addRemoteEndpoint('n1', r2);
    h.segment!.removeMac(r1.mac);
    h.segment!.removeNeighbour(r2.ip);
    expect((await only()).remote).toEqual([]);
    h.segment!.removeFloodTarget({ host: peerB.address, port: peerB.vxlanPort });
    expect((await only()).flood).toEqual([]);
    await h.close(); // closed through its handle
    expect((await only()).local).toEqual([]);
    // What core's full resync would do: plan against the read-back and apply.
    const want: ProgrammedState = { networks: [{ spec: net('n1', 4096), local: [local('e1', '10.9.0.2')], remote: [r1, r2], flood: [peerB], vips: [] }] };
    const ops = planReconcile(want, await a.programmed());
    expect(ops.map((o) => o.op)).toEqual(['addLocalEndpoint', 'addRemoteEndpoint', 'addRemoteEndpoint']);
    await apply(a, ops);
    expect(await a.programmed()).toEqual(want);
    expect(planReconcile(want, await a.programmed())).toEqual([]);
  });

  it('replaces an existing id in place: the old MAC, IP and peer are gone at once', async () => {
    await a.ensureNetwork(net('n1', 4096));
    const h = (await a.addLocalEndpoint('n1', local('e1', '10.9.0.2'))).handle!;
    await a.addRemoteEndpoint('n1', remote('r1', '10.9.0.10', peerB));
    const moved = { ...remote('r1', '10.9.0.20', peerC) };
    await a.addRemoteEndpoint('n1', moved);
    expect(await only()).toMatchObject({ remote: [moved], flood: [peerC] });
    const seg = h.segment!;
    expect(seg.fdbEntries().filter((e) => e.target.kind === 'remote').map((e) => e.mac)).toEqual([moved.mac]);
    expect(seg.neighbourEntries().map((n) => n.ip)).toEqual(['10.9.0.20']);
    // A node that moved: every endpoint of it follows.
    await a.addRemoteEndpoint('n1', remote('r2', '10.9.0.21', peerC));
    const peerC2 = { ...peerC, address: '192.0.2.33' };
    await a.addRemoteEndpoint('n1', { ...moved, peer: peerC2 });
    expect(await only()).toMatchObject({ remote: [{ ...moved, peer: peerC2 }, { ...remote('r2', '10.9.0.21', peerC2) }], flood: [peerC2] });
    expect(seg.floodList).toEqual([{ host: '192.0.2.33', port: 4789 }]);
    // A local endpoint with a new IP: a new Endpoint takes the old one's place.
    const h2 = (await a.addLocalEndpoint('n1', local('e1', '10.9.0.5'))).handle!;
    expect(h2).not.toBe(h);
    // The segment's port is the endpoint's service shim (same MAC); the Endpoint sits behind it on that segment.
    expect(seg.ports.map((p) => p.mac)).toEqual([h2.mac]);
    expect(h2.segment).toBe(seg);
    await expect(h.ping('10.9.0.20', { timeoutMs: 50 })).rejects.toMatchObject({ name: 'EndpointClosedError' });
    // Other fields only: the same Endpoint.
    const h3 = (await a.addLocalEndpoint('n1', { ...local('e1', '10.9.0.5'), name: 'renamed' })).handle!;
    expect(h3).toBe(h2);
    expect((await only()).local).toEqual([{ ...local('e1', '10.9.0.5'), name: 'renamed' }]);
  });

  it('reads keys back from the key ring, and an encrypted network’s peers from its EncryptedUnderlay', async () => {
    await a.ensureNetwork(net('s1', 4097, { encryption: keys([4, 5], 4) }));
    await a.addLocalEndpoint('s1', local('e1', '10.9.0.2'));
    const r1 = remote('r1', '10.9.0.10', peerB);
    await a.addRemoteEndpoint('s1', r1);
    const n = await only();
    expect(n.spec.encryption).toEqual(keys([4, 5], 4));
    expect(n.remote).toEqual([r1]);
    expect(n.flood).toEqual([peerB]);
    // Plain → encrypted and back through ensureNetwork: endpoints and entries move with the network.
    await a.ensureNetwork(net('s1', 4097));
    expect(await only()).toMatchObject({ spec: net('s1', 4097), remote: [r1], flood: [peerB] });
    expect((await only()).local.map((l) => l.id)).toEqual(['e1']);
    await a.ensureNetwork(net('s1', 4097, { encryption: keys([9], 9, 'chacha20-poly1305') }));
    expect(await only()).toMatchObject({ spec: { encryption: keys([9], 9, 'chacha20-poly1305') }, remote: [r1], flood: [peerB] });
  });

  it('ensureNetwork with a new MTU or VNI keeps the endpoints (same handles) and entries', async () => {
    await a.ensureNetwork(net('n1', 4096));
    const h = (await a.addLocalEndpoint('n1', local('e1', '10.9.0.2'))).handle!;
    await a.addRemoteEndpoint('n1', remote('r1', '10.9.0.10', peerB));
    await a.ensureNetwork(net('n1', 4200, { mtu: 1400, name: 'renamed' }));
    const n = await only();
    expect(n.spec).toEqual(net('n1', 4200, { mtu: 1400, name: 'renamed' }));
    expect(n.local.map((l) => l.id)).toEqual(['e1']);
    expect(n.remote.map((r) => r.id)).toEqual(['r1']);
    expect(h.segment?.vni).toBe(4200);
    expect(h.segment?.mtu).toBe(1400);
    await a.ensureNetwork(net('n2', 4096)); // the old VNI is free again
  });

  it('removeNetwork removes everything, idempotently; unknown networks and conflicts are refused', async () => {
    await a.ensureNetwork(net('n1', 4096, { encryption: keys([1], 1) }));
    const h = (await a.addLocalEndpoint('n1', local('e1', '10.9.0.2'))).handle!;
    await a.addRemoteEndpoint('n1', remote('r1', '10.9.0.10', peerB));
    await expect(a.ensureNetwork(net('n2', 4096))).rejects.toMatchObject({ code: 'ERR_ADDRESS_CONFLICT', field: 'vni' });
    await expect(a.addRemoteEndpoint('n1', remote('r9', '10.9.0.2', peerC))).rejects.toMatchObject({ code: 'ERR_ADDRESS_CONFLICT', field: 'mac' });
    await expect(a.addLocalEndpoint('n1', local('e9', '10.9.0.10'))).rejects.toMatchObject({ code: 'ERR_ADDRESS_CONFLICT', field: 'mac' });
    await expect(a.addRemoteEndpoint('n1', { ...remote('r8', '10.9.0.8', peerC), peer: { ...peerC, address: peerB.address } })).rejects.toMatchObject({
      code: 'ERR_ADDRESS_CONFLICT',
      field: 'peer',
    });
    await expect(a.addLocalEndpoint('n1', { ...local('e6', '10.9.0.6'), ip: 'fd00::6' })).rejects.toBeInstanceOf(DataPlaneError);
    await a.removeNetwork('n1');
    await a.removeNetwork('n1');
    expect(await a.programmed()).toEqual({ networks: [] });
    expect(h.segment).toBeUndefined();
    await expect(h.ping('10.9.0.10', { timeoutMs: 50 })).rejects.toMatchObject({ name: 'EndpointClosedError' });
    for (const call of [
      () => a.addLocalEndpoint('n1', local('e1', '10.9.0.2')),
      () => a.removeLocalEndpoint('n1', 'e1'),
      () => a.addRemoteEndpoint('n1', remote('r1', '10.9.0.10', peerB)),
      () => a.removeRemoteEndpoint('n1', 'r1'),
      () => a.setServiceVip('n1', { vip: '10.9.0.200', backends: [] }),
      () => a.setDnsAddress('n1', undefined),
      () => a.setNetworkKeys('n1', keys([1], 1)),
    ]) {
      await expect(call()).rejects.toMatchObject({ name: 'UnknownNetworkError', networkId: 'n1' });
      await expect(call()).rejects.toBeInstanceOf(DataPlaneError);
    }
    await a.ensureNetwork(net('n2', 4096)); // VNI free again
    const c = await a.counters();
    expect(c['net.n1.segment.rxPackets']).toBeUndefined();
    expect(c['net.n2.segment.rxPackets']).toBe(0);
  });

  it('refuses malformed specs with InvalidOptionsError naming the field', async () => {
    await a.ensureNetwork(net('n1', 4096));
    await expect(a.ensureNetwork(net('n1', 0))).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'vni' });
    await expect(a.ensureNetwork(net('n1', 4096, { mtu: 20 }))).rejects.toMatchObject({ field: 'mtu' });
    await expect(a.ensureNetwork(net('n1', 4096, { encryption: { suite: 'rot13', keys: [], sendGeneration: 1 } }))).rejects.toMatchObject({ field: 'encryption.suite' });
    await expect(a.addLocalEndpoint('n1', { ...local('e1', '10.9.0.2'), mac: 'zz' })).rejects.toMatchObject({ field: 'mac' });
    await expect(a.addRemoteEndpoint('n1', { ...remote('r1', '10.9.0.10', peerB), peer: { ...peerB, encryptedPort: 0 } })).rejects.toMatchObject({ field: 'peer.encryptedPort' });
    await expect(a.setServiceVip('n1', { vip: 'vip', backends: [] })).rejects.toMatchObject({ field: 'vip' });
    await expect(a.setDnsAddress('n1', 'dns')).rejects.toMatchObject({ field: 'address' });
    expect(await only()).toEqual({ spec: net('n1', 4096), local: [], remote: [], flood: [], vips: [] });
  });
});
