import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { KernelLab, type Host } from '../../../linux/test/hosts';
import { allOf, commandCapability, describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { until } from '../../../../test-support/wait';
import { FAST_TIMING, killAllWeft, weft, weftJson, WeftProcess } from '../../../../test-support/weft-process';

const PORTS = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Output of a lab child process, collected; `exited` resolves with its exit code. */
function collect(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { out: () => out, err: () => err, exited };
}

/**
 * Issue 13, "What must be shown", first item: three hosts (namespaces on one
 * underlay bridge), a `weft` node process per host with the kernel data plane,
 * joined over that bridge; containers (namespaces) on different hosts reach
 * each other with the kernel's ping, UDP and TCP (iperf3) over kernel VXLAN;
 * two networks are isolated; tshark on the underlay sees the VNI and the
 * containers' inner addresses.
 */
describeWith(allOf(netnsCapability(), commandCapability('iperf3', ['--version']), commandCapability('tshark', ['-v'])), 'weft: three kernel hosts, one node process each', () => {
  let dir: string;
  let lab: KernelLab;
  let hosts: Host[];
  let switchNs: string;
  const procs: WeftProcess[] = [];
  const ds = (i: number): string => join(dir, `h${i}`);
  // iperf3's stdout is block-buffered into a pipe: look for its listening socket instead
  const listening = (ns: string, port: number): boolean => lab.tryExec(ns, 'ss', ['-Hltn', `sport = :${port}`]).stdout.trim() !== '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-kern3-'));
    lab = new KernelLab('w3');
    ({ hosts, switchNs } = lab.bridgedHosts(3));
    const host = (h: Host): string[] => ['--advertise-addr', h.address, '--data-addr', h.address, '--data-plane', 'kernel'];
    procs.push(await WeftProcess.start(ds(0), ['init', '--node-id', lab.nodeId('a'), ...PORTS, ...FAST_TIMING, ...host(hosts[0]!)], { netns: hosts[0]!.ns }));
    const info = await weftJson<{ joinAddress: string }>(ds(0), ['info']);
    const token = (await weft(ds(0), ['join-token', 'worker', '--quiet'])).stdout.trim();
    for (const [i, name] of [[1, 'b'], [2, 'c']] as const) {
      procs.push(await WeftProcess.start(ds(i), ['join', token, info.joinAddress, '--node-id', lab.nodeId(name), ...PORTS, ...FAST_TIMING, ...host(hosts[i]!)], { netns: hosts[i]!.ns }));
    }
  }, 180_000);

  afterAll(async () => {
    // graceful stops remove the planes' namespaces; whatever a failure left, cleanup removes
    for (const p of procs) await p.stop(10_000);
    await killAllWeft();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('ping, UDP and iperf3 TCP across hosts; isolation between networks; VNI and inner frames on the underlay', async () => {
    const x = await weftJson<{ id: string; vni: number }>(ds(0), ['network', 'create', 'xnet', '--subnet', '10.81.0.0/24']);
    const y = await weftJson<{ id: string; vni: number }>(ds(0), ['network', 'create', 'ynet', '--subnet', '10.82.0.0/24']);
    expect(x.vni).not.toBe(y.vni);
    // X: a container on each host; Y: one on host 3
    const cx = [0, 1, 2].map((i) => lab.container(`x${i}`));
    const cy = lab.container('y2');
    const ipsX: string[] = [];
    for (const i of [0, 1, 2]) ipsX.push((await weftJson<{ ip: string }>(ds(i), ['endpoint', 'attach', 'xnet', `x${i}`, '--netns', cx[i]!.path])).ip);
    const ipY = (await weftJson<{ ip: string }>(ds(2), ['endpoint', 'attach', 'ynet', 'y2', '--netns', cy.path])).ip;

    // kernel ping, every container of X to every other (across all three hosts)
    for (const i of [0, 1, 2]) {
      for (const j of [0, 1, 2]) {
        if (i === j) continue;
        await until(() => lab.tryExec(cx[i]!.ns, 'ping', ['-c', '1', '-W', '1', ipsX[j]!]).status === 0, `x${i} pings x${j}`, 30_000);
      }
    }

    // UDP: an iperf3 UDP stream from host 1's container to host 2's
    const udpSrv = lab.lab.spawn(cx[1]!.ns, 'iperf3', ['-s', '-1', '-p', '5201'], {}, 60_000);
    const udpSrvOut = collect(udpSrv);
    await until(() => listening(cx[1]!.ns, 5201), 'iperf3 UDP server up', 15_000);
    const udp = JSON.parse(await lab.lab.execAsync(cx[0]!.ns, 'iperf3', ['-c', ipsX[1]!, '-u', '-b', '20M', '-l', '1200', '-t', '2', '-p', '5201', '-J', '--connect-timeout', '5000'], 30_000)) as {
      end: { sum: { packets: number; lost_packets: number; bytes: number } };
    };
    await udpSrvOut.exited;
    expect(udp.end.sum.packets).toBeGreaterThan(100);
    // UDP over the overlay arrived (losses bounded: a loaded 2-core machine may drop some)
    expect(udp.end.sum.lost_packets).toBeLessThan(udp.end.sum.packets / 2);

    // TCP with iperf3, host 3's container to host 1's
    const tcpSrv = lab.lab.spawn(cx[0]!.ns, 'iperf3', ['-s', '-1', '-p', '5202'], {}, 60_000);
    const tcpSrvOut = collect(tcpSrv);
    await until(() => listening(cx[0]!.ns, 5202), 'iperf3 TCP server up', 15_000);
    const tcp = JSON.parse(await lab.lab.execAsync(cx[2]!.ns, 'iperf3', ['-c', ipsX[0]!, '-t', '2', '-p', '5202', '-J', '--connect-timeout', '5000'], 30_000)) as {
      end: { sum_received: { bytes: number; bits_per_second: number } };
    };
    await tcpSrvOut.exited;
    expect(tcp.end.sum_received.bytes).toBeGreaterThan(1_000_000);
    process.stdout.write(`three hosts: iperf3 TCP ${(tcp.end.sum_received.bits_per_second / 1e6).toFixed(0)} Mbit/s; UDP ${udp.end.sum.packets} packets, ${udp.end.sum.lost_packets} lost\n`);

    // isolation: Y's container reaches nothing of X, X's nothing of Y (same host 3 too)
    for (const ip of ipsX) expect(lab.tryExec(cy.ns, 'ping', ['-c', '1', '-W', '1', ip]).status).not.toBe(0);
    for (const i of [0, 1, 2]) expect(lab.tryExec(cx[i]!.ns, 'ping', ['-c', '1', '-W', '1', ipY]).status).not.toBe(0);
    // Y's container has its own network: no route into X's subnet, and its eth0 holds only Y's address
    expect(lab.exec(cy.ns, 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0'])).toContain(ipY);

    // tshark on the underlay bridge (every host's port): X's VNI, underlay outer and container inner addresses
    const tshark = lab.lab.spawn(switchNs, 'tshark', ['-l', '-n', '-i', 'br0', '-f', 'udp port 4789', '-d', 'udp.port==4789,vxlan', '-Y', 'icmp', '-a', 'duration:40', '-T', 'fields', '-e', 'vxlan.vni', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type'], {}, 60_000);
    const cap = collect(tshark);
    await until(() => /Capturing on/.test(cap.err()), 'tshark to start', 20_000);
    const rows = (): string[][] => cap.out().split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
    for (let k = 0; k < 40 && rows().length < 8; k++) {
      await lab.lab.execAsync(cx[0]!.ns, 'ping', ['-c', '1', '-W', '2', ipsX[2]!]).catch(() => undefined);
      await lab.lab.execAsync(cx[1]!.ns, 'ping', ['-c', '1', '-W', '2', ipsX[0]!]).catch(() => undefined);
      await sleep(200);
    }
    await until(() => rows().length >= 8, 'eight ICMP packets in the capture', 15_000);
    tshark.kill('SIGINT');
    await cap.exited;
    const seen = rows();
    const outer = new Set(hosts.map((h) => h.address));
    const inner = new Set(ipsX);
    const pairs = new Set<string>();
    for (const [vni, src, dst, type] of seen) {
      expect(vni).toBe(String(x.vni));
      const [os, is] = src!.split(',');
      const [od, id] = dst!.split(',');
      expect(outer.has(os!) && outer.has(od!)).toBe(true);
      expect(inner.has(is!) && inner.has(id!)).toBe(true);
      expect(['0', '8']).toContain(type);
      pairs.add(`${os}>${od}`);
    }
    // both pings crossed the bridge: host1→host3 and host2→host1
    expect(pairs.has(`${hosts[0]!.address}>${hosts[2]!.address}`)).toBe(true);
    expect(pairs.has(`${hosts[1]!.address}>${hosts[0]!.address}`)).toBe(true);
  }, 240_000);
});
