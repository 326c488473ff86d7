import { readdirSync } from 'node:fs';
import { describeWith, netnsCapability } from '../test-support/capabilities';
import { main } from './linux-two-hosts';

const ours = (): string[] => {
  try {
    return readdirSync('/var/run/netns').filter((n) => n.startsWith(`wl${process.pid.toString(36)}`) || n.startsWith(`weft-wl${process.pid.toString(36)}-`));
  } catch {
    return [];
  }
};

describeWith(netnsCapability(), 'examples/linux-two-hosts.ts', () => {
  it('pings and echoes UDP container to container over kernel VXLAN, shows the entries it wrote, reconciles to nothing, leaves nothing', async () => {
    const report = await main();
    expect(report.namespaces).toHaveLength(2);
    for (const ns of report.namespaces) expect(ns).toMatch(/^weft-wl[0-9a-z]+-[12]-[0-9a-f]{12}$/);
    expect(report.mtu).toBe(1450);
    expect(report.pingReplies).toBe(3);
    expect(report.udpReply).toBe('echo: hello from container 1');
    // host 1's network namespace: a flood entry and container 2's MAC, both to host 2; container 2's address answered by the ARP proxy
    expect(report.fdb.map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining(['00:00:00:00:00:00', '02:42:c6:13:fc:02']));
    for (const l of report.fdb) expect(l).toContain('dst 198.18.252.2');
    expect(report.neighbours).toEqual([expect.stringMatching(/^198\.19\.252\.2 lladdr 02:42:c6:13:fc:02 PERMANENT/)]);
    expect(report.reconcileChanges).toEqual([0, 0]);
    expect(report.lines.join('\n')).toMatch(/ping +c1 → c2 \(198\.19\.252\.2\): 3 of 3 replies/);
    expect(ours()).toEqual([]); // the hosts, the containers and the planes' namespaces are gone
  }, 120_000);
});
