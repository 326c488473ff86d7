import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServiceVip } from '@weft/interface';
import { LinuxDataPlaneError } from '../errors';
import type { CommandRunner } from '../runner/command-runner';
import type { DnsRelays } from './dns-relay';
import type { ReconcileChange } from './diff';
import { BRIDGE_NAME } from './names';
import { expectedVipRules, flowsToFlush, readServiceTable, sameVipRules, serviceTableName, serviceTableScript, writeServiceTable } from './services';

/**
 * A change {@link KernelServices.reconcile} made: `vip` a container's
 * nftables table (namespace: the sandbox path; target: the table), `dns`
 * the DNS address on the bridge or its helper (namespace: the network
 * namespace), `resolv` a resolv.conf file (both: the file).
 */
export type ServiceChange = ReconcileChange & { readonly kind: 'vip' | 'dns' | 'resolv' };

/** What the services need to know of one network, from the plane. */
export interface ServiceNet {
  readonly id: string;
  /** The network namespace's name and path. */
  readonly namespace: string;
  readonly nsPath: string;
  /** The subnet's prefix length (the DNS address goes on the bridge with it, so replies route). */
  readonly prefixLength: number;
  /** The namespace exists (the network has a local endpoint). */
  readonly active: boolean;
  /** The sandboxes of its local endpoints (distinct). */
  readonly sandboxes: readonly string[];
  /** The resolv.conf files its local endpoints asked for. */
  readonly resolvConfs: readonly string[];
}

/** An error {@link KernelServices.reconcile} could not repair. */
export interface ServiceError {
  readonly namespace: string;
  readonly error: LinuxDataPlaneError;
}

const wrap = (err: unknown, what: string): LinuxDataPlaneError =>
  err instanceof LinuxDataPlaneError ? err : new LinuxDataPlaneError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });

/**
 * The kernel plane's services: per network the VIPs (an nftables table in
 * each local container's namespace, `services.ts`) and the DNS address (on
 * the network namespace's bridge, answered by a helper process there,
 * `dns-relay.ts`), and the resolv.conf files attaches asked for.
 */
export class KernelServices {
  private readonly vips = new Map<string, Map<string, ServiceVip>>();
  private readonly dnsWanted = new Map<string, string>();
  /** The DNS address this plane put on each network's bridge. */
  private readonly dnsOnBridge = new Map<string, string>();
  /** resolv.conf files this plane wrote, with their content. */
  private readonly resolvWritten = new Map<string, string>();

  constructor(
    private readonly runner: CommandRunner,
    readonly dns: DnsRelays,
  ) {}

  /** The network's VIPs, by VIP order. */
  vipsOf(networkId: string): ServiceVip[] {
    return [...(this.vips.get(networkId)?.values() ?? [])].sort((a, b) => (a.vip < b.vip ? -1 : a.vip > b.vip ? 1 : 0));
  }

  /** The network's DNS address, when set. */
  dnsAddressOf(networkId: string): string | undefined {
    return this.dnsWanted.get(networkId);
  }

  /** The nftables script a container of the network gets, or undefined when the network has no VIP. */
  tableScript(net: ServiceNet): string | undefined {
    const vips = this.vipsOf(net.id);
    return vips.length === 0 ? undefined : serviceTableScript(serviceTableName(net.namespace), vips);
  }

