/** The pure parts of the kernel plane: the diff, the snapshot parser, names and MTU. No root needed. */
import type { RemoteEndpointSpec } from '@weft/interface';
import { bridgePortName, defaultNamePrefix, deriveOverlayMtu, networkNamespaceName, parseSnapshot, planNetwork, type DesiredNetwork } from '@weft/linux';

const peer = (address: string) => ({ id: `node-${address}`, address, vxlanPort: 4789, encryptedPort: 4790, epoch: '0123456789abcdef' });
const remote = (id: string, ip: string, mac: string, address: string): RemoteEndpointSpec => ({ id, ip, mac, peer: peer(address) });

const desired: DesiredNetwork = {
  id: 'net-1',
  namespace: 'weft-a-000000000001',
  hostNetns: '/var/run/netns/host-a',
  vxlan: { vni: 42, port: 4789, local: '198.18.0.1', mtu: 1450 },
  local: [{ id: 'ep-1', ip: '198.19.0.1', prefixLength: 24, mac: '02:42:c6:13:00:01', sandbox: '/var/run/netns/c1', interfaceName: 'eth0' }],
  remote: [remote('ep-2', '198.19.0.2', '02:42:c6:13:00:02', '198.18.0.2'), remote('ep-3', '198.19.0.3', '02:42:c6:13:00:03', '198.18.0.2')],
};

/** What `ip -json -d link show`, `bridge -json fdb show dev vxlan0` and `ip -json neigh show dev vxlan0` print for `desired` fully programmed (as iproute2 6.1 prints them). */
function programmedJson(): [unknown, unknown, unknown] {
  const links = [
    { ifname: 'lo', mtu: 65536, flags: ['LOOPBACK', 'UP'] },
    { ifname: 'br0', mtu: 1450, flags: ['UP'], ifalias: 'net-1', linkinfo: { info_kind: 'bridge' } },
    {
      ifname: 'vxlan0',
      mtu: 1450,
      flags: ['BROADCAST', 'UP', 'LOWER_UP'],
      master: 'br0',
      link_netnsid: 0,
      linkinfo: { info_kind: 'vxlan', info_data: { id: 42, local: '198.18.0.1', port: 4789, learning: false, proxy: true } },
    },
    { ifname: bridgePortName('ep-1'), mtu: 1450, flags: ['UP'], master: 'br0', ifalias: 'ep-1', linkinfo: { info_kind: 'veth' } },
  ];
  const fdb = [
    { mac: 'ae:d9:86:8c:35:7a', flags: [], master: 'br0', state: 'permanent' },
    { mac: '00:00:00:00:00:00', dst: '198.18.0.2', linkNetNsId: 0, flags: ['self'], state: 'permanent' },
    { mac: '02:42:c6:13:00:02', dst: '198.18.0.2', linkNetNsId: 0, flags: ['self'], state: 'permanent' },
    { mac: '02:42:c6:13:00:03', dst: '198.18.0.2', linkNetNsId: 0, flags: ['self'], state: 'permanent' },
  ];
  const neigh = [
    { dst: '198.19.0.2', lladdr: '02:42:c6:13:00:02', state: ['PERMANENT'] },
    { dst: '198.19.0.3', lladdr: '02:42:c6:13:00:03', state: ['PERMANENT'] },
  ];
  return [links, fdb, neigh];
}

