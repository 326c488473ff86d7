import { canonicalIp, isValidIpv4, parseOptions, type ServiceVip } from '@weft/interface';
import { z } from 'zod';
import { LinuxCommandError } from '../errors';
import type { CommandRunner } from '../runner/command-runner';

const ipv4 = z.string().refine(isValidIpv4, 'must be an IPv4 address');

const serviceVipSchema = z
  .object({
    vip: ipv4,
    backends: z.array(z.object({ ip: ipv4, state: z.enum(['up', 'draining']) }).passthrough()).max(4096),
  })
  .passthrough();

/** @internal Validates a VIP and returns it with canonical addresses, backends sorted by address and without duplicates (the first state wins). */
export function parseServiceVip(vip: ServiceVip, what: string): ServiceVip {
  parseOptions(serviceVipSchema, vip, what);
  const seen = new Map<string, 'up' | 'draining'>();
  for (const b of vip.backends) {
    const ip = canonicalIp(b.ip);
    if (!seen.has(ip)) seen.set(ip, b.state);
  }
  const backends = [...seen].map(([ip, state]) => ({ ip, state })).sort((a, b) => ipOrder(a.ip, b.ip));
  return { vip: canonicalIp(vip.vip), backends };
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function ipOrder(a: string, b: string): number {
  return ipNumber(a) - ipNumber(b);
}

/** `<network namespace name>-svc`: the nftables table (family `ip`) holding a network's VIPs in each of its containers' namespaces. */
export function serviceTableName(networkNamespace: string): string {
  return `${networkNamespace}-svc`;
}

/** The fixed seed of the per-flow hash (so a flow's backend does not depend on when the table was written). */
const HASH_SEED = 0x77656674;

/**
 * The table of one network's VIPs in a container's namespace, as an
 * `nft -f` script that replaces it atomically (an empty `vips` deletes it):
 * - chain `nat` (hook `output`, priority −100): per VIP with `up` backends,
 *   `ip daddr VIP dnat to jhash ip saddr . th sport . th dport mod N map
 *   { 0 : B0, … }` — a new flow (the first packet of a conntrack entry)
 *   goes to the up backend its hash picks; later packets follow the
 *   conntrack entry, so a `draining` backend (not in the map) keeps its
 *   flows and gets no new one, as kube-proxy's nftables mode does;
 * - chain `filter` (hook `output`, priority 0): a VIP whose backends are all
 *   draining rejects new flows (what reaches it was not translated).
 */
export function serviceTableScript(table: string, vips: readonly ServiceVip[]): string {
  const lines = [`table ip ${table} { }`, `delete table ip ${table}`];
  if (vips.length === 0) return `${lines.join('\n')}\n`;
  const nat: string[] = [];
  const reject: string[] = [];
  for (const v of [...vips].sort((a, b) => ipOrder(a.vip, b.vip))) {
    const up = v.backends.filter((b) => b.state === 'up').map((b) => b.ip);
    if (up.length === 0) {
      reject.push(`    ip daddr ${v.vip} counter reject comment "weft vip ${v.vip}"`);
      continue;
    }
    const map = up.map((ip, i) => `${i} : ${ip}`).join(', ');
    nat.push(`    ip daddr ${v.vip} counter dnat to jhash ip saddr . th sport . th dport mod ${up.length} seed 0x${HASH_SEED.toString(16)} map { ${map} } comment "weft vip ${v.vip}"`);
  }
  lines.push(
    `table ip ${table} {`,
    '  chain nat {',
    '    type nat hook output priority -100; policy accept;',
    ...nat,
    '  }',
    '  chain filter {',
    '    type filter hook output priority 0; policy accept;',
    ...reject,
    '  }',
    '}',
  );
  return `${lines.join('\n')}\n`;
}

/** A VIP as read back from a container's table: its VIP and the up backends in map order (none: rejecting). */
export interface VipRules {
  readonly vip: string;
  readonly up: readonly string[];
}

interface NftRule {
  rule?: { family?: string; table?: string; chain?: string; comment?: string; expr?: unknown[] };
  table?: { family?: string; name?: string };
}

/** The up backends of each VIP a table desired for `vips` must hold, by VIP order. */
export function expectedVipRules(vips: readonly ServiceVip[]): VipRules[] {
  return [...vips].sort((a, b) => ipOrder(a.vip, b.vip)).map((v) => ({ vip: v.vip, up: v.backends.filter((b) => b.state === 'up').map((b) => b.ip) }));
}

/**
 * Reads `nft -j list table ip <table>` back into {@link VipRules} (by VIP
 * order), or undefined when the output has no such table. A rule that is
 * not one this module writes is reported with VIP `?`.
 */
export function parseServiceTable(json: unknown, table: string): VipRules[] | undefined {
  const items = ((json as { nftables?: NftRule[] })?.nftables ?? []) as NftRule[];
  if (!items.some((i) => i.table?.name === table && i.table.family === 'ip')) return undefined;
  const out: VipRules[] = [];
  for (const { rule } of items) {
    if (rule === undefined || rule.table !== table || rule.family !== 'ip') continue;
    const m = /^weft vip (\d+\.\d+\.\d+\.\d+)$/.exec(rule.comment ?? '');
    if (m === null) {
      out.push({ vip: '?', up: [] });
      continue;
    }
    const dnat = (rule.expr ?? []).find((e) => typeof e === 'object' && e !== null && 'dnat' in e) as { dnat?: { addr?: { map?: { data?: { set?: [number, string][] } } } } } | undefined;
    const set = dnat?.dnat?.addr?.map?.data?.set ?? [];
    const up = [...set].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    if (rule.chain === 'nat' && dnat !== undefined) out.push({ vip: m[1]!, up });
    else if (rule.chain === 'filter' && dnat === undefined) out.push({ vip: m[1]!, up: [] });
    else out.push({ vip: '?', up: [] });
  }
  return out.sort((a, b) => (a.vip === '?' ? -1 : b.vip === '?' ? 1 : ipOrder(a.vip, b.vip)));
}

/** Whether two read-backs are equal. */
export function sameVipRules(a: readonly VipRules[], b: readonly VipRules[]): boolean {
  return a.length === b.length && a.every((x, i) => x.vip === b[i]!.vip && x.up.length === b[i]!.up.length && x.up.every((ip, j) => ip === b[i]!.up[j]));
}

/** A flow from this container through `vip` to `backend` (conntrack: original destination the VIP, reply source the backend). */
export interface FlowPin {
  readonly vip: string;
  /** Undefined: every flow to the VIP. */
  readonly backend?: string;
}

/**
 * Writes a container's table (and, in the same process, deletes the
 * conntrack entries of `flush`, so the flows of a removed backend move at
 * once; `conntrack -D` exits non-zero when nothing matched, which is
 * fine): 1 process, `sh -c` in the container's namespace with the script on
 * its stdin.
 */
export async function writeServiceTable(runner: CommandRunner, sandbox: string, script: string, flush: readonly FlowPin[]): Promise<void> {
  const deletes = flush.map((f) => `conntrack -D -d ${f.vip}${f.backend !== undefined ? ` -r ${f.backend}` : ''} >/dev/null 2>&1 || :`);
  await runner.run(['sh', '-c', ['set -e', 'nft -f -', ...deletes].join('\n'), 'weft-services'], { netns: sandbox }, script);
}

/**
 * Runs a container's `ip -batch` and then writes its services table in one
 * process (an attach on a network with VIPs stays at one process in the
 * container's namespace).
 */
export async function ipBatchThenServiceTable(runner: CommandRunner, sandbox: string, ipLines: readonly string[], script: string): Promise<void> {
  const ip = ipLines.join('\n');
  await runner.run(['sh', '-c', 'set -e\nprintf "%s\\n" "$1" | ip -batch -\nnft -f -', 'weft-attach', ip], { netns: sandbox }, script);
}

/**
 * Reads a container's table back (1 process): undefined when it has none.
 * @throws LinuxCommandError when the namespace cannot be entered or nft fails otherwise.
 */
export async function readServiceTable(runner: CommandRunner, sandbox: string, table: string): Promise<VipRules[] | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await runner.run(['nft', '-j', 'list', 'table', 'ip', table], { netns: sandbox }));
  } catch (err) {
    if (err instanceof LinuxCommandError && err.exitCode === 1 && /No such file or directory/.test(err.stderr)) return undefined;
    throw err;
  }
  return parseServiceTable(JSON.parse(stdout), table);
}

/**
 * The flows to flush when a VIP's backends go from `before` to `after`:
 * every removed backend's (a draining one stays); every flow of a removed
 * VIP.
 */
export function flowsToFlush(before: ServiceVip | undefined, after: ServiceVip): FlowPin[] {
  if (before === undefined) return [];
  if (after.backends.length === 0) return [{ vip: after.vip }];
  const kept = new Set(after.backends.map((b) => b.ip));
  return before.backends.filter((b) => !kept.has(b.ip)).map((b) => ({ vip: after.vip, backend: b.ip }));
}
