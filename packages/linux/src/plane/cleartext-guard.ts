/**
 * The nftables table that keeps encrypted networks' VNIs off the wire in
 * cleartext (CVE-2023-28841/28842): in the host (underlay) namespace, one
 * table named after the plane's prefix, with an `input` and an `output`
 * chain that count and drop every UDP packet to the VXLAN port whose VXLAN
 * header carries such a VNI — arriving from outside (any interface but `lo`)
 * or leaving this host (to any address that is not local), with or without
 * a local endpoint on the network. Each rule's comment is `vni <n>`, which
 * is how the table is read back.
 *
 * With the encrypted relay (see `relay.ts`) the table also holds, comment
 * `relay <port>`: a `nat` `output` chain that turns the kernel's VXLAN sent
 * to `<peer> port <relay port>` into the relay socket on the underlay
 * address (a destination that is a local address from the start would make
 * the kernel's VXLAN device deliver the frame to a local VXLAN device of
 * that port instead of sending it: `localbypass`); the relay port refused
 * from any interface but `lo`; and the output rules cover the relay port
 * too, so a frame that missed the `dnat` is dropped rather than sent.
 */
import { LinuxCommandError } from '../errors';
import type { CommandRunner } from '../runner/command-runner';

/** The table's name for a plane prefix (an nft identifier: it must start with a letter). */
export function guardTableName(prefix: string): string {
  return /^[A-Za-z]/.test(prefix) ? prefix : `w${prefix}`;
}

/**
 * The `nft -f` script that makes the table hold exactly `vnis` (replacing
 * what it held, atomically), or removes it when `vnis` is empty.
 * `@th,96,24` is the VNI: UDP header 8 bytes + VXLAN flags and reserved 4 bytes = bit 96.
 */
