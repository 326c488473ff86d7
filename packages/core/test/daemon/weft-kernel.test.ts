import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelLab } from '../../../linux/test/hosts';
import { allOf, commandCapability, describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { until } from '../../../../test-support/wait';
import { FAST_TIMING, killAllWeft, weft, weftJson, WeftProcess } from '../../../../test-support/weft-process';

const PORTS = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];

/**
 * Issue 13's shape: one `weft` node process per host network namespace,
 * each with the kernel data plane (`--data-plane kernel`), joined over the
 * hosts' veth underlay with mutual TLS; containers (network namespaces)
 * attached with `weft endpoint attach --netns`, reaching each other across
 * hosts through the kernel's VXLAN devices.
 */
describeWith(allOf(netnsCapability(), commandCapability('dig', ['-v'])), 'weft: kernel data plane, one node process per host namespace', () => {
  let dir: string;
  let lab: KernelLab;
  const procs: WeftProcess[] = [];
  const resolvDirs: string[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-kern-'));
    lab = new KernelLab('wk');
  });
  afterAll(async () => {
    // Graceful stops remove the planes' namespaces; whatever a failure left, cleanup removes.
    for (const p of procs) await p.stop(10_000);
    await killAllWeft();
    await lab.cleanup();
    for (const d of resolvDirs) rmSync(d, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('containers on two hosts ping each other by address through kernel VXLAN programmed by two node processes', async () => {
    const [a, b] = lab.hosts();
    const idA = lab.nodeId('a');
    const idB = lab.nodeId('b');
    const host = (h: { address: string }): string[] => ['--advertise-addr', h.address, '--data-addr', h.address, '--data-plane', 'kernel'];
    procs.push(await WeftProcess.start(join(dir, 'a'), ['init', '--node-id', idA, ...PORTS, ...FAST_TIMING, ...host(a)], { netns: a.ns }));
    const info = await weftJson<{ joinAddress: string }>(join(dir, 'a'), ['info']);
    expect(info.joinAddress.startsWith(`${a.address}:`)).toBe(true);
    const token = (await weft(join(dir, 'a'), ['join-token', 'worker', '--quiet'])).stdout.trim();
    procs.push(await WeftProcess.start(join(dir, 'b'), ['join', token, info.joinAddress, '--node-id', idB, ...PORTS, ...FAST_TIMING, ...host(b)], { netns: b.ns }));

    await weftJson(join(dir, 'a'), ['network', 'create', 'knet', '--subnet', '10.77.0.0/24']);
    const ca = lab.container('ca');
    const cb = lab.container('cb');
    // c1 asks for a resolv.conf (what `ip netns exec` mounts over /etc/resolv.conf) naming the network's DNS server.
    resolvDirs.push(`/etc/netns/${ca.ns}`);
    const resolv = `/etc/netns/${ca.ns}/resolv.conf`;
    const epA = await weftJson<{ ip: string }>(join(dir, 'a'), ['endpoint', 'attach', 'knet', 'c1', '--netns', ca.path, '--resolv-conf', resolv]);
    const epB = await weftJson<{ ip: string }>(join(dir, 'b'), ['endpoint', 'attach', 'knet', 'c2', '--netns', cb.path]);
    expect(epA.ip).toMatch(/^10\.77\.0\./);

    // The containers got eth0 with their addresses; across hosts through the kernel's VXLAN.
    expect(lab.exec(ca.ns, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0'])).toContain(epA.ip);
    await until(() => lab.tryExec(ca.ns, 'ping', ['-c', '1', '-W', '1', epB.ip]).status === 0, 'c1 reaches c2 across hosts', 20_000);
    expect(lab.tryExec(cb.ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', epA.ip]).status).toBe(0);
    // The name c2 resolves inside c1 through the embedded DNS server at the network's DNS address.
    const net = (await weftJson<{ name: string; dnsAddress: string | null }[]>(join(dir, 'a'), ['network', 'ls'])).find((n) => n.name === 'knet')!;
    expect(net.dnsAddress).toMatch(/^10\.77\.0\./);
    expect(readFileSync(resolv, 'utf8')).toMatch(new RegExp(`^nameserver ${net.dnsAddress!.replace(/\./g, '\\.')}$`, 'm'));
    let answer = '';
    await until(() => (answer = lab.tryExec(ca.ns, 'dig', ['+short', '+tries=1', '+time=2', 'c2']).stdout.trim()) === epB.ip, 'c2 resolved in c1', 20_000);
    expect(answer).toBe(epB.ip);
    // The node lists show both nodes ready; B's peers include A on the network.
    const rows = await weftJson<{ id: string; status: string }[]>(join(dir, 'a'), ['node', 'ls']);
    expect(rows.map((r) => `${r.id}:${r.status}`).sort()).toEqual([`${idA}:ready`, `${idB}:ready`]);

    // Detach: the container's interface goes, and the other host stops reaching it.
    expect((await weft(join(dir, 'a'), ['endpoint', 'rm', 'c1'])).code).toBe(0);
    await until(() => lab.tryExec(ca.ns, 'ip', ['link', 'show', 'eth0']).status !== 0, 'eth0 removed from c1', 10_000);
    expect(lab.tryExec(cb.ns, 'ping', ['-c', '1', '-W', '1', epA.ip]).status).not.toBe(0);
  }, 180_000);
});
