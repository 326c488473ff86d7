/**
 * Egress for containers on non-`internal` networks, as Docker's
 * `docker_gwbridge`, in the host (underlay) namespace of one plane:
 *
 * - a gateway bridge `gw<6 hex of SHA-256(prefix)>` (ifalias: the prefix;
 *   MAC `02:77:` + the gateway address) holding the first host address of
 *   the egress subnet;
 * - per container (per sandbox: a container on two non-internal networks
 *   gets one) a veth pair: `gw<6 hex><7 hex of SHA-256(sandbox path)>` on
 *   the bridge, the other end in the container (`eth1`) with an address of
 *   the egress subnet and the default route via the gateway;
 * - an nftables table pair named `<prefix>-egress` (families `ip` and
 *   `bridge`): masquerade of the subnet out of every other interface, and no
 *   traffic between two containers through the bridge (Docker's ICC off);
 * - IPv4 forwarding on in the host namespace (never turned off again:
 *   other things may rely on it, as with Docker).
 *
 * Addresses survive a restart of the plane: the host-side port's MAC carries
 * the container's egress address (`02:77:` + its four bytes), so one read of
 * the host namespace tells which container holds which address, and the
 * restarted plane adopts them instead of renumbering live containers. New
 * containers get the lowest free address; an address is taken from neither
 * a live container nor an existing port not yet claimed.
 *
 * Everything it names carries the prefix (hashed in device names, which have
 * 15 characters at most, and literally in the bridge's ifalias and the table
 * name): it never touches another node's bridge, ports or tables, and
 * refuses to build on a bridge of its name whose ifalias is another's.
 */
import { existsSync } from 'node:fs';
import { LinuxCommandError, LinuxStateError } from '../errors';
import type { CommandRunner } from '../runner/command-runner';
import { guardTableName } from './cleartext-guard';
import { aliasOf } from './commands';
import type { ReconcileChange } from './diff';
import {
  DEFAULT_EGRESS_SUBNETS,
  addressOfEgressMac,
  egressSandboxLines,
  egressSubnet,
  egressTableScript,
  expectedEgressRules,
  gatewayAddLines,
  ipv4Net,
  isContainerAddress,
  lowestFree,
  overlaps,
  parseEgressTables,
  parseHostLinks,
  type EgressSubnet,
  type EgressTables,
  type HostLink,
} from './egress';
import { egressPortName, egressPortPattern, gatewayBridgeName } from './names';

const WHAT = 'KernelDataPlane egress';
const FORWARDING = '/proc/sys/net/ipv4/ip_forward';

/** How a plane's egress is set up. */
export interface EgressConfig {
  /** The plane's name prefix. */
  readonly prefix: string;
  /** The configured subnet, or undefined for the first free default. */
  readonly subnet: string | undefined;
  /** Name of the container-side interface. */
  readonly interfaceName: string;
  /** Path of the host namespace (where the bridge lives). */
  readonly hostNetns: string;
  /** MTU of the bridge and every egress veth (bytes). */
  readonly mtu: number;
}

/** A container's egress port as read back from the host namespace. */
export interface EgressPortState {
  readonly name: string;
  /** The egress address its MAC carries (undefined for a MAC the plane did not give). */
  readonly address: string | undefined;
  readonly master: string | undefined;
  readonly up: boolean;
}

/** What a plane's egress holds in the host namespace (`KernelDataPlane.egressState()`). */
export interface EgressState {
  /** The gateway bridge, or undefined when it does not exist. */
  readonly bridge: { readonly name: string; readonly up: boolean; readonly mtu: number; readonly alias: string | undefined; readonly addresses: readonly string[] } | undefined;
  /** The egress subnet in use (`a.b.c.d/len`), undefined before the gateway was built. */
  readonly subnet: string | undefined;
  /** Every port named with the plane's prefix. */
  readonly ports: readonly EgressPortState[];
  /** The nftables tables, or undefined when neither exists. */
  readonly tables: EgressTables | undefined;
  /** `net.ipv4.ip_forward` of the host namespace. */
  readonly forwarding: boolean;
}