  /**
   * Sets a VIP (no backends: removes it). On an active network, writes the
   * network's table in every local container's namespace, deleting the
   * conntrack entries of removed backends there: 1 process per container.
   * On failure the desired state is as before (containers already written
   * are put back too, best effort; `reconcile()` repairs the rest).
   */
  async setVip(net: ServiceNet, vip: ServiceVip): Promise<void> {
    let map = this.vips.get(net.id);
    const before = map?.get(vip.vip);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(vip)) return;
    if (before === undefined && vip.backends.length === 0) return;
    if (map === undefined) this.vips.set(net.id, (map = new Map()));
    if (vip.backends.length === 0) map.delete(vip.vip);
    else map.set(vip.vip, vip);
    if (!net.active) return;
    const flush = flowsToFlush(before, vip);
    const script = serviceTableScript(serviceTableName(net.namespace), this.vipsOf(net.id));
    const done: string[] = [];
    try {
      for (const sandbox of net.sandboxes) {
        await writeServiceTable(this.runner, sandbox, script, flush);
        done.push(sandbox);
      }
    } catch (err) {
      if (before === undefined) map.delete(vip.vip);
      else map.set(vip.vip, before);
      const back = serviceTableScript(serviceTableName(net.namespace), this.vipsOf(net.id));
      for (const sandbox of done) await writeServiceTable(this.runner, sandbox, back, []).catch(() => undefined);
      throw err;
    }
  }

  /** Removes the network's table from a container leaving it (1 process; a container that is gone is fine). No process when the network has no VIP. */
  async detached(net: ServiceNet, sandbox: string): Promise<void> {
    if (this.vipsOf(net.id).length === 0) return;
    await writeServiceTable(this.runner, sandbox, serviceTableScript(serviceTableName(net.namespace), []), []).catch(() => undefined);
  }

  /** The `ip -batch` lines that put the DNS address on a new network namespace's bridge (none without one). */
  creationLines(net: ServiceNet): string[] {
    const address = this.dnsWanted.get(net.id);
    return address === undefined ? [] : [`addr replace ${address}/${net.prefixLength} dev ${BRIDGE_NAME}`];
  }

  /** Records that {@link KernelServices.creationLines} ran (the address is on the bridge). */
  created(net: ServiceNet): void {
    const address = this.dnsWanted.get(net.id);
    if (address !== undefined) this.dnsOnBridge.set(net.id, address);
  }

  /**
   * Sets (or clears) the network's DNS address and brings the network to it
   * (see {@link KernelServices.syncDns}). On failure the desired state is as before.
   */
  async setDns(net: ServiceNet, address: string | undefined, all: readonly ServiceNet[]): Promise<void> {
    const before = this.dnsWanted.get(net.id);
    if (before === address && (address === undefined || !net.active || this.dns.pidOf(net.id) !== undefined)) return;
    if (address === undefined) this.dnsWanted.delete(net.id);
    else this.dnsWanted.set(net.id, address);
    try {
      await this.syncDns(net);
    } catch (err) {
      if (before === undefined) this.dnsWanted.delete(net.id);
      else this.dnsWanted.set(net.id, before);
      await this.syncDns(net).catch(() => undefined);
      throw err;
    }
    this.syncResolv(all);
  }

  /**
   * Brings one network's DNS to the desired state: on an active network with
   * an address, the address on the bridge (`ip addr replace`, 1 process,
   * when this plane has not put it there or the helper says it is gone) and
   * a live helper serving it (started: 1 long-lived process); otherwise no
   * helper and no address. Returns what changed.
   */
  async syncDns(net: ServiceNet): Promise<ServiceChange[]> {
    const changes: ServiceChange[] = [];
    const want = net.active ? this.dnsWanted.get(net.id) : undefined;
    const on = this.dnsOnBridge.get(net.id);
    const spec = want === undefined ? undefined : { networkId: net.id, namespace: net.namespace, nsPath: net.nsPath, address: want };
    if (spec === undefined || !this.dns.serves(spec)) {
      if (this.dns.pidOf(net.id) !== undefined) changes.push({ action: 'remove', kind: 'dns', namespace: net.namespace, target: on ?? '' });
      await this.dns.stop(net.id);
    }
    const lines: string[] = [];
    if (on !== undefined && on !== want && net.active) lines.push(`addr del ${on}/${net.prefixLength} dev ${BRIDGE_NAME}`);
    if (on !== undefined && on !== want) this.dnsOnBridge.delete(net.id);
    if (spec === undefined) {
      if (lines.length > 0) await this.runner.ipBatch(lines, { netns: net.nsPath, tolerateMissing: true });
      return changes;
    }
    let present = this.dnsOnBridge.get(net.id) === want;
    if (this.dns.serves(spec)) {
      const status = await this.dns.status(net.id);
      if (status !== undefined && status.addressPresent) return changes;
      if (status === undefined) await this.dns.stop(net.id);
      else present = false;
    }
    if (!present) lines.push(`addr replace ${want}/${net.prefixLength} dev ${BRIDGE_NAME}`);
    if (lines.length > 0) await this.runner.ipBatch(lines, { netns: net.nsPath });
    this.dnsOnBridge.set(net.id, want!);
    if (!present) changes.push({ action: 'add', kind: 'dns', namespace: net.namespace, target: `${want}/${net.prefixLength}` });
    if (!this.dns.serves(spec)) {
      const { replaced } = await this.dns.start(spec);
      changes.push({ action: 'add', kind: 'dns', namespace: net.namespace, target: `helper ${want}${replaced.length > 0 ? ` (replaced ${replaced.join(',')})` : ''}` });
    }
    return changes;
  }

  /** The network's namespace is about to go: its helper stops (and any other helper found there). */
  async deactivating(networkId: string | undefined, namespace: string): Promise<void> {
    if (networkId !== undefined) {
      await this.dns.stop(networkId);
      this.dnsOnBridge.delete(networkId);
    }
    this.dns.killStrays(namespace);
  }

  /** Forgets a removed network. */
  forget(networkId: string): void {
    this.vips.delete(networkId);
    this.dnsWanted.delete(networkId);
    this.dnsOnBridge.delete(networkId);
  }

  /**
   * Writes the resolv.conf files local endpoints asked for: one
   * `nameserver` line per active network with a DNS address that an
   * endpoint asking for the file is on (at most 3, by network order), and
   * removes the files this plane wrote that nobody asks for any more. No
   * process. Returns what changed.
   */
  syncResolv(all: readonly ServiceNet[]): ServiceChange[] {
    const want = new Map<string, string[]>();
    for (const net of all) {
      const address = this.dnsWanted.get(net.id);
      if (!net.active || address === undefined) continue;
      for (const file of net.resolvConfs) {
        const list = want.get(file) ?? [];
        if (!list.includes(address) && list.length < 3) list.push(address);
        want.set(file, list);
      }
    }
    const changes: ServiceChange[] = [];
    for (const [file, servers] of want) {
      const text = `# written by the Weft kernel data plane\n${servers.map((s) => `nameserver ${s}`).join('\n')}\noptions ndots:0\n`;
      let current: string | undefined;
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        current = undefined;
      }
      if (current === text) {
        this.resolvWritten.set(file, text);
        continue;
      }
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
        this.resolvWritten.set(file, text);
        changes.push({ action: current === undefined ? 'add' : 'update', kind: 'resolv', namespace: file, target: file });
      } catch {
        // reported by reconcile as a difference next time; an attach does not fail for it
      }
    }
    for (const file of [...this.resolvWritten.keys()]) {
      if (want.has(file)) continue;
      this.resolvWritten.delete(file);
      rmSync(file, { force: true });
      changes.push({ action: 'remove', kind: 'resolv', namespace: file, target: file });
    }
    return changes;
  }

  /**
   * Repairs every active network's services: each container's VIP table is
   * read back (1 process per container of a network with VIPs) and rewritten
   * when it differs (1 more); the DNS helper is asked whether it is alive and
   * its address present (no process), and restarted / the address put back
   * when not; a crashed run's helpers are killed; resolv.conf files are
   * rewritten. Networks without VIPs are not read (a leftover table of a
   * network whose VIPs went while the node was down stays until the VIP
   * set changes or the container detaches).
   */
  async reconcile(all: readonly ServiceNet[], changes: ReconcileChange[], errors: ServiceError[]): Promise<void> {
    for (const net of all) {
      if (!net.active) {
        if (this.dns.pidOf(net.id) !== undefined) await this.dns.stop(net.id);
        continue;
      }
      const vips = this.vipsOf(net.id);
      if (vips.length > 0) {
        const table = serviceTableName(net.namespace);
        const expected = expectedVipRules(vips);
        for (const sandbox of net.sandboxes) {
          try {
            const have = await readServiceTable(this.runner, sandbox, table);
            if (have !== undefined && sameVipRules(have, expected)) continue;
            await writeServiceTable(this.runner, sandbox, serviceTableScript(table, vips), []);
            changes.push({ action: have === undefined ? 'add' : 'update', kind: 'vip', namespace: sandbox, target: table });
          } catch (err) {
            errors.push({ namespace: sandbox, error: wrap(err, `services of network ${net.id} in ${sandbox}`) });
          }
        }
      }
      try {
        const killed = this.dns.killStrays(net.namespace);
        for (const pid of killed) changes.push({ action: 'remove', kind: 'dns', namespace: net.namespace, target: `stray helper ${pid}` });
        changes.push(...(await this.syncDns(net)));
      } catch (err) {
        errors.push({ namespace: net.namespace, error: wrap(err, `DNS of network ${net.id}`) });
      }
    }
    changes.push(...this.syncResolv(all));
  }

  /**
   * Stops every helper (they answer through this process) and forgets the
   * state, leaving the kernel's side as it is: the containers' VIP tables,
   * the DNS addresses on the bridges and the resolv.conf files written stay
   * for the next start to adopt ({@link KernelDataPlane.release}).
   */
  async release(): Promise<void> {
    await this.dns.closeAll();
    this.resolvWritten.clear();
    this.vips.clear();
    this.dnsWanted.clear();
    this.dnsOnBridge.clear();
  }

  /** Stops every helper, removes the VIP tables from the containers of `nets` (1 process each; a container that is gone is fine) and the resolv.conf files written. */
  async close(nets: readonly ServiceNet[] = []): Promise<void> {
    await this.dns.closeAll();
    for (const net of nets) for (const sandbox of net.sandboxes) await this.detached(net, sandbox);
    for (const file of this.resolvWritten.keys()) rmSync(file, { force: true });
    this.resolvWritten.clear();
    this.vips.clear();
    this.dnsWanted.clear();
    this.dnsOnBridge.clear();
  }
}
