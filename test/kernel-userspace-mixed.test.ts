/**
 * One network, two kinds of node: core's userspace plane (`@weft/vxlan` VTEP
 * and Endpoint in this process, on the root namespace's end of a veth) and
 * the kernel plane (a host namespace on the other end, a container attached).
 * Each is programmed with the other's endpoint through the same `DataPlane`
 * calls core makes; the kernel writes the userspace node's (non-4789) port
 * into its FDB and flood entries, and pings cross both ways. (A test of the
 * seam between packages: @weft/linux itself does not import core.)
 */
import { UserspaceDataPlane } from '@weft/core';
import type { DataPlane, LocalEndpointSpec, RemoteEndpointSpec } from '@weft/interface';
import { describeWith, netnsCapability } from '../test-support/capabilities';
import { NetnsLab } from '../test-support/netns';
import { KernelLab, network } from '../packages/linux/test/hosts';

function remoteFrom(ep: LocalEndpointSpec, plane: DataPlane, nodeId: string): RemoteEndpointSpec {
  const { address, vxlanPort, encryptedPort, epoch } = plane.info;
  return { id: ep.id, ip: ep.ip, mac: ep.mac, peer: { id: nodeId, address, vxlanPort, encryptedPort, epoch } };
}

describeWith(netnsCapability(), 'kernel plane and userspace plane on one network', () => {
  const k = new KernelLab('wm');
  let user: UserspaceDataPlane | undefined;
  afterAll(async () => {
    await user?.close();
    await k.cleanup();
  });

  it('a userspace endpoint and a kernel container ping each other', async () => {
    const lab: NetnsLab = k.lab;
    const s = lab.subnetIndex;
    const host = lab.addNamespace('h');
    const veth = lab.addVeth(host, `198.18.${s}.1/30`, `198.18.${s}.2/30`);
    const box = k.container('c');
    const kernel = await k.plane({ ns: host, path: `/var/run/netns/${host}`, address: `198.18.${s}.2`, device: veth.nsName }, 'kern');
    user = await UserspaceDataPlane.open({ nodeId: 'user-node', address: `198.18.${s}.1`, vxlanPort: 0, encryptedPort: 0 });
    expect(user.info.vxlanPort).not.toBe(4789);
    const spec = network('net-mixed', 1500 + s, `198.19.${s}`, 1400);
    await kernel.ensureNetwork(spec);
    await user.ensureNetwork(spec);
    const epKernel: LocalEndpointSpec = { id: 'ep-k', name: 'k', ip: `198.19.${s}.2`, prefixLength: 24, mac: '02:42:c6:18:00:02', sandbox: `/var/run/netns/${box.ns}` };
    const epUser: LocalEndpointSpec = { id: 'ep-u', name: 'u', ip: `198.19.${s}.1`, prefixLength: 24, mac: '02:42:c6:18:00:01' };
    await kernel.addLocalEndpoint('net-mixed', epKernel);
    const attached = await user.addLocalEndpoint('net-mixed', epUser);
    await kernel.addRemoteEndpoint('net-mixed', remoteFrom(epUser, user, 'user-node'));
    await user.addRemoteEndpoint('net-mixed', remoteFrom(epKernel, kernel, kernel.nodeId));

    const fdb = k.json<{ mac: string; dst?: string; port?: number; flags: string[] }[]>(kernel.namespaceOf('net-mixed'), ['fdb', 'show', 'dev', 'vxlan0'], 'bridge').filter((e) => e.flags.includes('self'));
    expect(fdb.map((e) => `${e.mac} ${e.dst} ${e.port}`).sort()).toEqual([`00:00:00:00:00:00 198.18.${s}.1 ${user.info.vxlanPort}`, `02:42:c6:18:00:01 198.18.${s}.1 ${user.info.vxlanPort}`]);
    expect(await kernel.reconcile()).toEqual({ changes: [], errors: [] });

    // kernel container → userspace endpoint (the kernel's ping; run without blocking this process, which answers it)
    expect(await lab.execAsync(box.ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', epUser.ip])).toMatch(/2 received/);
    // userspace endpoint → kernel container
    const rtt = await attached.handle!.ping(epKernel.ip, { timeoutMs: 3000 });
    expect(rtt).toBeGreaterThanOrEqual(0);
    await kernel.close();
  });
});
