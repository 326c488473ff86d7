/**
 * reconcile(): the kernel is compared with the desired state and repaired —
 * leftovers of a crashed run removed, missing devices and entries added —
 * and a second reconcile with nothing changed changes nothing. A plane only
 * ever touches namespaces named with its own prefix: another node's on the
 * same machine survive (even one whose prefix starts with this one's).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { bridgePortName, type ReconcileChange } from '@weft/linux';
import { describeWith, netnsCapability } from '../../../test-support/capabilities';
import { KernelLab, localEp, network, remoteOf, type Host } from './hosts';

const summary = (changes: readonly ReconcileChange[]): string[] => changes.map((c) => `${c.action} ${c.kind} ${c.target}`).sort();

describeWith(netnsCapability(), 'KernelDataPlane.reconcile', () => {
  const k = new KernelLab('wc');
  let h1: Host;
  let h2: Host;
  const ov = () => `198.19.${k.lab.subnetIndex}`;
  const NET = 'net-green';
  afterAll(() => k.cleanup());
  beforeAll(() => {
    [h1, h2] = k.hosts(1500);
  });

  it('repairs tampered state, removes leftovers of its own prefix only, and is then a no-op', async () => {
    const c1 = k.container('c1');
    const c2 = k.container('c2');
    const a = await k.plane(h1, 'a');
    const b = await k.plane(h2, 'b');
    const ep1 = localEp('ep-1', `${ov()}.1`, '02:42:c6:14:00:01', c1.path);
    const ep2 = localEp('ep-2', `${ov()}.2`, '02:42:c6:14:00:02', c2.path);
    const ep9 = localEp('ep-9', `${ov()}.9`, '02:42:c6:14:00:09', c2.path);
    for (const p of [a, b]) await p.ensureNetwork(network(NET, 900 + k.lab.subnetIndex, ov()));
    await a.addLocalEndpoint(NET, ep1);
    await b.addLocalEndpoint(NET, ep2);
    await a.addRemoteEndpoint(NET, remoteOf(ep2, b));
    await a.addRemoteEndpoint(NET, remoteOf(ep9, b));
    await b.addRemoteEndpoint(NET, remoteOf(ep1, a));
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`])).toMatch(/1 received/);

    // nothing changed: nothing to do, and only reads (3 per namespace)
    let before = a.runner.spawns;
    let r = await a.reconcile();
    expect(r).toEqual({ changes: [], errors: [] });
    expect(a.runner.spawns - before).toBe(6); // 3 reads per namespace + 1 of the nft guard table + 2 of egress (host links; forwarding and ruleset)

    // tamper with the kernel behind the plane's back
    const ns = a.namespaceOf(NET);
    const leftover = `${a.namePrefix}-0123456789ab`; // a crashed run's network namespace
    execFileSync('ip', ['netns', 'add', leftover]);
    execFileSync('ip', ['-n', leftover, 'link', 'add', 'br0', 'type', 'bridge']);
    k.exec(ns, 'ip', ['neigh', 'del', `${ov()}.2`, 'dev', 'vxlan0']);
    k.exec(ns, 'bridge', ['fdb', 'del', '02:42:c6:14:00:09', 'dev', 'vxlan0', 'self']);
    k.exec(ns, 'bridge', ['fdb', 'append', '02:42:c6:14:00:77', 'dev', 'vxlan0', 'dst', '198.18.250.77', 'self', 'permanent']);
    k.exec(ns, 'ip', ['neigh', 'replace', `${ov()}.77`, 'lladdr', '02:42:c6:14:00:77', 'dev', 'vxlan0', 'nud', 'permanent']);
    k.exec(ns, 'bridge', ['fdb', 'replace', '02:42:c6:14:00:02', 'dev', 'vxlan0', 'dst', '198.18.250.66', 'self', 'permanent']);
    k.exec(ns, 'ip', ['link', 'del', bridgePortName('ep-1')]); // the container lost its interface
    expect(k.tryExec(c1.ns, 'ip', ['link', 'show', 'eth0']).status).not.toBe(0);

    r = await a.reconcile();
    expect(r.errors).toEqual([]);
    expect(summary(r.changes)).toEqual(
      [
        `remove namespace ${leftover}`,
        'add endpoint ep-1',
        `add neighbour ${ov()}.2`,
        `remove neighbour ${ov()}.77`,
        'add fdb 02:42:c6:14:00:09',
        'remove fdb 02:42:c6:14:00:77',
        'update fdb 02:42:c6:14:00:02',
      ].sort(),
    );
    expect(existsSync(`/var/run/netns/${leftover}`)).toBe(false);
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`])).toMatch(/1 received/);

    before = a.runner.spawns;
    r = await a.reconcile();
    expect(r).toEqual({ changes: [], errors: [] });
    expect(a.runner.spawns - before).toBe(6); // 3 reads per namespace + 1 of the nft guard table + 2 of egress (host links; forwarding and ruleset)

    // the VXLAN device itself gone: recreated, with every entry
    k.exec(ns, 'ip', ['link', 'del', 'vxlan0']);
    r = await a.reconcile();
    expect(summary(r.changes)).toEqual(
      [
        'add vxlan vxlan0',
        `add neighbour ${ov()}.2`,
        `add neighbour ${ov()}.9`,
        'add fdb 02:42:c6:14:00:02',
        'add fdb 02:42:c6:14:00:09',
        `add flood ${h2.address}`,
      ].sort(),
    );
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`])).toMatch(/1 received/);
    expect((await a.reconcile()).changes).toEqual([]);

    // the whole namespace gone (e.g. removed by hand): created again with the container re-attached
    execFileSync('ip', ['netns', 'del', ns]);
    await waitGone(c1.ns);
    r = await a.reconcile();
    expect(r.errors).toEqual([]);
    expect(summary(r.changes)).toContain(`add namespace ${ns}`);
    expect(summary(r.changes)).toContain('add endpoint ep-1');
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.2`])).toMatch(/1 received/);
    expect((await a.reconcile()).changes).toEqual([]);
    await a.close();
    await b.close();
    expect(k.planeNamespaces()).toEqual([]);
  });

  it('an endpoint whose container is gone is reported, and does not stop the rest of the repair', async () => {
    const c1 = k.container('d1');
    const dead = k.container('d2');
    const a = await k.plane(h1, 'da');
    const spec = network('net-dead', 800 + k.lab.subnetIndex, ov());
    await a.ensureNetwork(spec);
    await a.addLocalEndpoint('net-dead', localEp('live', `${ov()}.51`, '02:42:c6:14:03:01', c1.path));
    await a.addLocalEndpoint('net-dead', localEp('dead', `${ov()}.52`, '02:42:c6:14:03:02', dead.path));
    await a.addRemoteEndpoint('net-dead', { id: 'r', ip: `${ov()}.53`, mac: '02:42:c6:14:03:03', peer: { id: 'p', address: h2.address, vxlanPort: 4789, encryptedPort: 4790, epoch: '0000000000000000' } });
    execFileSync('ip', ['netns', 'del', dead.ns]); // the container dies; its veth pair goes with its namespace
    await waitPortGone(k, a.namespaceOf('net-dead'), bridgePortName('dead'));
    k.exec(a.namespaceOf('net-dead'), 'ip', ['neigh', 'del', `${ov()}.53`, 'dev', 'vxlan0']);
    const r = await a.reconcile();
    expect(summary(r.changes)).toEqual([`add neighbour ${ov()}.53`]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.error.message).toMatch(/endpoint dead .* does not exist/);
    await a.removeLocalEndpoint('net-dead', 'dead');
    expect(await a.reconcile()).toEqual({ changes: [], errors: [] });
    await a.close();
  });

  it('a half-made leftover (the namespace file of a creation that failed before its mount) is removed too', async () => {
    const a = await k.plane(h1, 'hm');
    const name = `${a.namePrefix}-00000000beef`;
    writeFileSync(`/var/run/netns/${name}`, '');
    expect(a.ownedNamespaces()).toEqual([name]);
    const r = await a.reconcile();
    expect(r).toEqual({ changes: [{ action: 'remove', kind: 'namespace', namespace: name, target: name }], errors: [] });
    expect(existsSync(`/var/run/netns/${name}`)).toBe(false);
    await a.close();
  });

  it('a restarted plane adopts what the kernel kept: traffic goes on, and reconcile then reports nothing', async () => {
    const c1 = k.container('r1');
    const c2 = k.container('r2');
    const a1 = await k.plane(h1, 'ra');
    const b = await k.plane(h2, 'rb');
    const ep1 = localEp('ep-1', `${ov()}.31`, '02:42:c6:14:01:01', c1.path);
    const ep2 = localEp('ep-2', `${ov()}.32`, '02:42:c6:14:01:02', c2.path);
    const spec = network('net-restart', 700 + k.lab.subnetIndex, ov());
    await a1.ensureNetwork(spec);
    await b.ensureNetwork(spec);
    await a1.addLocalEndpoint('net-restart', ep1);
    await b.addLocalEndpoint('net-restart', ep2);
    await a1.addRemoteEndpoint('net-restart', remoteOf(ep2, b));
    await b.addRemoteEndpoint('net-restart', remoteOf(ep1, a1));
    // "crash": the object is dropped without close(); the kernel keeps everything
    k.planes.splice(k.planes.indexOf(a1), 1);
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.32`])).toMatch(/1 received/);

    const a2 = await k.plane(h1, 'ra');
    await a2.ensureNetwork(spec);
    await a2.addLocalEndpoint('net-restart', ep1);
    await a2.addRemoteEndpoint('net-restart', remoteOf(ep2, b));
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', `${ov()}.32`])).toMatch(/1 received/);
    expect(await a2.reconcile()).toEqual({ changes: [], errors: [] });
    await a2.close();
    await b.close();
  });

  it('release() stops the process-held parts and leaves the kernel: traffic goes on, close() then removes nothing, a new plane adopts it with no change', async () => {
    const c1 = k.container('l1');
    const c2 = k.container('l2');
    const a1 = await k.plane(h1, 'la');
    const b = await k.plane(h2, 'lb');
    const ep1 = localEp('ep-1', `${ov()}.51`, '02:42:c6:14:03:01', c1.path);
    const ep2 = localEp('ep-2', `${ov()}.52`, '02:42:c6:14:03:02', c2.path);
    const spec = network('net-release', 900 + k.lab.subnetIndex, ov());
    await a1.ensureNetwork(spec);
    await b.ensureNetwork(spec);
    await a1.addLocalEndpoint('net-release', ep1);
    await b.addLocalEndpoint('net-release', ep2);
    await a1.addRemoteEndpoint('net-release', remoteOf(ep2, b));
    await b.addRemoteEndpoint('net-release', remoteOf(ep1, a1));
    const ifindex = (ns: string): number => k.json<{ ifindex: number }[]>(ns, ['link', 'show', 'dev', 'eth0'])[0]!.ifindex;
    const before = ifindex(c1.ns);
    const owned = a1.ownedNamespaces();
    expect(owned).toEqual([a1.namespaceOf('net-release')]);

    await a1.release();
    await a1.release(); // idempotent
    await a1.close(); // a no-op once released
    expect(a1.ownedNamespaces()).toEqual(owned);
    expect(ifindex(c1.ns)).toBe(before);
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', ep2.ip])).toMatch(/1 received/);
    await expect(a1.addLocalEndpoint('net-release', ep1)).rejects.toThrow(/closed/);

    const a2 = await k.plane(h1, 'la');
    await a2.ensureNetwork(spec);
    await a2.addLocalEndpoint('net-release', ep1);
    await a2.addRemoteEndpoint('net-release', remoteOf(ep2, b));
    expect(ifindex(c1.ns)).toBe(before);
    expect(await a2.reconcile()).toEqual({ changes: [], errors: [] });
    expect(k.exec(c2.ns, 'ping', ['-c', '1', '-W', '2', ep1.ip])).toMatch(/1 received/);
    await a2.close();
    await b.close();
  });

  it('a restarted plane adopts call by call: the first endpoint programmed takes nothing down, the leftovers go with reconcile()', async () => {
    const c1 = k.container('q1');
    const c2 = k.container('q2');
    const c3 = k.container('q3');
    const c4 = k.container('q4');
    const a1 = await k.plane(h1, 'qa');
    const b = await k.plane(h2, 'qb');
    const ep1 = localEp('ep-1', `${ov()}.41`, '02:42:c6:14:02:01', c1.path);
    const ep2 = localEp('ep-2', `${ov()}.42`, '02:42:c6:14:02:02', c2.path);
    const ep3 = localEp('ep-3', `${ov()}.43`, '02:42:c6:14:02:03', c3.path);
    const ep4 = localEp('ep-4', `${ov()}.44`, '02:42:c6:14:02:04', c4.path);
    const spec = network('net-adopt', 800 + k.lab.subnetIndex, ov());
    await a1.ensureNetwork(spec);
    await b.ensureNetwork(spec);
    for (const ep of [ep1, ep3, ep4]) await a1.addLocalEndpoint('net-adopt', ep);
    await b.addLocalEndpoint('net-adopt', ep2);
    await a1.addRemoteEndpoint('net-adopt', remoteOf(ep2, b));
    for (const ep of [ep1, ep3, ep4]) await b.addRemoteEndpoint('net-adopt', remoteOf(ep, a1));
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', ep2.ip])).toMatch(/1 received/);
    const ifindex = (ns: string): number => k.json<{ ifindex: number }[]>(ns, ['link', 'show', 'dev', 'eth0'])[0]!.ifindex;
    const before = ifindex(c1.ns);
    // "crash"; while it is down, ep-4 is detached (the store no longer has it)
    k.planes.splice(k.planes.indexOf(a1), 1);

    const a2 = await k.plane(h1, 'qa');
    await a2.ensureNetwork(spec);
    // ep-3 happens to be programmed first: the namespace is adopted, not trimmed to ep-3
    await a2.addLocalEndpoint('net-adopt', ep3);
    expect(ifindex(c1.ns)).toBe(before);
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', ep2.ip])).toMatch(/1 received/); // ep-2's entries are not programmed yet: kept
    expect(k.exec(c3.ns, 'ping', ['-c', '1', '-W', '2', ep2.ip])).toMatch(/1 received/);
    await a2.addLocalEndpoint('net-adopt', ep1);
    await a2.addRemoteEndpoint('net-adopt', remoteOf(ep2, b));
    expect(ifindex(c1.ns)).toBe(before);
    // the desired state is whole: reconcile removes the leftover (its interface and its container's egress pair) and nothing else
    const r = await a2.reconcile();
    expect(r.errors).toEqual([]);
    expect(summary(r.changes)).toEqual([expect.stringMatching(/^remove egress /), 'remove endpoint ep-4']);
    for (const dev of ['eth0', 'eth1']) expect(k.lab.tryExec(c4.ns, 'ip', ['link', 'show', 'dev', dev]).status).not.toBe(0);
    expect(k.exec(c1.ns, 'ip', ['link', 'show', 'dev', 'eth1'])).toContain('eth1');
    expect(k.exec(c1.ns, 'ping', ['-c', '1', '-W', '2', ep2.ip])).toMatch(/1 received/);
    expect(await a2.reconcile()).toEqual({ changes: [], errors: [] });
    await a2.close();
    await b.close();
  });

  it("node A's reconcile never touches node B's namespaces on the same machine", async () => {
    const ca = k.container('ia');
    const cb = k.container('ib');
    // B's node id starts with A's: 'n' and 'n-1' → prefixes weft-<tag>n and weft-<tag>n-1
    const a = await k.plane(h1, 'n');
    const bNode = await k.plane(h1, 'n-1', { vxlanPort: 4790, encryptedPort: 4791 });
    expect(bNode.namePrefix.startsWith(a.namePrefix)).toBe(true);
    await a.ensureNetwork(network('net-a', 600 + k.lab.subnetIndex, ov()));
    await bNode.ensureNetwork(network('net-b', 600 + k.lab.subnetIndex, ov()));
    await a.addLocalEndpoint('net-a', localEp('ea', `${ov()}.41`, '02:42:c6:14:02:01', ca.path));
    await bNode.addLocalEndpoint('net-b', localEp('eb', `${ov()}.42`, '02:42:c6:14:02:02', cb.path));
    const nsB = bNode.namespaceOf('net-b');
    expect(a.ownedNamespaces()).toEqual([a.namespaceOf('net-a')]);

    // A restarts with no desired state at all: its reconcile removes its own namespace, not B's
    const egressA = (await a.egressState())!;
    const a2 = await k.plane(h1, 'n');
    const r = await a2.reconcile();
    expect(summary(r.changes)).toEqual(
      [`remove namespace ${a.namespaceOf('net-a')}`, `remove gateway ${egressA.bridge!.name}`, `remove egress ${egressA.ports[0]!.name}`, `remove masquerade ${a.namePrefix}-egress`].sort(),
    );
    expect((await bNode.egressState())!.bridge).toBeDefined();
    expect(existsSync(`/var/run/netns/${nsB}`)).toBe(true);
    expect(k.exec(cb.ns, 'ip', ['-br', 'link', 'show', 'eth0'])).toMatch(/eth0/);
    expect(await bNode.reconcile()).toEqual({ changes: [], errors: [] });
    await a2.close();
    expect(existsSync(`/var/run/netns/${nsB}`)).toBe(true);
    await bNode.close();
    expect(existsSync(`/var/run/netns/${nsB}`)).toBe(false);
  });
});

async function waitGone(ns: string): Promise<void> {
  // the kernel destroys a deleted namespace's devices asynchronously; the container's veth end goes with them
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      execFileSync('ip', ['-n', ns, 'link', 'show', 'eth0'], { stdio: 'ignore' });
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the container interface did not go with its network namespace');
}

async function waitPortGone(k: KernelLab, ns: string, port: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (k.tryExec(ns, 'ip', ['link', 'show', port]).status !== 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${port} did not go with its peer's namespace`);
}
