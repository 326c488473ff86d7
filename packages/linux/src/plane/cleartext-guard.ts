/**
 * The nftables table that keeps encrypted networks' VNIs off the wire in
 * cleartext (CVE-2023-28841/28842): in the host (underlay) namespace, one
 * table named after the plane's prefix, with an `input` and an `output`
 * chain that count and drop every UDP packet to the VXLAN port whose VXLAN
 * header carries such a VNI — arriving from outside or leaving this host,
 * with or without a local endpoint on the network. Each rule's comment is
 * `vni <n>`, which is how the table is read back.
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
export function guardScript(table: string, port: number, vnis: readonly number[]): string {
  const lines = [`table inet ${table} {}`, `delete table inet ${table}`];
  if (vnis.length > 0) {
    const rules = [...vnis].sort((a, b) => a - b).map((v) => `    udp dport ${port} @th,96,24 ${v} counter drop comment "vni ${v}"`);
    lines.push(`table inet ${table} {`);
    for (const hook of ['input', 'output']) {
      lines.push(`  chain ${hook} {`, `    type filter hook ${hook} priority -10; policy accept;`, ...rules, '  }');
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

/** What the table holds, read back from `nft -j list table inet <table>`: the VNIs of each chain, and each rule's dropped-packet counter. */
export interface GuardState {
  readonly input: readonly number[];
  readonly output: readonly number[];
  /** Packets dropped per VNI, both chains added. */
  readonly dropped: Readonly<Record<number, number>>;
}

/** Parses `nft -j list table inet <table>` output. */
export function parseGuard(json: unknown): GuardState {
  const input: number[] = [];
  const output: number[] = [];
  const dropped: Record<number, number> = {};
  const items = (json as { nftables?: unknown[] })?.nftables ?? [];
  for (const item of items) {
    const rule = (item as { rule?: { chain?: string; comment?: string; expr?: unknown[] } }).rule;
    if (rule === undefined) continue;
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
  return { input: input.sort((a, b) => a - b), output: output.sort((a, b) => a - b), dropped };
}

/**
 * The guard table of one plane, in the host namespace its runner targets.
 * Remembers what it last wrote, so `sync` costs a process only when the
 * VNIs changed.
 */
export class CleartextGuard {
  private applied: string | undefined;

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
    const key = vnis.join(',');
    if (key === this.applied || (this.applied === undefined && vnis.length === 0)) return;
    await this.write(vnis);
  }

  /** Replaces the table with one for `vnis`, or removes it when empty: 1 process, atomic (`nft -f`). */
  async write(vnis: readonly number[]): Promise<void> {
    await this.runner.nft(guardScript(this.table, this.port, vnis));
    this.applied = vnis.join(',');
  }

  /**
   * Compares the table with `vnis` and rewrites it when they differ.
   * @returns the change made, or undefined when it already matched.
   */
  async reconcile(vnis: readonly number[]): Promise<'add' | 'remove' | 'update' | undefined> {
    const have = await this.state();
    const same = (xs: readonly number[]): boolean => xs.length === vnis.length && xs.every((x, i) => x === vnis[i]);
    if (have === undefined ? vnis.length === 0 : same(have.input) && same(have.output)) return undefined;
    await this.write(vnis);
    return have === undefined ? 'add' : vnis.length === 0 ? 'remove' : 'update';
  }
}
