/**
 * Namespaces given as /proc/<pid>/ns/net (a container known only by a
 * process in it, a host namespace that has no name): the host side and the
 * sandbox both work through those paths, and the VXLAN device's socket is
 * still in the host namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { describeWith, netnsCapability } from '../../../test-support/capabilities';
import { until } from '../../../test-support/wait';
import { KernelLab, localEp, network, remoteOf } from './hosts';

describeWith(netnsCapability(), 'KernelDataPlane with /proc/<pid>/ns/net paths', () => {
  const k = new KernelLab('wp');
  afterAll(() => k.cleanup());

  async function holder(ns: string): Promise<ChildProcess> {
    // `ip netns exec` execs the command in place: the pid is sleep's, inside `ns`
    const child = k.lab.spawn(ns, 'sleep', ['60']);
    await until(() => child.pid !== undefined, 'the holder process', 5_000);
    return child;
  }

  it('attaches a container named by a process in it, with the host side named by a process too', async () => {
    const [h1, h2] = k.hosts(1500);
    const c1 = k.container('c1');
    const c2 = k.container('c2');
    const host1 = await holder(h1.ns);
    const box1 = await holder(c1.ns);
    const ov = `198.19.${k.lab.subnetIndex}`;
    const a = await k.plane({ ...h1, path: `/proc/${host1.pid}/ns/net` }, 'pa', { hostNetns: `/proc/${host1.pid}/ns/net` });
    const b = await k.plane(h2, 'pb');
    expect(a.underlayDevice).toBe(h1.device);
    const e1 = localEp('e1', `${ov}.1`, '02:42:c6:16:00:01', `/proc/${box1.pid}/ns/net`);
    const e2 = localEp('e2', `${ov}.2`, '02:42:c6:16:00:02', c2.path);
    for (const p of [a, b]) await p.ensureNetwork(network('net-proc', 3000 + k.lab.subnetIndex, ov));
    await a.addLocalEndpoint('net-proc', e1);
    await b.addLocalEndpoint('net-proc', e2);
    await a.addRemoteEndpoint('net-proc', remoteOf(e2, b));
    await b.addRemoteEndpoint('net-proc', remoteOf(e1, a));
    expect(k.exec(c1.ns, 'ip', ['-br', 'link', 'show', 'eth0'])).toMatch(/02:42:c6:16:00:01/);
    expect(k.exec(h1.ns, 'ss', ['-Huln'])).toMatch(/:4789\b/);
    expect(k.exec(c1.ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', `${ov}.2`])).toMatch(/2 received/);
    expect(await a.reconcile()).toEqual({ changes: [], errors: [] });
    await a.close();
    await b.close();
    expect(k.planeNamespaces()).toEqual([]);
  });
});
