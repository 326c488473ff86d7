import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelLab, type Host } from '../../../linux/test/hosts';
import { describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { until } from '../../../../test-support/wait';
import { FAST_TIMING, killAllWeft, weft, weftJson, WeftProcess, type PingSummary } from '../../../../test-support/weft-process';

const PORTS = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 13, mixed network (plain): host 1's node runs the userspace data plane
 * (its endpoint lives in the node process: Vtep + Endpoint), hosts 2 and 3 the
 * kernel plane (containers are namespaces). One network, every pair reaches
 * every other: the kernel containers ping the userspace endpoint's address
 * with the kernel's ping, and the userspace endpoint pings both containers
 * with `weft endpoint ping`; the containers ping each other too.
 */
describeWith(netnsCapability(), 'weft: a plain network mixing a userspace node and two kernel nodes', () => {
  let dir: string;
  let lab: KernelLab;
  let hosts: Host[];
  const procs: WeftProcess[] = [];
  const ds = (i: number): string => join(dir, `h${i}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-mixed-'));
    lab = new KernelLab('wm');
    ({ hosts } = lab.bridgedHosts(3));
    const host = (h: Host, plane: string): string[] => ['--advertise-addr', h.address, '--data-addr', h.address, '--data-plane', plane];
    // the userspace node: its VXLAN socket on 4789 in its host namespace (the kernel devices' dstport)
    procs.push(await WeftProcess.start(ds(0), ['init', '--node-id', lab.nodeId('u'), ...PORTS, ...FAST_TIMING, ...host(hosts[0]!, 'userspace')], { netns: hosts[0]!.ns }));
    const info = await weftJson<{ joinAddress: string }>(ds(0), ['info']);
    const token = (await weft(ds(0), ['join-token', 'worker', '--quiet'])).stdout.trim();
    for (const [i, name] of [[1, 'k1'], [2, 'k2']] as const) {
      procs.push(await WeftProcess.start(ds(i), ['join', token, info.joinAddress, '--node-id', lab.nodeId(name), ...PORTS, ...FAST_TIMING, ...host(hosts[i]!, 'kernel')], { netns: hosts[i]!.ns }));
    }
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) await p.stop(10_000);
    await killAllWeft();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('every pair of userspace endpoint and kernel containers reaches every other', async () => {
    await weftJson(ds(0), ['network', 'create', 'mixnet', '--subnet', '10.83.0.0/24']);
    const u = await weftJson<{ ip: string }>(ds(0), ['endpoint', 'attach', 'mixnet', 'u0']);
    const c1 = lab.container('c1');
    const c2 = lab.container('c2');
    const e1 = await weftJson<{ ip: string }>(ds(1), ['endpoint', 'attach', 'mixnet', 'k1', '--netns', c1.path]);
    const e2 = await weftJson<{ ip: string }>(ds(2), ['endpoint', 'attach', 'mixnet', 'k2', '--netns', c2.path]);

    // kernel containers → the userspace endpoint, and to each other
    for (const [c, target, what] of [
      [c1, u.ip, 'k1 → u0'],
      [c2, u.ip, 'k2 → u0'],
      [c1, e2.ip, 'k1 → k2'],
      [c2, e1.ip, 'k2 → k1'],
    ] as const) {
      await until(() => lab.tryExec(c.ns, 'ping', ['-c', '1', '-W', '1', target]).status === 0, what, 30_000);
      expect(lab.tryExec(c.ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', target]).status).toBe(0);
    }
    // the userspace endpoint → both kernel containers (by address and by name)
    for (const target of [e1.ip, e2.ip, 'k1', 'k2']) {
      let r: PingSummary | undefined;
      for (let k = 0; k < 20 && (r === undefined || r.received === 0); k++) {
        r = await weftJson<PingSummary>(ds(0), ['endpoint', 'ping', 'u0', target, '-c', '3', '-i', '100ms']);
        if (r.received === 0) await sleep(500);
      }
      expect(r!.received).toBeGreaterThan(0);
      expect(r!.sent).toBe(3);
    }
  }, 180_000);
});