interface HostView {
  readonly links: readonly HostLink[];
  readonly bridge: HostLink | undefined;
  readonly ports: readonly HostLink[];
}

interface TablesView {
  readonly forwarding: boolean;
  readonly tables: EgressTables | undefined;
}

/** The egress of one plane: built with its first non-internal network, then one claim per container. Not thread-safe: the plane serializes calls. */
export class EgressGateway {
  /** The bridge's name. */
  readonly bridge: string;
  /** The nftables tables' name (families `ip` and `bridge`). */
  readonly table: string;
  private readonly alias: string;
  private readonly portPattern: RegExp;
  private net: EgressSubnet | undefined;
  private bridgeIndex: number | undefined;
  private built = false;
  /** Sandbox path → its egress address, for every container whose pair exists (or is being made). */
  private readonly live = new Map<string, string>();
  /** Port → address of ports found in the kernel and not claimed yet (a restarted plane's containers). */
  private readonly adoptable = new Map<string, string>();
  /** Sandbox → the address it had before a reconcile found its pair broken: given back when free. */
  private preferred = new Map<string, string>();

  constructor(
    private readonly runner: CommandRunner,
    private readonly c: EgressConfig,
  ) {
    this.bridge = gatewayBridgeName(c.prefix);
    this.table = `${guardTableName(c.prefix)}-egress`;
    this.alias = aliasOf(c.prefix);
    this.portPattern = egressPortPattern(c.prefix);
  }

  /** The gateway is built (bridge, tables, forwarding) as far as this object knows. */
  get active(): boolean {
    return this.built;
  }

  /** The egress subnet in use, once built. */
  get subnet(): EgressSubnet | undefined {
    return this.net;
  }

  /** The container-side interface name. */
  get interfaceName(): string {
    return this.c.interfaceName;
  }

  /** The host-side port name of a sandbox's egress pair. */
  portOf(sandbox: string): string {
    return egressPortName(this.c.prefix, sandbox);
  }

  /** The egress address of a sandbox with a live pair. */
  addressOf(sandbox: string): string | undefined {
    return this.live.get(sandbox);
  }

  /** Sandboxes with a live pair. */
  liveSandboxes(): string[] {
    return [...this.live.keys()];
  }

  /**
   * Builds the gateway when it is not: reads the host namespace (1
   * process), creates or repairs the bridge and re-enslaves existing ports
   * (1 `ip -batch`, only when something is missing), writes the tables and
   * turns forwarding on (1 process). Existing ports with a valid address are
   * kept for adoption by {@link EgressGateway.claim}.
   * @throws LinuxStateError when the subnet overlaps another device's address, no default is free,
   * or the bridge's name is taken by another node; LinuxCommandError.
   */
  async build(): Promise<void> {
    if (this.built) return;
    await this.converge(await this.readHost(), undefined, undefined, []);
  }

  /**
   * The `ip` lines that give `sandbox` its egress pair (to run inside it),
   * or none when it has one (live, or adopted from a port found by the last
   * read). Reserves the address; call {@link EgressGateway.abandon} when the
   * lines fail.
   * @throws LinuxStateError when the gateway is not built, the subnet is full, or another
   * container's port has the same name (a 28-bit hash collision).
   */
  claim(sandbox: string): string[] {
    if (!this.built || this.net === undefined || this.bridgeIndex === undefined) {
      throw new LinuxStateError(`${WHAT}: the gateway bridge ${this.bridge} is not built (reconcile() rebuilds it)`);
    }
    if (this.live.has(sandbox)) return [];
    const port = this.portOf(sandbox);
    for (const other of this.live.keys()) {
      if (this.portOf(other) === port) throw new LinuxStateError(`${WHAT}: sandbox ${sandbox} and sandbox ${other} would share the egress port name ${port}`);
    }
    const adopted = this.adoptable.get(port);
    if (adopted !== undefined) {
      this.adoptable.delete(port);
      this.live.set(sandbox, adopted);
      return [];
    }
    const used = new Set([...this.live.values(), ...this.adoptable.values()]);
    const before = this.preferred.get(sandbox);
    const address = before !== undefined && !used.has(before) && isContainerAddress(this.net, before) ? before : lowestFree(this.net, used);
    if (address === undefined) throw new LinuxStateError(`${WHAT}: the egress subnet ${this.net.cidr} has no free address for sandbox ${sandbox}`);
    this.live.set(sandbox, address);
    return egressSandboxLines({ port, address, subnet: this.net, interfaceName: this.c.interfaceName, hostNetns: this.c.hostNetns, bridgeIndex: this.bridgeIndex, mtu: this.c.mtu });
  }

