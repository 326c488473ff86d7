/**
 * Test topology for the kernel plane: "hosts" are network namespaces joined
 * by a veth underlay (198.18.<n>.0/24, n reserved per lab), "containers" are
 * namespaces too; every plane runs its host-side commands inside its host's
 * namespace (`hostNetns`). Everything is removed by `cleanup()`, including
 * any namespace a plane of this lab created (they all start with
 * `weft-<lab tag>`), even when a test failed half-way.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { NetworkSpec, LocalEndpointSpec, RemoteEndpointSpec } from '@weft/interface';
import { KernelDataPlane } from '@weft/linux';
import { NetnsLab } from '../../../test-support/netns';

export interface Host {
  readonly ns: string;
  readonly path: string;
  readonly address: string;
  readonly device: string;
}

export class KernelLab {
  readonly lab: NetnsLab;
  readonly planes: KernelDataPlane[] = [];
  private linkCount = 0;

  constructor(prefix: string) {
    this.lab = new NetnsLab(prefix);
  }

  /** 198.18.<n> for this lab. */
  get net(): string {
    return `198.18.${this.lab.subnetIndex}`;
  }

  /** Two hosts joined by a veth pair with `mtu`, addresses .1 and .2 (or `first`, `first+1`). */
  hosts(mtu = 1500, first = 1): [Host, Host] {
    const a = this.lab.addNamespace(`h${first}`);
    const b = this.lab.addNamespace(`h${first + 1}`);
    const i = this.linkCount++;
    const da = `${this.lab.tag}u${i}a`.slice(-15);
    const db = `${this.lab.tag}u${i}b`.slice(-15);
    this.lab.ip('link', 'add', da, 'netns', a, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', db, 'netns', b, 'mtu', String(mtu));
    const ha: Host = { ns: a, path: `/var/run/netns/${a}`, address: `${this.net}.${first}`, device: da };
    const hb: Host = { ns: b, path: `/var/run/netns/${b}`, address: `${this.net}.${first + 1}`, device: db };
    for (const h of [ha, hb]) {
      this.lab.ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', h.device);
      this.lab.ip('-n', h.ns, 'link', 'set', h.device, 'up');
    }
    return [ha, hb];
  }

  /**
   * `n` hosts on one underlay: a bridge in its own namespace (`<tag>sw`)
   * with one veth port per host (`mtu` both ends), host i at `<net>.i`
   * (from 1). Capture on the bridge there to see every host's underlay traffic.
   */
  bridgedHosts(n: number, mtu = 1500): { hosts: Host[]; switchNs: string; bridge: string } {
    const sw = this.lab.addNamespace('sw');
    const bridge = 'br0';
    this.lab.ip('-n', sw, 'link', 'add', bridge, 'mtu', String(mtu), 'type', 'bridge');
    this.lab.ip('-n', sw, 'link', 'set', bridge, 'up');
    const hosts: Host[] = [];
    for (let k = 1; k <= n; k++) {
      const ns = this.lab.addNamespace(`h${k}`);
      const dev = `u${k}`;
      this.lab.ip('link', 'add', dev, 'netns', ns, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', `p${k}`, 'netns', sw, 'mtu', String(mtu));
      this.lab.ip('-n', sw, 'link', 'set', `p${k}`, 'master', bridge, 'up');
      const h: Host = { ns, path: `/var/run/netns/${ns}`, address: `${this.net}.${k}`, device: dev };
      this.lab.ip('-n', ns, 'addr', 'add', `${h.address}/24`, 'dev', dev);
      this.lab.ip('-n', ns, 'link', 'set', dev, 'up');
      hosts.push(h);
    }
    return { hosts, switchNs: sw, bridge };
  }

  /**
   * An "outside" for egress tests: a namespace linked to `host` by a veth
   * pair on 198.19.<n>.128/25 (host .129, outside .130), with no route back
   * to anything else (so a reply can only reach a container through NAT).
   */
  outside(host: Host, suffix = 'out'): { ns: string; path: string; address: string; hostAddress: string; device: string } {
    const ns = this.lab.addNamespace(suffix);
    const i = this.linkCount++;
    const dh = `${this.lab.tag}u${i}a`.slice(-15);
    const dout = `${this.lab.tag}u${i}b`.slice(-15);
    this.lab.ip('link', 'add', dh, 'netns', host.ns, 'type', 'veth', 'peer', 'name', dout, 'netns', ns);
    const base = `198.19.${this.lab.subnetIndex}`;
    this.lab.ip('-n', host.ns, 'addr', 'add', `${base}.129/25`, 'dev', dh);
    this.lab.ip('-n', ns, 'addr', 'add', `${base}.130/25`, 'dev', dout);
    this.lab.ip('-n', host.ns, 'link', 'set', dh, 'up');
    this.lab.ip('-n', ns, 'link', 'set', dout, 'up');
    return { ns, path: `/var/run/netns/${ns}`, address: `${base}.130`, hostAddress: `${base}.129`, device: dh };
  }

  /** A container: a namespace with lo up. */
  container(suffix: string): { ns: string; path: string } {
    const ns = this.lab.addNamespace(suffix);
    return { ns, path: `/var/run/netns/${ns}` };
  }

  /** Node ids of this lab start with its tag, so its planes' namespaces are `weft-<tag>...`. */
  nodeId(name: string): string {
    return `${this.lab.tag}${name}`;
  }

  async plane(host: Host, name: string, extra: Partial<Parameters<typeof KernelDataPlane.open>[0]> = {}): Promise<KernelDataPlane> {
    const p = await KernelDataPlane.open({ nodeId: this.nodeId(name), underlayAddress: host.address, hostNetns: host.path, ...extra });
    this.planes.push(p);
    return p;
  }

  /** Runs `cmd` in `ns`; returns stdout. */
  exec(ns: string, cmd: string, args: string[]): string {
    return this.lab.exec(ns, cmd, args);
  }

  /** Like exec, never throws. */
  tryExec(ns: string, cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
    return this.lab.tryExec(ns, cmd, args);
  }

  /** `ip -json ...` in `ns` (a name). */
  json<T = unknown>(ns: string, args: string[], tool = 'ip'): T {
    const out = execFileSync(tool === 'ip' ? 'ip' : 'bridge', ['-n', ns, '-json', ...args], { encoding: 'utf8' }).trim();
    return (out === '' ? [] : JSON.parse(out)) as T;
  }

  /** Namespaces that exist now whose name starts with `weft-<tag>`. */
  planeNamespaces(): string[] {
    try {
      return readdirSync('/var/run/netns').filter((n) => n.startsWith(`weft-${this.lab.tag}`));
    } catch {
      return [];
    }
  }

  async cleanup(): Promise<void> {
    for (const p of this.planes.splice(0)) await p.close().catch(() => undefined);
    for (const n of this.planeNamespaces()) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
      } catch {
        // gone
      }
    }
    this.lab.cleanup();
  }
}

export function network(id: string, vni: number, overlay: string, mtu = 1450): NetworkSpec {
  return { id, name: id, vni, mtu, subnet: `${overlay}.0/24`, internal: false };
}

export function localEp(id: string, ip: string, mac: string, sandbox: string): LocalEndpointSpec {
  return { id, name: id, ip, prefixLength: 24, mac, sandbox };
}

/** The remote view of a local endpoint attached on `plane`. */
export function remoteOf(ep: LocalEndpointSpec, plane: KernelDataPlane): RemoteEndpointSpec {
  return {
    id: ep.id,
    ip: ep.ip,
    mac: ep.mac,
    peer: { id: plane.nodeId, address: plane.info.address, vxlanPort: plane.info.vxlanPort, encryptedPort: plane.info.encryptedPort, epoch: plane.info.epoch },
  };
}
