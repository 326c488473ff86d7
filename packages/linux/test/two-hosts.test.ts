/**
 * The kernel plane end to end: two "hosts" (namespaces joined by a veth
 * underlay with a 1400-byte MTU), a KernelDataPlane per host running its
 * host-side commands inside its host namespace, containers (namespaces)
 * attached to one network on each host, programmed with each other's FDB,
 * neighbour and flood entries: the kernel's ping crosses real kernel VXLAN.
 */
import { execFileSync } from 'node:child_process';
import { DataPlaneError, isWeftError } from '@weft/interface';
import { KernelDataPlane, LinuxStateError, bridgePortName } from '@weft/linux';
import { allOf, commandCapability, describeWith, netnsCapability } from '../../../test-support/capabilities';
import { sleep, until } from '../../../test-support/wait';
import { KernelLab, localEp, network, remoteOf, type Host } from './hosts';

interface Link {
  ifname: string;
  mtu: number;
  address: string;
  link_netnsid?: number;
  flags: string[];
  addr_info?: { local: string; prefixlen: number }[];
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
}

describeWith(netnsCapability(), 'KernelDataPlane across two hosts', () => {
  const k = new KernelLab('wk');
  let h1: Host;
  let h2: Host;
  let a: KernelDataPlane;
  let b: KernelDataPlane;
  let c1: { ns: string; path: string };
  let c2: { ns: string; path: string };
  let c3: { ns: string; path: string };
  const ov = () => `198.19.${k.lab.subnetIndex}`;
  const NET = 'net-blue';

  beforeAll(async () => {
    [h1, h2] = k.hosts(1400);
    c1 = k.container('c1');
    c2 = k.container('c2');
    c3 = k.container('c3');
    a = await k.plane(h1, 'a');
    b = await k.plane(h2, 'b');
  });
  afterAll(() => k.cleanup());

  it('derives the overlay MTU from the underlay device (1400 − 50 = 1350) and advertises the underlay', async () => {
    expect(a.info).toMatchObject({ kind: 'kernel', address: h1.address, vxlanPort: 4789, underlayMtu: 1400 });
    expect(a.underlayDevice).toBe(h1.device);
    expect(a.info.epoch).toMatch(/^[0-9a-f]{16}$/);
    await a.ensureNetwork(network(NET, 4242, ov()));
    await b.ensureNetwork(network(NET, 4242, ov()));
    expect(a.mtuOf(NET)).toBe(1350);
    // lazy: nothing in the kernel yet
    expect(a.ownedNamespaces()).toEqual([]);
    expect((await a.programmed()).networks).toEqual([]);
  });

  it('attaches a container in at most 3 processes, with the MAC, address and MTU asked for', async () => {
    const before = a.runner.spawns;
    await a.addLocalEndpoint(NET, localEp('ep-1', `${ov()}.1`, '02:42:c6:13:00:01', c1.path));
    expect(a.runner.spawns - before).toBeLessThanOrEqual(3);
    expect(a.runner.spawns - before).toBe(2); // unshare+ip (namespace, vxlan0, bridge, veth), then the sandbox; no FDB yet
    // on b the remote endpoint is known before the first attach: kept as desired state (no process), programmed with the attach
    let before2 = b.runner.spawns;
    await b.addRemoteEndpoint(NET, remoteOf(localEp('ep-1', `${ov()}.1`, '02:42:c6:13:00:01', c1.path), a));
    expect(b.runner.spawns).toBe(before2);
    expect(b.ownedNamespaces()).toEqual([]);
    before2 = b.runner.spawns;
    await b.addLocalEndpoint(NET, localEp('ep-2', `${ov()}.2`, '02:42:c6:13:00:02', c2.path));
    expect(b.runner.spawns - before2).toBe(3); // unshare+ip (… and the neighbour entry), bridge (FDB + flood), sandbox
    expect(k.json<{ dst: string }[]>(b.namespaceOf(NET), ['neigh', 'show', 'dev', 'vxlan0']).map((n) => n.dst)).toEqual([`${ov()}.1`]);

    const eth0 = k.json<Link[]>(c1.ns, ['-4', 'addr', 'show', 'dev', 'eth0'])[0]!;
    expect(k.json<Link[]>(c1.ns, ['link', 'show', 'dev', 'eth0'])[0]!.address).toBe('02:42:c6:13:00:01');
    expect(eth0.mtu).toBe(1350);
    expect(eth0.flags).toContain('UP');
    expect(eth0.addr_info?.map((x) => `${x.local}/${x.prefixlen}`)).toContain(`${ov()}.1/24`);

    // the network's namespace: bridge + vxlan0 (VNI, port, nolearning, proxy, local, MTU) + the bridge-side veth
    expect(a.ownedNamespaces()).toEqual([a.namespaceOf(NET)]);
    expect(a.namespaceOf(NET)).toMatch(new RegExp(`^weft-${k.lab.tag}a-[0-9a-f]{12}$`));
    const links = k.json<(Link & { master?: string })[]>(a.namespaceOf(NET), ['-d', 'link', 'show']);
    const vx = links.find((l) => l.ifname === 'vxlan0')!;
    expect(vx.linkinfo?.info_kind).toBe('vxlan');
    expect(vx.linkinfo?.info_data).toMatchObject({ id: 4242, port: 4789, learning: false, proxy: true, local: h1.address });
    expect(vx.mtu).toBe(1350);
    expect(vx.master).toBe('br0');
    // created by a process in the host namespace: its link-netns is another namespace, and its UDP socket is there
    expect(typeof vx.link_netnsid).toBe('number');
    expect(k.exec(h1.ns, 'ss', ['-Huln'])).toMatch(/:4789\b/);
    expect(k.exec(a.namespaceOf(NET), 'ss', ['-Huln'])).not.toMatch(/:4789\b/);
    const port = links.find((l) => l.ifname === bridgePortName('ep-1'))!;
    expect(port.master).toBe('br0');
    expect(port.mtu).toBe(1350);
  });

  it('programs remote endpoints (FDB replace, neighbour, flood) and the kernel pings across VXLAN', async () => {
    const before = a.runner.spawns;
    await a.addRemoteEndpoint(NET, remoteOf(localEp('ep-2', `${ov()}.2`, '02:42:c6:13:00:02', c2.path), b));
    expect(a.runner.spawns - before).toBe(2);
    await b.addRemoteEndpoint(NET, remoteOf(localEp('ep-1', `${ov()}.1`, '02:42:c6:13:00:01', c1.path), a));

    const fdb = k.json<{ mac: string; dst?: string; state: string; flags: string[] }[]>(a.namespaceOf(NET), ['fdb', 'show', 'dev', 'vxlan0'], 'bridge');
    expect(fdb.filter((e) => e.flags.includes('self')).map((e) => `${e.mac} ${e.dst} ${e.state}`).sort()).toEqual(
      [`00:00:00:00:00:00 ${h2.address} permanent`, `02:42:c6:13:00:02 ${h2.address} permanent`].sort(),
    );
    const neigh = k.json<{ dst: string; lladdr: string; state: string[] }[]>(a.namespaceOf(NET), ['neigh', 'show', 'dev', 'vxlan0']);
    expect(neigh).toEqual([{ dst: `${ov()}.2`, lladdr: '02:42:c6:13:00:02', state: ['PERMANENT'] }]);

    const txBefore = underlayTxPackets(k, h1);
    expect(k.exec(c1.ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', `${ov()}.2`])).toMatch(/3 received/);
    // the largest packet the derived MTU allows goes through unfragmented; one byte more does not leave
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', String(1350 - 28), `${ov()}.2`])).toMatch(/1 received/);
    expect(k.tryExec(c1.ns, 'ping', ['-c', '1', '-W', '1', '-M', 'do', '-s', String(1350 - 27), `${ov()}.2`]).status).not.toBe(0);
    expect(underlayTxPackets(k, h1) - txBefore).toBeGreaterThanOrEqual(4);
  });

  it('carries TCP (1 MiB, checked by SHA-256) and UDP across, at full MTU', async () => {
    // a server in container B: TCP answers with the byte count and SHA-256 of what it got; then one UDP datagram comes back reversed
    const server = [
      'import socket, hashlib, sys',
      'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 5002))',
      't = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((sys.argv[1], 5001)); t.listen(1)',
      'print("ready", flush=True)',
      'c, _ = t.accept(); h = hashlib.sha256(); n = 0',
      'while True:',
      '    d = c.recv(65536)',
      '    if not d: break',
      '    h.update(d); n += len(d)',
      'c.sendall(f"{n} {h.hexdigest()}".encode()); c.close()',
      'd, a = u.recvfrom(65535); u.sendto(d[::-1], a)',
    ].join('\n');
    const srv = k.lab.spawn(c2.ns, 'python3', ['-c', server, `${ov()}.2`]);
    let ready = '';
    srv.stdout!.on('data', (d: Buffer) => (ready += d.toString()));
    await until(() => ready.includes('ready'), 'the server in container B', 15_000);
    const client = [
      'import socket, hashlib, os, sys',
      'data = bytes((i * 7) % 251 for i in range(1 << 20))',
      'c = socket.create_connection((sys.argv[1], 5001), timeout=10); c.sendall(data); c.shutdown(socket.SHUT_WR)',
      'got = b""',
      'while True:',
      '    d = c.recv(4096)',
      '    if not d: break',
      '    got += d',
      'print(got.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()}")',
      'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)',
      'payload = os.urandom(1350 - 28)',
      'u.sendto(payload, (sys.argv[1], 5002)); d, _ = u.recvfrom(65535)',
      'print(d == payload[::-1])',
    ].join('\n');
    const out = await k.lab.execAsync(c1.ns, 'python3', ['-c', client, `${ov()}.2`], 30_000);
    expect(out.trim().split('\n')).toEqual(['True', 'True']);
    srv.kill('SIGKILL');
  });

  describeWith(allOf(netnsCapability(), commandCapability('tshark', ['-v'])), 'on the underlay wire', () => {
    it('the pings are VXLAN on UDP 4789 with the network VNI and the containers inner addresses', async () => {
      const cap = k.lab.spawn(h1.ns, 'tshark', ['-l', '-n', '-i', h1.device, '-f', 'udp port 4789', '-Y', 'icmp', '-a', 'duration:30', '-T', 'fields', '-e', 'udp.dstport', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type']);
      let out = '';
      let err = '';
      cap.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      cap.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<void>((r) => cap.once('exit', () => r()));
      await until(() => /Capturing on/.test(err), 'tshark to start', 15_000);
      // ping until tshark has shown four ICMP packets (under load it may start dissecting late); bounded
      const rowsSeen = (): number => out.split('\n').filter((l) => l.trim() !== '').length;
      for (let i = 0; i < 40 && rowsSeen() < 4; i++) {
        await k.lab.execAsync(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`]);
        await sleep(250);
      }
      await until(() => rowsSeen() >= 4, 'four ICMP packets in the capture', 10_000);
      cap.kill('SIGINT');
      await exited;
      const rows = out.trim().split('\n').map((l) => l.split('\t'));
      expect(rows.length).toBeGreaterThanOrEqual(4);
      const outer = new Set([h1.address, h2.address]);
      const inner = new Set([`${ov()}.1`, `${ov()}.2`]);
      for (const [dport, vni, src, dst, type] of rows) {
        expect(dport).toBe('4789');
        expect(vni).toBe('4242');
        // outer (underlay) and inner (container) addresses: tshark lists both layers
        const [os, is] = src!.split(',');
        const [od, id] = dst!.split(',');
        expect(outer.has(os!) && outer.has(od!) && inner.has(is!) && inner.has(id!)).toBe(true);
        expect(['0', '8']).toContain(type);
      }
    });
  });

  it('a second container on the same host costs 2 processes and reaches both', async () => {
    const before = a.runner.spawns;
    await a.addLocalEndpoint(NET, localEp('ep-3', `${ov()}.3`, '02:42:c6:13:00:03', c3.path));
    expect(a.runner.spawns - before).toBe(2);
    await b.addRemoteEndpoint(NET, remoteOf(localEp('ep-3', `${ov()}.3`, '02:42:c6:13:00:03', c3.path), a));
    expect(k.exec(c3.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`])).toMatch(/1 received/);
    expect(k.exec(c3.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.1`])).toMatch(/1 received/);
    // one flood entry per peer node, not per endpoint
    const floods = k
      .json<{ mac: string; dst?: string }[]>(b.namespaceOf(NET), ['fdb', 'show', 'dev', 'vxlan0'], 'bridge')
      .filter((e) => e.mac === '00:00:00:00:00:00');
    expect(floods).toHaveLength(1);
  });

  it('programmed() reads the kernel back in the shape of the desired state', async () => {
    const p = await a.programmed();
    expect(p.networks).toHaveLength(1);
    const n = p.networks[0]!;
    expect(n.spec.id).toBe(NET);
    expect(n.local.map((e) => e.id)).toEqual(['ep-1', 'ep-3']);
    expect(n.remote.map((e) => `${e.id} ${e.ip} ${e.mac} ${e.peer.address}`)).toEqual([`ep-2 ${ov()}.2 02:42:c6:13:00:02 ${h2.address}`]);
    expect(n.flood.map((f) => f.address)).toEqual([h2.address]);
  });

  it('attaching the same spec again changes nothing; the same id with another address replaces it', async () => {
    const before = a.runner.spawns;
    await a.addLocalEndpoint(NET, localEp('ep-3', `${ov()}.3`, '02:42:c6:13:00:03', c3.path));
    expect(a.runner.spawns).toBe(before);
    await a.addLocalEndpoint(NET, localEp('ep-3', `${ov()}.13`, '02:42:c6:13:00:03', c3.path));
    const addrs = k.json<Link[]>(c3.ns, ['-4', 'addr', 'show', 'dev', 'eth0'])[0]!.addr_info!.map((x) => x.local);
    expect(addrs).toEqual([`${ov()}.13`]);
    await b.addRemoteEndpoint(NET, remoteOf(localEp('ep-3', `${ov()}.13`, '02:42:c6:13:00:03', c3.path), a));
    const neigh = k.json<{ dst: string }[]>(b.namespaceOf(NET), ['neigh', 'show', 'dev', 'vxlan0']).map((x) => x.dst).sort();
    expect(neigh).toEqual([`${ov()}.1`, `${ov()}.13`].sort());
    expect(k.exec(c2.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.13`])).toMatch(/1 received/);
  });

  it('detach removes the veth pair (and the container interface); removing a remote removes its entries', async () => {
    const before = a.runner.spawns;
    await a.removeLocalEndpoint(NET, 'ep-3');
    expect(a.runner.spawns - before).toBe(2); // the network namespace's veth, then the container's egress port in the host namespace
    expect(k.tryExec(c3.ns, 'ip', ['link', 'show', 'eth0']).status).not.toBe(0);
    expect(k.json<Link[]>(a.namespaceOf(NET), ['link', 'show']).map((l) => l.ifname)).not.toContain(bridgePortName('ep-3'));
    await b.removeRemoteEndpoint(NET, 'ep-3');
    const fdbB = k.json<{ mac: string; flags: string[] }[]>(b.namespaceOf(NET), ['fdb', 'show', 'dev', 'vxlan0'], 'bridge').filter((e) => e.flags.includes('self'));
    expect(fdbB.map((e) => e.mac).sort()).toEqual(['00:00:00:00:00:00', '02:42:c6:13:00:01']);
    // removing ep-1 too drops the flood entry to host 1 (its last endpoint there)
    await b.removeRemoteEndpoint(NET, 'ep-1');
    const left = k.json<{ flags: string[] }[]>(b.namespaceOf(NET), ['fdb', 'show', 'dev', 'vxlan0'], 'bridge').filter((e) => e.flags.includes('self'));
    expect(left).toEqual([]);
    expect(k.json(b.namespaceOf(NET), ['neigh', 'show', 'dev', 'vxlan0'])).toEqual([]);
    expect(k.tryExec(c1.ns, 'ping', ['-c', '1', '-W', '1', `${ov()}.2`]).status).not.toBe(0);
    await b.addRemoteEndpoint(NET, remoteOf(localEp('ep-1', `${ov()}.1`, '02:42:c6:13:00:01', c1.path), a));
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`])).toMatch(/1 received/);
  });

  it('rejects what it does not do, with typed errors, changing nothing', async () => {
    await expect(a.addLocalEndpoint('nope', localEp('x', `${ov()}.9`, '02:42:c6:13:00:09', c3.path))).rejects.toBeInstanceOf(LinuxStateError);
    await expect(a.addLocalEndpoint(NET, { id: 'x', name: 'x', ip: `${ov()}.9`, prefixLength: 24, mac: '02:42:c6:13:00:09' })).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'sandbox' });
    await expect(a.ensureNetwork(network('other', 4242, ov()))).rejects.toBeInstanceOf(LinuxStateError);
    await expect(a.setServiceVip(NET, { vip: 'fd00::200', backends: [{ ip: `${ov()}.2`, state: 'up' }] })).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'vip' }); // IPv4 only
    await expect(a.setDnsAddress(NET, undefined)).resolves.toBeUndefined();
    // a sandbox that does not exist: refused before any process
    const spawns = a.runner.spawns;
    await expect(a.addLocalEndpoint(NET, localEp('x', `${ov()}.9`, '02:42:c6:13:00:09', '/var/run/netns/no-such-weft-sandbox'))).rejects.toBeInstanceOf(LinuxStateError);
    expect(a.runner.spawns).toBe(spawns);
    // a sandbox that already has an eth0: the kernel refuses, a command error, and nothing is left behind
    const err = await a.addLocalEndpoint(NET, localEp('x', `${ov()}.9`, '02:42:c6:13:00:09', c1.path)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataPlaneError);
    expect(isWeftError(err, 'ERR_LINUX_COMMAND')).toBe(true);
    expect(k.json<Link[]>(c1.ns, ['link', 'show']).filter((l) => l.ifname === 'eth0')).toHaveLength(1);
    expect(k.json<Link[]>(a.namespaceOf(NET), ['link', 'show']).map((l) => l.ifname)).not.toContain(bridgePortName('x'));
    expect((await a.programmed()).networks[0]!.local.map((e) => e.id)).toEqual(['ep-1']);
  });

  it('close() removes every namespace and device it created (the containers lose their interface)', async () => {
    const nsA = a.namespaceOf(NET);
    await a.close();
    await a.close();
    expect(a.ownedNamespaces()).toEqual([]);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(nsA);
    expect(k.tryExec(c1.ns, 'ip', ['link', 'show', 'eth0']).status).not.toBe(0);
    expect(k.exec(h1.ns, 'ss', ['-Huln'])).not.toMatch(/:4789\b/);
    await expect(a.addLocalEndpoint(NET, localEp('ep-1', `${ov()}.1`, '02:42:c6:13:00:01', c1.path))).rejects.toBeInstanceOf(LinuxStateError);
    await expect(a.removeNetwork(NET)).resolves.toBeUndefined();
    // b is untouched by a's close
    expect(b.ownedNamespaces()).toEqual([b.namespaceOf(NET)]);
    await b.close();
    expect(k.planeNamespaces()).toEqual([]);
  });
});

function underlayTxPackets(k: KernelLab, h: Host): number {
  const s = k.json<{ stats64?: { tx?: { packets?: number } } }[]>(h.ns, ['-s', 'link', 'show', 'dev', h.device]);
  return s[0]?.stats64?.tx?.packets ?? 0;
}