  /** Undoes a claim whose lines failed: removes the host-side port if it was made (1 process), frees the address. Never throws. */
  async abandon(sandbox: string): Promise<void> {
    if (!this.live.delete(sandbox)) return;
    await this.runner.ipBatch([`link del ${this.portOf(sandbox)}`], { tolerateMissing: true }).catch(() => undefined);
  }

  /** Removes the egress pairs of sandboxes no longer on a non-internal network: 1 process for all, none when none is live. */
  async release(sandboxes: Iterable<string>): Promise<void> {
    const gone = [...sandboxes].filter((s) => this.live.has(s));
    if (gone.length === 0) return;
    await this.runner.ipBatch(
      gone.map((s) => `link del ${this.portOf(s)}`),
      { tolerateMissing: true },
    );
    for (const s of gone) this.live.delete(s);
  }

  /**
   * Removes everything egress made in the host namespace: every port with
   * the prefix, the bridge (when its ifalias is this plane's) and the
   * tables. 2–3 processes (a read, the `ip` batch when something is there,
   * `nft`). Forwarding stays on.
   * @returns the changes, for a reconcile report.
   */
  async remove(view?: HostView, tables?: TablesView): Promise<ReconcileChange[]> {
    const host = view ?? (await this.readHost());
    const changes: ReconcileChange[] = [];
    const lines: string[] = [];
    if (host.bridge === undefined || host.bridge.alias === this.alias) {
      for (const p of host.ports) {
        lines.push(`link del ${p.name}`);
        changes.push(this.change('remove', 'egress', p.name));
      }
      if (host.bridge !== undefined) {
        lines.push(`link del ${this.bridge}`);
        changes.push(this.change('remove', 'gateway', this.bridge));
      }
    }
    await this.runner.ipBatch(lines, { tolerateMissing: true });
    if (tables === undefined || tables.tables !== undefined) {
      await this.runner.nft(egressTableScript(this.table, this.bridge, undefined));
      if (tables !== undefined) changes.push(this.change('remove', 'masquerade', this.table));
    }
    this.built = false;
    this.net = undefined;
    this.bridgeIndex = undefined;
    this.live.clear();
    this.adoptable.clear();
    return changes;
  }

  /**
   * Brings the host namespace to the desired egress: with `wanted`, the
   * bridge, the tables, forwarding, and exactly one port per sandbox of
   * `sandboxes` (leftover ports removed, wrong ones replaced, missing ones
   * made from inside their sandbox, 1 process each); without, nothing.
   * Reads with 2 processes and changes nothing when nothing differs.
   * Sandboxes whose path is gone are skipped (the network's reconcile reports them).
   */
  async reconcile(wanted: boolean, sandboxes: Iterable<string>): Promise<{ changes: ReconcileChange[]; errors: Error[] }> {
    const view = await this.readHost();
    const tables = await this.readTables();
    if (!wanted) {
      const present = view.ports.length > 0 || view.bridge !== undefined || tables.tables !== undefined;
      if (!present) {
        this.built = false;
        this.live.clear();
        return { changes: [], errors: [] };
      }
      return { changes: await this.remove(view, tables), errors: [] };
    }
    const byPort = new Map<string, string>();
    for (const s of sandboxes) if (existsSync(s) || view.ports.some((p) => p.name === this.portOf(s))) byPort.set(this.portOf(s), s);
    const changes: ReconcileChange[] = [];
    const errors: Error[] = [];
    await this.converge(view, tables, byPort, changes);
    for (const [port, sandbox] of byPort) {
      if (this.live.has(sandbox)) continue;
      try {
        await this.runner.ipBatch(this.claim(sandbox), { netns: sandbox });
        changes.push(this.change('add', 'egress', port));
      } catch (err) {
        await this.abandon(sandbox);
        errors.push(err as Error);
      }
    }
    return { changes, errors };
  }

