/**
 * Two containers on two hosts over the kernel's own VXLAN, programmed by
 * `@weft/linux` (root only: it makes network namespaces and devices).
 *
 * The "hosts" are network namespaces joined by a veth pair (the underlay,
 * 198.18.252.0/24, MTU 1500); the "containers" are namespaces too. One
 * `KernelDataPlane` per host (`hostNetns`: its host-side commands run in that
 * host's namespace) does what core's control plane would ask of it: the
 * network, the local container, the remote one. Then the kernel's `ping`
 * and a UDP exchange (a node one-liner in each container, run with
 * `ip netns exec`)
 * cross the overlay, the entries Weft wrote are read back with `bridge` and
 * `ip`, and a `reconcile()` with nothing changed reports nothing. Everything
 * is removed at the end, even after a failure.
 *
 *   sudo npx tsx examples/linux-two-hosts.ts
 *
 * `main()` returns the report it prints, so examples/linux-two-hosts.test.ts can check it.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { LocalEndpointSpec, NetworkSpec } from '@weft/interface';
import { KernelDataPlane } from '@weft/linux';

/** What the example did and saw. */
export interface LinuxTwoHostsReport {
  /** The network namespace each plane made for the network. */
  namespaces: string[];
  /** MTU of the overlay devices (bytes): the underlay's 1500 − 50. */
  mtu: number;
  /** Ping container 1 → container 2: replies out of 3. */
  pingReplies: number;
  /** What container 2's UDP echo answered to container 1. */
  udpReply: string;
  /** Host 1's `bridge fdb show dev vxlan0` lines (permanent entries). */
  fdb: string[];
  /** Host 1's `ip neigh show dev vxlan0` lines. */
  neighbours: string[];
  /** Changes `reconcile()` made on each host with nothing changed: 0 and 0. */
  reconcileChanges: number[];
  /** The printed report, one line per entry. */
  lines: string[];
}

const sh = (cmd: string, args: string[], timeoutMs = 20_000): string => execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, cmd: string, args: string[]): string => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

/** A UDP echo server in `ns` (node, run with `ip netns exec`), answering one datagram, then exiting. */
const ECHO = `const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo: '+m,r.port,r.address,()=>s.close()));s.bind(7000,()=>console.log('ready'));setTimeout(()=>process.exit(1),10000);`;
/** Sends one datagram from `ns` and prints the answer. */
const ASK = (to: string): string =>
  `const s=require('node:dgram').createSocket('udp4');s.on('message',(m)=>{console.log(String(m));process.exit(0)});let n=0;const t=setInterval(()=>{if(++n>50)process.exit(1);s.send('hello from container 1',7000,'${to}')},100);`;