describe('planNetwork', () => {
  it('from nothing: the device (made in the host namespace), the bridge, the port, every entry and one flood entry per peer', () => {
    const plan = planNetwork(desired, parseSnapshot('weft-a-000000000001', [], [], []));
    expect(plan.ns[0]).toBe('link add vxlan0 link-netns /var/run/netns/host-a group 22001 mtu 1450 type vxlan id 42 dstport 4789 local 198.18.0.1 nolearning proxy');
    expect(plan.ns).toContain('link add br0 group 22001 mtu 1450 type bridge');
    expect(plan.ns).toContain(`link add ${bridgePortName('ep-1')} group 22001 mtu 1450 master br0 up type veth peer name eth0 address 02:42:c6:13:00:01 mtu 1450 netns /var/run/netns/c1`);
    expect(plan.ns.filter((l) => l.startsWith('neigh replace'))).toHaveLength(2);
    expect(plan.bridge).toEqual([
      'fdb replace 02:42:c6:13:00:02 dev vxlan0 dst 198.18.0.2 self permanent',
      'fdb replace 02:42:c6:13:00:03 dev vxlan0 dst 198.18.0.2 self permanent',
      'fdb append 00:00:00:00:00:00 dev vxlan0 dst 198.18.0.2 self permanent',
    ]);
    expect(plan.sandboxes.map((e) => e.id)).toEqual(['ep-1']);
  });

  it('equal state: an empty plan', () => {
    const plan = planNetwork(desired, parseSnapshot('x', ...programmedJson()));
    expect(plan).toEqual({ changes: [], ns: [], bridge: [], sandboxes: [] });
  });

  it('a learned (non-permanent) FDB entry is replaced; a wrong neighbour updated; strays removed', () => {
    const [links, fdb, neigh] = programmedJson();
    (fdb as { state: string }[])[2]!.state = '';
    (neigh as { lladdr: string }[])[1]!.lladdr = '02:42:c6:13:00:99';
    (neigh as unknown[]).push({ dst: '198.19.0.99', lladdr: '02:42:c6:13:00:99', state: ['STALE'] });
    const plan = planNetwork(desired, parseSnapshot('x', links, fdb, neigh));
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.target}`)).toEqual([
      'update neighbour 198.19.0.3',
      'remove neighbour 198.19.0.99',
      'update fdb 02:42:c6:13:00:02',
    ]);
    expect(plan.bridge).toEqual(['fdb replace 02:42:c6:13:00:02 dev vxlan0 dst 198.18.0.2 self permanent']);
  });

  it('another VNI: the device is deleted and created again, with every entry', () => {
    const plan = planNetwork({ ...desired, vxlan: { ...desired.vxlan, vni: 43 } }, parseSnapshot('x', ...programmedJson()));
    expect(plan.ns.slice(0, 2)).toEqual(['link del vxlan0', expect.stringMatching(/^link add vxlan0 link-netns .* id 43 /)]);
    expect(plan.bridge).toHaveLength(3);
    expect(plan.changes[0]).toMatchObject({ action: 'update', kind: 'vxlan' });
  });

  it('keepUndesired (adopting a namespace while the desired state is programmed call by call): adds and updates, removes nothing', () => {
    const [links, fdb, neigh] = programmedJson();
    (fdb as { state: string }[])[2]!.state = '';
    (neigh as unknown[]).push({ dst: '198.19.0.99', lladdr: '02:42:c6:13:00:99', state: ['PERMANENT'] });
    const adopting = { ...desired, local: [], remote: [desired.remote[0]!, remote('ep-4', '198.19.0.4', '02:42:c6:13:00:04', '198.18.0.3')] };
    const plan = planNetwork(adopting, parseSnapshot('x', links, fdb, neigh), { keepUndesired: true });
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.target}`)).toEqual(['add neighbour 198.19.0.4', 'update fdb 02:42:c6:13:00:02', 'add fdb 02:42:c6:13:00:04', 'add flood 198.18.0.3']);
    expect([...plan.ns, ...plan.bridge].filter((l) => / del /.test(` ${l} `))).toEqual([]);
    // the same inputs without it: the port, the stray neighbour and the entries of ep-3 go
    const trimmed = planNetwork(adopting, parseSnapshot('x', links, fdb, neigh));
    expect(trimmed.changes.filter((c) => c.action === 'remove').map((c) => `${c.kind} ${c.target}`).sort()).toEqual(['endpoint ep-1', 'fdb 02:42:c6:13:00:03', 'neighbour 198.19.0.3', 'neighbour 198.19.0.99']);
  });

  it('a port nobody wants is removed; a peer on another port gets the port in its entries', () => {
    const [links, fdb, neigh] = programmedJson();
    const plan = planNetwork(
      { ...desired, local: [], remote: [{ ...desired.remote[0]!, peer: { ...peer('198.18.0.2'), vxlanPort: 5555 } }] },
      parseSnapshot('x', links, fdb, neigh),
    );
    expect(plan.ns[0]).toBe(`link del ${bridgePortName('ep-1')}`);
    expect(plan.bridge).toContain('fdb replace 02:42:c6:13:00:02 dev vxlan0 dst 198.18.0.2 port 5555 self permanent');
    expect(plan.bridge).toContain('fdb append 00:00:00:00:00:00 dev vxlan0 dst 198.18.0.2 port 5555 self permanent');
    expect(plan.bridge).toContain('fdb del 02:42:c6:13:00:03 dev vxlan0 self');
  });
});

describe('names and MTU', () => {
  it('prefixes carry the node id (or its hash), namespaces 12 hex digits of the network id', () => {
    expect(defaultNamePrefix('node-1')).toBe('weft-node-1');
    expect(defaultNamePrefix('a/b c')).toMatch(/^weft-[0-9a-f]{12}$/);
    expect(networkNamespaceName('weft-node-1', 'net-1')).toMatch(/^weft-node-1-[0-9a-f]{12}$/);
    expect(networkNamespaceName('weft-node-1', 'net-1')).not.toBe(networkNamespaceName('weft-node-1', 'net-2'));
    expect(bridgePortName('an endpoint id that is long')).toMatch(/^ve[0-9a-f]{12}$/);
  });

  it('overlay MTU = underlay − 50 − encryption overhead', () => {
    expect(deriveOverlayMtu(1500)).toBe(1450);
    expect(deriveOverlayMtu(1400)).toBe(1350);
    expect(deriveOverlayMtu(1400, 40)).toBe(1310);
    expect(() => deriveOverlayMtu(100)).toThrow(RangeError);
  });
});