  /** Reads back the bridge, the ports, the tables and forwarding (2 processes). */
  async state(): Promise<EgressState> {
    const view = await this.readHost();
    const t = await this.readTables();
    const b = view.bridge;
    return {
      bridge: b === undefined ? undefined : { name: b.name, up: b.up, mtu: b.mtu, alias: b.alias, addresses: b.ipv4 },
      subnet: this.net?.cidr,
      ports: view.ports.map((p) => ({ name: p.name, address: addressOfEgressMac(p.mac), master: p.master, up: p.up })),
      tables: t.tables,
      forwarding: t.forwarding,
    };
  }

  // -------------------------------------------------------------------------

  private change(action: ReconcileChange['action'], kind: ReconcileChange['kind'], target: string): ReconcileChange {
    return { action, kind, namespace: this.c.hostNetns, target };
  }

  private async readHost(): Promise<HostView> {
    const links = parseHostLinks(await this.runner.ipJson(['-d', 'addr', 'show']));
    return { links, bridge: links.find((l) => l.name === this.bridge), ports: links.filter((l) => this.portPattern.test(l.name)) };
  }

  /** Forwarding and the ruleset in one process (`sh` reads the sysctl with builtins, then execs `nft`). */
  private async readTables(): Promise<TablesView> {
    const { stdout } = await this.runner.run(['sh', '-c', `read f < ${FORWARDING}; echo "$f"; exec nft -j list ruleset`]);
    const nl = stdout.indexOf('\n');
    const forwarding = stdout.slice(0, nl).trim() === '1';
    const rest = stdout.slice(nl + 1).trim();
    let json: unknown = {};
    try {
      json = rest === '' ? {} : JSON.parse(rest);
    } catch (err) {
      throw new LinuxCommandError('nft -j list ruleset', 0, `unparsable output: ${(err as Error).message}`);
    }
    return { forwarding, tables: parseEgressTables(json, this.table) };
  }

  /** Writes the tables and turns forwarding on, in one process (`sh` writes the sysctl with a builtin, then execs `nft -f -`). */
  private async writeTables(net: EgressSubnet): Promise<void> {
    await this.runner.run(['sh', '-c', `echo 1 > ${FORWARDING} && exec nft -f -`], {}, egressTableScript(this.table, this.bridge, net));
  }

  private chooseSubnet(view: HostView): EgressSubnet {
    const foreign = view.links
      .filter((l) => l !== view.bridge && !this.portPattern.test(l.name))
      .flatMap((l) => l.ipv4.map((cidr) => ({ cidr, name: l.name, net: ipv4Net(cidr) })))
      .filter((f) => f.net !== undefined);
    const clash = (s: EgressSubnet) => foreign.find((f) => overlaps(s, f.net!));
    if (this.c.subnet !== undefined) {
      const s = egressSubnet(this.c.subnet);
      const f = clash(s);
      if (f !== undefined) throw new LinuxStateError(`${WHAT}: the egress subnet ${s.cidr} overlaps ${f.cidr} of ${f.name} in the host namespace`);
      return s;
    }
    if (this.net !== undefined) return this.net;
    const mine = view.bridge?.ipv4.find((cidr) => {
      const n = ipv4Net(cidr);
      return n !== undefined && n.prefixLength >= 8 && n.prefixLength <= 29;
    });
    if (mine !== undefined) return egressSubnet(mine); // adopted: the subnet a previous run chose
    for (const cidr of DEFAULT_EGRESS_SUBNETS) {
      const s = egressSubnet(cidr);
      if (clash(s) === undefined) return s;
    }
    throw new LinuxStateError(`${WHAT}: every default egress subnet (172.18.0.0/16 … 172.31.0.0/16) overlaps an address in the host namespace; set egress.subnet`);
  }

