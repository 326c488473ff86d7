/**
 * Egress as Docker's docker_gwbridge: a host namespace with its underlay and
 * a link to an "outside" namespace (an address, no route back to the egress
 * subnet). A container on a normal network reaches the outside (ping, UDP,
 * TCP) with the host's address as source, as the outside sees it; one on an
 * internal network has no egress interface, no default route and no way
 * out; two containers on the gateway bridge cannot reach each other through
 * it. reconcile() repairs a deleted table, a deleted port, a stray port and
 * forwarding turned off, reports each, and then reports nothing; a restarted
 * plane adopts the addresses live containers have; detach, removing the
 * last non-internal network and close() remove what egress made.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import type { LocalEndpointSpec, NetworkSpec } from '@weft/interface';
import { KernelDataPlane, LinuxStateError } from '@weft/linux';
import { describeWith, netnsCapability } from '../../../test-support/capabilities';
import { until } from '../../../test-support/wait';
import { KernelLab, type Host } from './hosts';
import { addressOfEgressMac, egressMac, egressSubnet, egressTableScript, expectedEgressRules, lowestFree, overlaps, parseEgressTables } from '../src/plane/egress';
import { egressPortName, egressPortPattern, gatewayBridgeName } from '../src/plane/names';

describe('egress, the pure part', () => {
  it('names fit in 15 characters, carry the prefix hash, and tell prefixes apart', () => {
    const port = egressPortName('weft-node-a', '/var/run/netns/c1');
    expect(gatewayBridgeName('weft-node-a')).toMatch(/^gw[0-9a-f]{6}$/);
    expect(port).toHaveLength(15);
    expect(port.startsWith(gatewayBridgeName('weft-node-a'))).toBe(true);
    expect(egressPortPattern('weft-node-a').test(port)).toBe(true);
    expect(egressPortPattern('weft-node-a-1').test(port)).toBe(false);
    expect(egressPortName('weft-node-a', '/var/run/netns/c2')).not.toBe(port);
  });

  it('subnets, addresses and the MAC that carries an address', () => {
    const s = egressSubnet('172.18.0.0/16');
    expect(s).toMatchObject({ cidr: '172.18.0.0/16', gateway: '172.18.0.1', prefixLength: 16 });
    expect(lowestFree(s, new Set())).toBe('172.18.0.2');
    expect(lowestFree(s, new Set(['172.18.0.2', '172.18.0.4']))).toBe('172.18.0.3');
    const tiny = egressSubnet('10.9.0.0/29'); // .1 gateway, .2–.6 containers, .7 broadcast
    expect(lowestFree(tiny, new Set(['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']))).toBeUndefined();
    expect(overlaps(s, egressSubnet('172.18.5.0/24'))).toBe(true);
    expect(overlaps(s, egressSubnet('172.19.0.0/16'))).toBe(false);
    expect(egressMac('172.18.0.5')).toBe('02:77:ac:12:00:05');
    expect(addressOfEgressMac('02:77:AC:12:00:05')).toBe('172.18.0.5');
    expect(addressOfEgressMac('02:42:ac:12:00:05')).toBeUndefined();
  });

  it('the table script and its read-back agree (as nft -j prints it)', () => {
    const s = egressSubnet('172.18.0.0/16');
    const script = egressTableScript('weft-a-egress', 'gw123456', s);
    expect(script).toContain('ip saddr 172.18.0.0/16 oifname != "gw123456" counter masquerade');
    expect(script).toContain('iifname "gw123456*" oifname "gw123456*" counter drop');
    expect(egressTableScript('weft-a-egress', 'gw123456', undefined)).not.toContain('masquerade');
    const rule = (family: string, chain: string, comment: string, packets: number) => ({ rule: { family, table: 'weft-a-egress', chain, comment, expr: [{ counter: { packets, bytes: 0 } }] } });
    const json = {
      nftables: [
        { table: { family: 'ip', name: 'weft-a-egress' } },
        { table: { family: 'bridge', name: 'weft-a-egress' } },
        rule('ip', 'postrouting', 'weft egress masquerade 172.18.0.0/16', 5),
        rule('ip', 'forward', 'weft egress no icc', 1),
        rule('bridge', 'forward', 'weft egress no icc', 2),
        { rule: { family: 'ip', table: 'other', chain: 'x', comment: 'weft egress no icc', expr: [] } },
      ],
    };
    expect(parseEgressTables(json, 'weft-a-egress')).toEqual({ rules: expectedEgressRules(s), masqueraded: 5, dropped: 3 });
    expect(parseEgressTables(json, 'weft-b-egress')).toBeUndefined();
  });
});

interface Link {
  ifname: string;
  flags: string[];
  master?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

const summary = (changes: readonly { action: string; kind: string; target: string }[]): string[] => changes.map((c) => `${c.action} ${c.kind} ${c.target}`).sort();

// the outside: a UDP and a TCP echo that print the peer address they see
const LISTENER = [
  'import socket, sys',
  'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 7001))',
  't = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((sys.argv[1], 7002)); t.listen(4)',
  'print("ready", flush=True)',
  'while True:',
  '    d, a = u.recvfrom(2048); print("udp", a[0], flush=True); u.sendto(d, a)',
  '    c, a = t.accept(); print("tcp", a[0], flush=True); c.sendall(c.recv(100)); c.close()',
].join('\n');

const CLIENT = [
  'import socket, sys',
  'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)',
  'u.sendto(b"weft-udp", (sys.argv[1], 7001)); d, _ = u.recvfrom(2048); print(d == b"weft-udp")',
  'c = socket.create_connection((sys.argv[1], 7002), timeout=10); c.sendall(b"weft-tcp"); print(c.recv(100) == b"weft-tcp")',
].join('\n');

describeWith(netnsCapability(), 'KernelDataPlane egress (docker_gwbridge)', () => {
  const k = new KernelLab('we');
  let h1: Host;
  let out: ReturnType<KernelLab['outside']>;
  let plane: KernelDataPlane;
  let c1: { ns: string; path: string };
  let c2: { ns: string; path: string };
  let c3: { ns: string; path: string };
  let listener: ChildProcess;
  let heard = '';
  const ov = () => `198.19.${k.lab.subnetIndex}`;
  const NET = 'net-out';
  const INTERNAL = 'net-in';
  const spec = (): NetworkSpec => ({ id: NET, name: NET, vni: 3000 + k.lab.subnetIndex, mtu: 1450, subnet: `${ov()}.0/26`, internal: false });
  const internalSpec = (): NetworkSpec => ({ id: INTERNAL, name: INTERNAL, vni: 3300 + k.lab.subnetIndex, mtu: 1450, subnet: `${ov()}.64/27`, internal: true });
  const NET2 = 'net-out2';
  const spec2 = (): NetworkSpec => ({ id: NET2, name: NET2, vni: 3600 + k.lab.subnetIndex, mtu: 1450, subnet: `${ov()}.96/27`, internal: false });
  const ep = (id: string, host: number, sandbox: string, extra: Partial<LocalEndpointSpec> = {}): LocalEndpointSpec => ({
    id,
    name: id,
    ip: `${ov()}.${host}`,
    prefixLength: 26,
    mac: `02:42:c6:13:${k.lab.subnetIndex.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`,
    sandbox,
    ...extra,
  });
  const table = () => `${plane.namePrefix}-egress`;
  const ipv4Of = (ns: string, dev: string): string[] =>
    k.json<Link[]>(ns, ['-4', 'addr', 'show', 'dev', dev])[0]?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`) ?? [];
  const hasLink = (ns: string, dev: string): boolean => k.tryExec(ns, 'ip', ['link', 'show', 'dev', dev]).status === 0;
  const reachesOutside = (ns: string): boolean => k.tryExec(ns, 'ping', ['-c', '1', '-W', '2', out.address]).status === 0;

  /** Runs the client in `ns` against the outside; returns the peer addresses the outside printed for it. */
  async function exchange(ns: string): Promise<string[]> {
    const from = heard.length;
    const res = await k.lab.execAsync(ns, 'python3', ['-c', CLIENT, out.address], 30_000);
    expect(res.trim().split('\n')).toEqual(['True', 'True']);
    await until(() => /tcp \S+\n/.test(heard.slice(from)), 'the outside to print the TCP peer', 10_000);
    return [...heard.slice(from).matchAll(/^(udp|tcp) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
  }

  beforeAll(async () => {
    [h1] = k.hosts(1500);
    out = k.outside(h1);
    c1 = k.container('c1');
    c2 = k.container('c2');
    c3 = k.container('c3');
    plane = await k.plane(h1, 'e');
    listener = k.lab.spawn(out.ns, 'python3', ['-c', LISTENER, out.address]);
    listener.stdout!.on('data', (d: Buffer) => (heard += d.toString()));
    await until(() => heard.includes('ready'), 'the listener in the outside namespace', 15_000);
  });
  afterAll(async () => {
    listener?.kill('SIGKILL');
    await k.cleanup();
  });

  it('validates its options, naming the field', async () => {
    for (const [egress, field] of [
      [{ subnet: '172.18.0.1/16' }, 'egress.subnet'],
      [{ subnet: '10.0.0.0/31' }, 'egress.subnet'],
      [{ interfaceName: 'eth 1' }, 'egress.interfaceName'],
      [{ colour: 'blue' }, 'egress.colour'],
      [true, 'egress'],
    ] as const) {
      await expect(KernelDataPlane.open({ nodeId: 'x', underlayAddress: h1.address, hostNetns: h1.path, egress: egress as never })).rejects.toMatchObject({ name: 'InvalidOptionsError', field });
    }
  });

  it('builds the gateway with the first non-internal network: bridge, masquerade table, forwarding (at most 3 processes)', async () => {
    const before = plane.runner.spawns;
    await plane.ensureNetwork(internalSpec());
    expect(plane.runner.spawns).toBe(before); // an internal network needs no gateway
    expect((await plane.egressState())!.bridge).toBeUndefined();
    const before2 = plane.runner.spawns;
    await plane.ensureNetwork(spec());
    expect(plane.runner.spawns - before2).toBeLessThanOrEqual(3);
    const s = (await plane.egressState())!;
    expect(s.bridge).toMatchObject({ up: true, addresses: ['172.18.0.1/16'], alias: plane.namePrefix });
    expect(s.bridge!.name).toMatch(/^gw[0-9a-f]{6}$/);
    expect(s.subnet).toBe('172.18.0.0/16');
    expect(s.forwarding).toBe(true);
    expect(s.tables?.rules).toEqual([`bridge/forward/weft egress no icc`, `ip/forward/weft egress no icc`, `ip/postrouting/weft egress masquerade 172.18.0.0/16`]);
    expect(k.exec(h1.ns, 'nft', ['list', 'table', 'ip', table()])).toMatch(/ip saddr 172\.18\.0\.0\/16 oifname != "gw[0-9a-f]{6}" .*masquerade/);
    // lazy as before: no network namespace, no port
    expect(plane.ownedNamespaces()).toEqual([]);
    expect(s.ports).toEqual([]);
  });

  it('attaches a container in 2 processes: eth0 on the overlay, eth1 on the gateway bridge with the default route', async () => {
    const before = plane.runner.spawns;
    await plane.addLocalEndpoint(NET, ep('e1', 1, c1.path));
    expect(plane.runner.spawns - before).toBe(2); // unshare+ip (the network namespace), the sandbox (eth0 and eth1); nothing in the host namespace
    expect(ipv4Of(c1.ns, 'eth1')).toEqual(['172.18.0.2/16']);
    expect(ipv4Of(c1.ns, 'eth0')).toEqual([`${ov()}.1/26`]);
    expect(k.exec(c1.ns, 'ip', ['route', 'show', 'default']).trim()).toBe('default via 172.18.0.1 dev eth1');
    expect(plane.egressAddressOf(c1.path)).toBe('172.18.0.2');
    const s = (await plane.egressState())!;
    expect(s.ports).toEqual([{ name: expect.stringMatching(new RegExp(`^${s.bridge!.name}[0-9a-f]{7}$`)), address: '172.18.0.2', master: s.bridge!.name, up: true }]);
  });

  it('reaches the outside: ping, UDP and TCP, with the host address as source', async () => {
    expect(k.exec(c1.ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', out.address])).toMatch(/2 received/);
    expect(await exchange(c1.ns)).toEqual([`udp ${out.hostAddress}`, `tcp ${out.hostAddress}`]);
    // the host's conntrack shows the translation: original 172.18.0.2 → outside, reply outside → the host's address
    const flows = k.exec(h1.ns, 'conntrack', ['-L', '-p', 'udp', '-s', '172.18.0.2', '-d', out.address]);
    expect(flows).toMatch(new RegExp(`src=172\\.18\\.0\\.2 dst=${out.address.replace(/\./g, '\\.')} .*dport=7001 .*src=${out.address.replace(/\./g, '\\.')} dst=${out.hostAddress.replace(/\./g, '\\.')} `));
    // the outside has no route to the egress subnet: only masquerade brings the replies back
    expect(k.tryExec(out.ns, 'ping', ['-c', '1', '-W', '1', '172.18.0.2']).status).not.toBe(0);
    expect((await plane.egressState())!.tables!.masqueraded).toBeGreaterThanOrEqual(3);
  });

  it('a container on an internal network gets no egress and cannot reach the outside', async () => {
    const before = plane.runner.spawns;
    await plane.addLocalEndpoint(INTERNAL, ep('i3', 67, c3.path, { prefixLength: 27 }));
    expect(plane.runner.spawns - before).toBe(2);
    expect(hasLink(c3.ns, 'eth1')).toBe(false);
    expect(k.exec(c3.ns, 'ip', ['route', 'show', 'default']).trim()).toBe('');
    expect(reachesOutside(c3.ns)).toBe(false);
    expect(plane.egressAddressOf(c3.path)).toBeUndefined();
    expect((await plane.egressState())!.ports).toHaveLength(1);
  });

  it('two containers on the gateway bridge cannot reach each other through it (ICC off), only over their network', async () => {
    await plane.addLocalEndpoint(NET, ep('e2', 2, c2.path));
    expect(ipv4Of(c2.ns, 'eth1')).toEqual(['172.18.0.3/16']);
    expect(await exchange(c2.ns)).toEqual([`udp ${out.hostAddress}`, `tcp ${out.hostAddress}`]);
    const dropped = (await plane.egressState())!.tables!.dropped;
    expect(k.tryExec(c1.ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', '172.18.0.3']).status).not.toBe(0);
    expect((await plane.egressState())!.tables!.dropped).toBeGreaterThan(dropped);
    // through the host (routed, not bridged) is refused too
    k.exec(c1.ns, 'ip', ['route', 'add', '172.18.0.3/32', 'via', '172.18.0.1', 'dev', 'eth1']);
    expect(k.tryExec(c1.ns, 'ping', ['-c', '1', '-W', '1', '172.18.0.3']).status).not.toBe(0);
    k.exec(c1.ns, 'ip', ['route', 'del', '172.18.0.3/32']);
    // the overlay still joins them, and each still reaches the gateway
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`])).toMatch(/1 received/);
    expect(k.exec(c2.ns, 'ping', ['-c', '1', '-W', '2', '172.18.0.1'])).toMatch(/1 received/);
  });

  it('a container on two non-internal networks has one egress pair; a network turned internal takes it away', async () => {
    await plane.ensureNetwork(spec2());
    const before = plane.runner.spawns;
    await plane.addLocalEndpoint(NET2, ep('m1', 97, c1.path, { prefixLength: 27, interfaceName: 'eth2' }));
    expect(plane.runner.spawns - before).toBe(2); // the second network's namespace, the sandbox (eth2 only)
    expect(ipv4Of(c1.ns, 'eth1')).toEqual(['172.18.0.2/16']);
    expect((await plane.egressState())!.ports.map((p) => p.address).sort()).toEqual(['172.18.0.2', '172.18.0.3']);
    // NET becomes internal: c2 (only there) loses its pair at once, c1 keeps its own through NET2
    await plane.ensureNetwork({ ...spec(), internal: true });
    expect(hasLink(c2.ns, 'eth1')).toBe(false);
    expect(k.exec(c2.ns, 'ip', ['route', 'show', 'default']).trim()).toBe('');
    expect(reachesOutside(c1.ns)).toBe(true);
    await plane.ensureNetwork(spec());
    expect(ipv4Of(c2.ns, 'eth1')).toEqual(['172.18.0.3/16']);
    expect(reachesOutside(c2.ns)).toBe(true);
    // c1 leaves NET2 (then NET2 goes): still on NET, it keeps its pair
    await plane.removeLocalEndpoint(NET2, 'm1');
    await plane.removeNetwork(NET2);
    expect(ipv4Of(c1.ns, 'eth1')).toEqual(['172.18.0.2/16']);
    expect(hasLink(c1.ns, 'eth2')).toBe(false);
  });

  it('reconcile repairs the table, a port, a stray port and forwarding, reports each, then reports nothing', async () => {
    const before = plane.runner.spawns;
    expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });
    expect(plane.runner.spawns - before).toBe(2 + 3 * 2 + 1); // egress: host links + (forwarding, ruleset); 3 per network namespace (two active); the guard table

    const s = (await plane.egressState())!;
    const port1 = s.ports.find((p) => p.address === '172.18.0.2')!.name;
    const stray = `${s.bridge!.name}0000000`;
    k.exec(h1.ns, 'nft', ['delete', 'table', 'ip', table()]);
    k.exec(h1.ns, 'ip', ['link', 'del', port1]); // c1 loses eth1 with it
    k.exec(h1.ns, 'ip', ['link', 'add', stray, 'type', 'veth', 'peer', 'name', `${k.lab.tag}sp`.slice(-15)]);
    k.exec(h1.ns, 'sh', ['-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward']);
    expect(hasLink(c1.ns, 'eth1')).toBe(false);
    expect(reachesOutside(c2.ns)).toBe(false);

    const r = await plane.reconcile();
    expect(r.errors).toEqual([]);
    expect(summary(r.changes)).toEqual([`add egress ${port1}`, `remove egress ${stray}`, `update forwarding /proc/sys/net/ipv4/ip_forward`, `update masquerade ${table()}`].sort());
    expect(ipv4Of(c1.ns, 'eth1')).toEqual(['172.18.0.2/16']); // the same address again
    expect(hasLink(h1.ns, stray)).toBe(false);
    expect(await exchange(c1.ns)).toEqual([`udp ${out.hostAddress}`, `tcp ${out.hostAddress}`]);
    expect(reachesOutside(c2.ns)).toBe(true);
    expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });

    // the bridge itself gone: made again, the ports enslaved again
    k.exec(h1.ns, 'ip', ['link', 'del', s.bridge!.name]);
    const r2 = await plane.reconcile();
    expect(summary(r2.changes)).toEqual([`add gateway ${s.bridge!.name}`, ...s.ports.map((p) => `update egress ${p.name}`)].sort());
    expect(reachesOutside(c1.ns)).toBe(true);
    expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });
  });

  it("another node's gateway on the same host gets the next subnet, and each reconcile spares the other's", async () => {
    const other = await k.plane(h1, 'e-2', { vxlanPort: 4790, encryptedPort: 4791 });
    expect(other.namePrefix.startsWith(plane.namePrefix)).toBe(true);
    await other.ensureNetwork({ ...spec(), vni: spec().vni + 1 });
    const os = (await other.egressState())!;
    expect(os.subnet).toBe('172.19.0.0/16');
    expect(os.bridge!.name).not.toBe((await plane.egressState())!.bridge!.name);
    expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });
    expect(await other.reconcile()).toEqual({ changes: [], errors: [] });
    // a subnet overlapping the host's own addresses is refused
    const clash = await k.plane(h1, 'e-3', { vxlanPort: 4792, encryptedPort: 4793, egress: { subnet: '172.19.0.0/24' } });
    await expect(clash.ensureNetwork({ ...spec(), vni: spec().vni + 2 })).rejects.toBeInstanceOf(LinuxStateError);
    await clash.close();
    await other.close();
    expect((await plane.egressState())!.ports).toHaveLength(2);
    expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });
  });

  it('refuses an overlay interface named like the egress interface, changing nothing', async () => {
    const spawns = plane.runner.spawns;
    await expect(plane.addLocalEndpoint(NET, { ...ep('x', 9, c3.path), interfaceName: 'eth1' })).rejects.toBeInstanceOf(LinuxStateError);
    expect(plane.runner.spawns).toBe(spawns);
  });

  it('a restarted plane adopts the egress addresses live containers have', async () => {
    k.planes.splice(k.planes.indexOf(plane), 1); // "crash": dropped without close(); the kernel keeps everything
    plane = await k.plane(h1, 'e');
    await plane.ensureNetwork(internalSpec());
    await plane.ensureNetwork(spec());
    // a container attached first elsewhere must not take an address a live container holds
    await plane.addLocalEndpoint(NET, ep('e2', 2, c2.path));
    await plane.addLocalEndpoint(NET, ep('e1', 1, c1.path));
    await plane.addLocalEndpoint(INTERNAL, ep('i3', 67, c3.path, { prefixLength: 27 }));
    expect(plane.egressAddressOf(c1.path)).toBe('172.18.0.2');
    expect(plane.egressAddressOf(c2.path)).toBe('172.18.0.3');
    expect(ipv4Of(c1.ns, 'eth1')).toEqual(['172.18.0.2/16']);
    expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });
    expect(reachesOutside(c1.ns)).toBe(true);
  });

  it('detach removes the pair; the last non-internal network removes the bridge and the tables; close removes everything', async () => {
    const before = plane.runner.spawns;
    await plane.removeLocalEndpoint(NET, 'e2');
    expect(plane.runner.spawns - before).toBe(2); // the network namespace's veth, the host's egress port
    expect(hasLink(c2.ns, 'eth1')).toBe(false);
    expect(k.exec(c2.ns, 'ip', ['route', 'show', 'default']).trim()).toBe('');
    expect((await plane.egressState())!.ports.map((p) => p.address)).toEqual(['172.18.0.2']);
    await plane.removeLocalEndpoint(NET, 'e1');
    expect(hasLink(c1.ns, 'eth1')).toBe(false);
    let s = (await plane.egressState())!;
    expect(s.ports).toEqual([]);
    expect(s.bridge).toBeDefined(); // the network is still programmed here
    await plane.removeNetwork(NET);
    s = (await plane.egressState())!;
    expect(s.bridge).toBeUndefined();
    expect(s.tables).toBeUndefined();
    expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });

    await plane.ensureNetwork(spec());
    await plane.addLocalEndpoint(NET, ep('e1', 1, c1.path));
    expect(reachesOutside(c1.ns)).toBe(true);
    await plane.close();
    expect(hasLink(c1.ns, 'eth1')).toBe(false);
    expect(k.json<Link[]>(h1.ns, ['link', 'show']).map((l) => l.ifname).filter((n) => n.startsWith('gw'))).toEqual([]);
    expect(execFileSync('ip', ['netns', 'exec', h1.ns, 'nft', 'list', 'tables'], { encoding: 'utf8' })).not.toContain(table());
  });
});
