/**
 * The topology of `npm run bench -- linux` (root only): three "hosts"
 * (network namespaces) on one switch (a bridge in its own namespace), each
 * with an underlay address on 198.18.240.0/24 and MTU 1500; containers are
 * namespaces too. On it, two overlays side by side:
 *
 * - Weft's: one {@link KernelDataPlane} per host (`hostNetns`, `egress:
 *   false`), network VNI 7001 on 198.19.240.0/24, a container on every host.
 * - The hand-built equivalent, made by {@link HAND_BUILT_SCRIPT} (plain
 *   `ip`/`bridge` commands, what a person would type): per host a namespace
 *   holding `br0` and a `vxlan` device (VNI 7002, dstport 4789, `local`,
 *   `nolearning proxy`, created in the host namespace and moved in, as
 *   Docker and Weft do), MTU 1450 everywhere, a veth pair into a container,
 *   static FDB, flood and neighbour entries for the peers.
 *
 * Everything is removed by {@link BenchLab.cleanup}, even after a failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { LocalEndpointSpec, NetworkSpec, RemoteEndpointSpec } from '@weft/interface';
import { KernelDataPlane } from '@weft/linux';

export const UNDERLAY = '198.18.240';
export const WEFT_NET = '198.19.240';
export const HAND_NET = '198.19.241';
export const WEFT_VNI = 7001;
export const HAND_VNI = 7002;
export const OVERLAY_MTU = 1450;

/** Runs `cmd args` (bounded); throws with stderr on failure. */
export function run(cmd: string, args: string[], timeoutMs = 30_000): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { status?: number; stderr?: string; message: string };
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed (status ${e.status ?? '?'}): ${String(e.stderr ?? e.message).trim()}`);
  }
}

/** Why this machine cannot run the suite, or undefined when it can (root, `ip netns`, vxlan, iperf3). */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) to make namespaces and kernel VXLAN devices';
  for (const [cmd, args] of [
    ['ip', ['netns', 'list']],
    ['iperf3', ['--version']],
    ['ping', ['-V']],
    ['nsenter', ['--version']],
  ] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      return `needs \`${cmd}\` (${cmd === 'iperf3' ? 'apt-get install -y iperf3' : cmd === 'ip' ? 'iproute2 with ip netns' : 'on PATH'})`;
    }
  }
  return undefined;
}

/** A container's MAC, derived from its overlay address (02:42 + the 4 address bytes, as core does). */
export function macOf(ip: string): string {
  return `02:42:${ip
    .split('.')
    .map((b) => Number(b).toString(16).padStart(2, '0'))
    .join(':')}`;
}

/**
 * The hand-built overlay on host `i` of `hosts` (1-based), as one `sh`
 * script run in the root namespace: same objects, MTU and flags as the
 * kernel plane makes (see docs/linux.md), named by hand; a flood entry and
 * the FDB and neighbour entries of every peer's container.
 */
export function HAND_BUILT_SCRIPT(tag: string, i: number, hosts: number): string {
  const host = `${tag}h${i}`;
  const ns = `${tag}n${i}`;
  const ctr = `${tag}x${i}`;
  const me = `${HAND_NET}.${i}`;
  const lines = [
    'set -e',
    `ip netns add ${ns}`,
    `ip netns add ${ctr}`,
    `ip -n ${ns} link set lo up`,
    `ip -n ${ctr} link set lo up`,
    `ip -n ${host} link add vxh${i} mtu ${OVERLAY_MTU} type vxlan id ${HAND_VNI} dstport 4789 local ${UNDERLAY}.${i} nolearning proxy`,
    `ip -n ${host} link set vxh${i} netns ${ns}`,
    `ip -n ${ns} link add br0 mtu ${OVERLAY_MTU} type bridge`,
    `ip -n ${ns} link set vxh${i} master br0 up`,
    `ip -n ${ns} link set br0 up`,
    `ip -n ${ns} link add vp${i} mtu ${OVERLAY_MTU} master br0 up type veth peer name eth0 address ${macOf(me)} mtu ${OVERLAY_MTU} netns ${ctr}`,
    `ip -n ${ctr} addr add ${me}/24 dev eth0`,
    `ip -n ${ctr} link set eth0 up`,
  ];
  for (let peer = 1; peer <= hosts; peer++) {
    if (peer === i) continue;
    const them = `${HAND_NET}.${peer}`;
    lines.push(
      `bridge -n ${ns} fdb append 00:00:00:00:00:00 dev vxh${i} dst ${UNDERLAY}.${peer} self permanent`,
      `bridge -n ${ns} fdb replace ${macOf(them)} dev vxh${i} dst ${UNDERLAY}.${peer} self permanent`,
      `ip -n ${ns} neigh replace ${them} lladdr ${macOf(them)} dev vxh${i} nud permanent`,
    );
  }
  return lines.join('\n');
}