  /**
   * Brings the bridge, the existing ports and the tables to the desired
   * state. `byPort` (reconcile): the desired sandbox of each port; ports not
   * in it are removed, the kept ones become live. Without it (build): every
   * port with a valid address is kept for adoption. `tables` undefined: the
   * tables are written without reading them first.
   */
  private async converge(view: HostView, tables: TablesView | undefined, byPort: ReadonlyMap<string, string> | undefined, changes: ReconcileChange[]): Promise<void> {
    const br = view.bridge;
    if (br !== undefined && (br.alias !== this.alias || br.kind !== 'bridge')) {
      throw new LinuxStateError(`${WHAT}: ${this.bridge} in the host namespace is not this plane's gateway bridge (ifalias ${JSON.stringify(br.alias)}, kind ${br.kind}); another node's name collides with ${JSON.stringify(this.c.prefix)}`);
    }
    const net = this.chooseSubnet(view);
    const host: string[] = [];
    const want = `${net.gateway}/${net.prefixLength}`;
    if (br === undefined) {
      host.push(...gatewayAddLines(this.bridge, this.alias, net, this.c.mtu));
      changes.push(this.change('add', 'gateway', this.bridge));
    } else {
      const before = host.length;
      if (br.ipv4.length !== 1 || br.ipv4[0] !== want) host.push(`addr flush dev ${this.bridge}`, `addr add ${want} dev ${this.bridge}`);
      if (br.mtu !== this.c.mtu) host.push(`link set ${this.bridge} mtu ${this.c.mtu}`);
      if (!br.up) host.push(`link set ${this.bridge} up`);
      if (host.length > before) changes.push(this.change('update', 'gateway', this.bridge));
    }
    this.adoptable.clear();
    if (byPort !== undefined) {
      this.preferred = new Map(this.live);
      this.live.clear();
    }
    const taken = new Set<string>();
    for (const p of view.ports) {
      const address = addressOfEgressMac(p.mac);
      const usable = address !== undefined && isContainerAddress(net, address) && !taken.has(address);
      const sandbox = byPort?.get(p.name);
      if (!usable || (byPort !== undefined && sandbox === undefined)) {
        host.push(`link del ${p.name}`);
        if (byPort !== undefined) changes.push(this.change('remove', 'egress', p.name));
        continue;
      }
      taken.add(address);
      if (p.master !== this.bridge || !p.up || p.mtu !== this.c.mtu) {
        host.push(`link set ${p.name} mtu ${this.c.mtu} master ${this.bridge} up`);
        if (byPort !== undefined) changes.push(this.change('update', 'egress', p.name));
      }
      if (sandbox !== undefined) this.live.set(sandbox, address);
      else this.adoptable.set(p.name, address);
    }
    if (br === undefined) this.bridgeIndex = await this.createBridge(host);
    else {
      await this.runner.ipBatch(host);
      this.bridgeIndex = br.index;
    }
    const rulesOk = tables?.tables !== undefined && sameList(tables.tables.rules, expectedEgressRules(net));
    if (tables === undefined || !rulesOk || !tables.forwarding) {
      await this.writeTables(net);
      if (tables !== undefined && !rulesOk) changes.push(this.change(tables.tables === undefined ? 'add' : 'update', 'masquerade', this.table));
      if (tables !== undefined && !tables.forwarding) changes.push(this.change('update', 'forwarding', FORWARDING));
    }
    this.net = net;
    this.built = true;
  }

  /** Runs the host batch that creates the bridge with `-echo`, so the bridge's ifindex comes back in the same process. */
  private async createBridge(lines: readonly string[]): Promise<number> {
    const { stdout } = await this.runner.run(['ip', '-echo', '-json', '-batch', '-'], {}, `${lines.join('\n')}\n`);
    for (const line of stdout.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const parsed = JSON.parse(line) as unknown;
        for (const l of Array.isArray(parsed) ? parsed : [parsed]) {
          const o = l as { ifname?: unknown; ifindex?: unknown };
          if (o?.ifname === this.bridge && typeof o.ifindex === 'number') return o.ifindex;
        }
      } catch {
        // not JSON: ignore
      }
    }
    const found = (await this.readHost()).bridge;
    if (found === undefined) throw new LinuxStateError(`${WHAT}: the gateway bridge ${this.bridge} was not created`);
    return found.index;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