export function guardScript(table: string, port: number, vnis: readonly number[], relay?: RelaySocket): string {
  const lines = [`table inet ${table} {}`, `delete table inet ${table}`];
  if (vnis.length > 0) {
    const sorted = [...vnis].sort((a, b) => a - b);
    const ports = relay === undefined ? `${port}` : `{ ${port}, ${relay.port} }`;
    lines.push(`table inet ${table} {`);
    lines.push('  chain input {', '    type filter hook input priority -10; policy accept;');
    for (const v of sorted) lines.push(`    iifname != "lo" udp dport ${port} @th,96,24 ${v} counter drop comment "vni ${v}"`);
    if (relay !== undefined) lines.push(`    iifname != "lo" udp dport ${relay.port} counter drop comment "relay ${relay.port}"`);
    lines.push('  }', '  chain output {', '    type filter hook output priority -10; policy accept;');
    for (const v of sorted) lines.push(`    fib daddr type != local udp dport ${ports} @th,96,24 ${v} counter drop comment "vni ${v}"`);
    lines.push('  }');
    if (relay !== undefined) {
      lines.push(
        '  chain relay {',
        '    type nat hook output priority -100; policy accept;',
        `    ip saddr ${relay.address} udp dport ${relay.port} @th,64,32 0x08000000 counter dnat ip to ${relay.address} comment "relay ${relay.port}"`,
        '  }',
      );
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

/** The encrypted relay's kernel-side socket (the underlay address and the relay port). */
export interface RelaySocket {
  readonly address: string;
  readonly port: number;
}

/** What the table holds, read back from `nft -j list table inet <table>`: the VNIs of each chain, and each rule's dropped-packet counter. */
export interface GuardState {
  readonly input: readonly number[];
  readonly output: readonly number[];
  /** Packets dropped per VNI, both chains added. */
  readonly dropped: Readonly<Record<number, number>>;
  /** The relay port the table redirects the kernel's VXLAN to (undefined: no relay rules). */
  readonly relayPort: number | undefined;
  /** Packets to the relay port dropped because they came from another interface than `lo`. */
  readonly relayDropped: number;
}

/** Parses `nft -j list table inet <table>` output. */
export function parseGuard(json: unknown): GuardState {
  const input: number[] = [];
  const output: number[] = [];
  const dropped: Record<number, number> = {};
  let relayPort: number | undefined;
  let relayDropped = 0;
  const items = (json as { nftables?: unknown[] })?.nftables ?? [];
  for (const item of items) {
    const rule = (item as { rule?: { chain?: string; comment?: string; expr?: unknown[] } }).rule;
    if (rule === undefined) continue;
    const counted = (): number => (rule.expr ?? []).reduce((n: number, e) => n + ((e as { counter?: { packets?: number } }).counter?.packets ?? 0), 0);
    const r = /^relay (\d+)$/.exec(rule.comment ?? '');
    if (r) {
      if (rule.chain === 'relay') relayPort = Number(r[1]);
      else if (rule.chain === 'input') relayDropped += counted();
      continue;
    }
    const m = /^vni (\d+)$/.exec(rule.comment ?? '');
    if (!m) continue;
    const vni = Number(m[1]);
    if (rule.chain === 'input') input.push(vni);
    else if (rule.chain === 'output') output.push(vni);
    for (const e of rule.expr ?? []) {
      const c = (e as { counter?: { packets?: number } }).counter;
      if (c !== undefined) dropped[vni] = (dropped[vni] ?? 0) + (c.packets ?? 0);
    }
  }
  return { input: input.sort((a, b) => a - b), output: output.sort((a, b) => a - b), dropped, relayPort, relayDropped };
}

/**
 * The guard table of one plane, in the host namespace its runner targets.
 * Remembers what it last wrote, so `sync` costs a process only when the
 * VNIs changed.
 */
export class CleartextGuard {
  private applied: string | undefined;
  /** The encrypted relay's socket, once it exists: the table then redirects the kernel's VXLAN to it (see the module notes). */
  relay: RelaySocket | undefined;

  constructor(
    private readonly runner: CommandRunner,
    /** The nft table name ({@link guardTableName}). */
    readonly table: string,
    /** The VXLAN port whose packets are checked. */
    private readonly port: number,
  ) {}

  /** Reads the table back (1 process); undefined when it does not exist. */
  async state(): Promise<GuardState | undefined> {
    let out: string;
    try {
      out = (await this.runner.run(['nft', '-j', 'list', 'table', 'inet', this.table])).stdout;
    } catch (err) {
      if (err instanceof LinuxCommandError && /No such file or directory|does not exist/.test(err.stderr)) return undefined;
      throw err;
    }
    return parseGuard(JSON.parse(out));
  }

  /** Brings the table to `vnis` (ascending) when they differ from what this object last wrote; nothing before the first encrypted VNI. */
  async sync(vnis: readonly number[]): Promise<void> {
    const key = this.keyOf(vnis);
    if (key === this.applied || (this.applied === undefined && vnis.length === 0)) return;
    await this.write(vnis);
  }

  /** Replaces the table with one for `vnis`, or removes it when empty: 1 process, atomic (`nft -f`). */
  async write(vnis: readonly number[]): Promise<void> {
    await this.runner.nft(guardScript(this.table, this.port, vnis, this.relay));
    this.applied = this.keyOf(vnis);
  }

  private keyOf(vnis: readonly number[]): string {
    return vnis.length === 0 ? '' : `${vnis.join(',')} ${this.relay === undefined ? '' : `${this.relay.address}:${this.relay.port}`}`;
  }

  /**
   * Compares the table with `vnis` and rewrites it when they differ.
   * @returns the change made, or undefined when it already matched.
   */
  async reconcile(vnis: readonly number[]): Promise<'add' | 'remove' | 'update' | undefined> {
    const have = await this.state();
    const same = (xs: readonly number[]): boolean => xs.length === vnis.length && xs.every((x, i) => x === vnis[i]);
    const relay = vnis.length > 0 ? this.relay?.port : undefined;
    if (have === undefined ? vnis.length === 0 : same(have.input) && same(have.output) && have.relayPort === relay) return undefined;
    await this.write(vnis);
    return have === undefined ? 'add' : vnis.length === 0 ? 'remove' : 'update';
  }
}