export async function main(print: (line: string) => void = () => undefined): Promise<LinuxTwoHostsReport> {
  const lines: string[] = [];
  const say = (l: string): void => {
    lines.push(l);
    print(l);
  };
  const tag = `wl${process.pid.toString(36)}`;
  const made: string[] = [];
  const planes: KernelDataPlane[] = [];
  try {
    for (const n of ['h1', 'h2', 'c1', 'c2']) {
      sh('ip', ['netns', 'add', tag + n]);
      made.push(tag + n);
    }
    sh('ip', ['link', 'add', 'u', 'netns', `${tag}h1`, 'type', 'veth', 'peer', 'name', 'u', 'netns', `${tag}h2`]);
    const hosts = [1, 2].map((i) => ({ ns: `${tag}h${i}`, address: `198.18.252.${i}`, container: `${tag}c${i}` }));
    for (const h of hosts) {
      sh('ip', ['-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'u']);
      sh('ip', ['-n', h.ns, 'link', 'set', 'u', 'up']);
      sh('ip', ['-n', h.container, 'link', 'set', 'lo', 'up']);
    }
    say(`underlay  ${hosts.map((h) => `${h.ns} ${h.address}`).join(', ')} (veth, MTU 1500)`);

    // What core would ask of each node's data plane, from its store.
    const network: NetworkSpec = { id: 'net-blue', name: 'blue', vni: 4300, mtu: 1450, subnet: '198.19.252.0/24', internal: true };
    const endpoints: LocalEndpointSpec[] = hosts.map((h, i) => ({ id: `ep-${i + 1}`, name: `c${i + 1}`, ip: `198.19.252.${i + 1}`, prefixLength: 24, mac: `02:42:c6:13:fc:0${i + 1}`, sandbox: `/var/run/netns/${h.container}` }));
    for (const [i, h] of hosts.entries()) {
      const plane = await KernelDataPlane.open({ nodeId: `${tag}-${i + 1}`, underlayAddress: h.address, hostNetns: `/var/run/netns/${h.ns}` });
      planes.push(plane);
      await plane.ensureNetwork(network);
      await plane.addLocalEndpoint(network.id, endpoints[i]!);
    }
    for (const [i, plane] of planes.entries()) {
      const other = planes[1 - i]!;
      const { address, vxlanPort, encryptedPort, epoch } = other.info;
      await plane.addRemoteEndpoint(network.id, { id: endpoints[1 - i]!.id, ip: endpoints[1 - i]!.ip, mac: endpoints[1 - i]!.mac, peer: { id: other.nodeId, address, vxlanPort, encryptedPort, epoch } });
    }
    const namespaces = planes.map((p) => p.namespaceOf(network.id));
    const mtu = planes[0]!.mtuOf(network.id)!;
    say(`network   ${network.name} VNI ${network.vni}, MTU ${mtu}; namespaces ${namespaces.join(', ')}`);

    const ping = inNs(hosts[0]!.container, 'ping', ['-n', '-c', '3', '-i', '0.2', '-W', '2', endpoints[1]!.ip]);
    const pingReplies = Number(/(\d+) received/.exec(ping)?.[1] ?? 0);
    say(`ping      c1 → c2 (${endpoints[1]!.ip}): ${pingReplies} of 3 replies`);

    const server = spawn('ip', ['netns', 'exec', hosts[1]!.container, process.execPath, '-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
    let udpReply = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the echo server in container 2 did not start within 10 s')), 10_000);
        server.stdout!.once('data', () => (clearTimeout(timer), resolve()));
        server.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the echo server exited (${code})`))));
      });
      udpReply = inNs(hosts[0]!.container, process.execPath, ['-e', ASK(endpoints[1]!.ip)]).trim();
    } finally {
      server.kill('SIGKILL');
    }
    say(`udp       c1 → c2:7000 answered "${udpReply}"`);

    const nsPath = namespaces[0]!;
    const fdb = sh('bridge', ['-n', nsPath, 'fdb', 'show', 'dev', 'vxlan0'])
      .split('\n')
      .filter((l) => l.includes('permanent') && l.includes(' dst '));
    const neighbours = sh('ip', ['-n', nsPath, 'neigh', 'show', 'dev', 'vxlan0']).split('\n').filter(Boolean);
    for (const l of fdb) say(`fdb       ${nsPath}: ${l.trim()}`);
    for (const l of neighbours) say(`neigh     ${nsPath}: ${l.trim()}`);

    const reconcileChanges: number[] = [];
    for (const p of planes) reconcileChanges.push((await p.reconcile()).changes.length);
    say(`reconcile nothing changed meanwhile: ${reconcileChanges.join(' and ')} changes`);
    return { namespaces, mtu, pingReplies, udpReply, fdb, neighbours, reconcileChanges, lines };
  } finally {
    for (const p of planes) await p.close().catch(() => undefined);
    for (const n of made) {
      try {
        sh('ip', ['netns', 'del', n]);
      } catch {
        // already gone
      }
    }
  }
}

if (require.main === module) {
  main((line) => console.log(line)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