/** Hand-built attach of a container (namespace `ctr`, address `ip`) on host `i`: the veth pair, address, up — one `sh`. */
export function handAttachScript(tag: string, i: number, port: string, ctr: string, ip: string): string {
  const ns = `${tag}n${i}`;
  return [
    'set -e',
    `ip -n ${ns} link add ${port} mtu ${OVERLAY_MTU} master br0 up type veth peer name eth0 address ${macOf(ip)} mtu ${OVERLAY_MTU} netns ${ctr}`,
    `ip -n ${ctr} addr add ${ip}/24 dev eth0`,
    `ip -n ${ctr} link set eth0 up`,
  ].join('\n');
}

/** Hand-built remote entries on host `i` for a container `ip` on host `on` — one `sh`. */
export function handRemoteScript(tag: string, i: number, on: number, ip: string, remove = false): string {
  const ns = `${tag}n${i}`;
  return remove
    ? `ip -n ${ns} neigh del ${ip} dev vxh${i}; bridge -n ${ns} fdb del ${macOf(ip)} dev vxh${i} self; true`
    : `set -e\nip -n ${ns} neigh replace ${ip} lladdr ${macOf(ip)} dev vxh${i} nud permanent\nbridge -n ${ns} fdb replace ${macOf(ip)} dev vxh${i} dst ${UNDERLAY}.${on} self permanent`;
}

export function weftNetwork(): NetworkSpec {
  return { id: 'bench-net', name: 'bench', vni: WEFT_VNI, mtu: OVERLAY_MTU, subnet: `${WEFT_NET}.0/24`, internal: false };
}

export function localSpec(id: string, ip: string, sandbox: string): LocalEndpointSpec {
  return { id, name: id, ip, prefixLength: 24, mac: macOf(ip), sandbox };
}

export function remoteSpec(ep: LocalEndpointSpec, plane: KernelDataPlane): RemoteEndpointSpec {
  const { address, vxlanPort, encryptedPort, epoch } = plane.info;
  return { id: ep.id, ip: ep.ip, mac: ep.mac, peer: { id: plane.nodeId, address, vxlanPort, encryptedPort, epoch } };
}

export class BenchLab {
  readonly tag = `wb${process.pid.toString(36)}`;
  readonly planes: KernelDataPlane[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly namespaces: string[] = [];

  /** Host `i`'s namespace name. */
  host(i: number): string {
    return `${this.tag}h${i}`;
  }

  /** Creates a namespace `<tag><suffix>` with lo up (removed by cleanup). */
  namespace(suffix: string): string {
    const ns = `${this.tag}${suffix}`;
    run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Deletes a namespace made by {@link BenchLab.namespace}. */
  remove(ns: string): void {
    const i = this.namespaces.indexOf(ns);
    if (i >= 0) this.namespaces.splice(i, 1);
    run('ip', ['netns', 'del', ns]);
  }

  /** The switch and `hosts` hosts on it (underlay `198.18.240.<i>`, MTU 1500). */
  underlay(hosts: number): void {
    const sw = this.namespace('sw');
    run('ip', ['-n', sw, 'link', 'add', 'sw', 'type', 'bridge']);
    run('ip', ['-n', sw, 'link', 'set', 'sw', 'up']);
    for (let i = 1; i <= hosts; i++) {
      const h = this.namespace(`h${i}`);
      run('ip', ['-n', sw, 'link', 'add', `p${i}`, 'master', 'sw', 'up', 'type', 'veth', 'peer', 'name', 'u', 'netns', h]);
      run('ip', ['-n', h, 'addr', 'add', `${UNDERLAY}.${i}/24`, 'dev', 'u']);
      run('ip', ['-n', h, 'link', 'set', 'u', 'up']);
    }
  }

  /** The hand-built overlay on hosts 1..`hosts` (containers `<tag>x1`, `<tag>x2`, ...). */
  handBuilt(hosts: number): void {
    for (let i = 1; i <= hosts; i++) {
      this.namespaces.push(`${this.tag}n${i}`, `${this.tag}x${i}`);
      run('sh', ['-c', HAND_BUILT_SCRIPT(this.tag, i, hosts)]);
    }
  }

  async plane(i: number): Promise<KernelDataPlane> {
    const p = await KernelDataPlane.open({ nodeId: `${this.tag}-${i}`, underlayAddress: `${UNDERLAY}.${i}`, hostNetns: `/var/run/netns/${this.host(i)}`, egress: false });
    this.planes.push(p);
    return p;
  }

  /** Starts `cmd args` in `ns`; killed by cleanup (and after `timeoutMs` whatever happens). */
  spawn(ns: string, cmd: string, args: string[], timeoutMs = 30 * 60_000): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: process.cwd() });
    this.children.add(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    timer.unref();
    child.once('exit', () => {
      clearTimeout(timer);
      this.children.delete(child);
    });
    return child;
  }

  async cleanup(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    for (const p of this.planes.splice(0)) await p.close().catch(() => undefined);
    let leftovers: string[] = [];
    try {
      leftovers = readdirSync('/var/run/netns').filter((n) => n.startsWith(`weft-${this.tag}`));
    } catch {
      // no /var/run/netns
    }
    for (const ns of [...leftovers, ...this.namespaces.splice(0).reverse()]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // already gone
      }
    }
  }
}
