/**
 * Egress, the pure part: the egress subnet and its addresses, the MACs that
 * carry a container's egress address on its host-side port, the `ip` lines
 * of a container's egress pair, the nftables script of the masquerade table
 * and the parsers of what the host namespace holds. The stateful side is
 * `EgressGateway` (egress-gateway.ts).
 */
import { formatIpv4, parseIpv4 } from '@weft/interface';

/** An IPv4 subnet: `base` (network address as a 32-bit number) and prefix length. */
export interface Ipv4Net {
  readonly base: number;
  readonly prefixLength: number;
}

/** The egress subnet with its gateway (the bridge's address: the first host address). */
export interface EgressSubnet extends Ipv4Net {
  /** `a.b.c.d/len`. */
  readonly cidr: string;
  /** The gateway bridge's address, the containers' default route. */
  readonly gateway: string;
}

/** Parses `a.b.c.d/len` (already validated) into an {@link EgressSubnet}. */
export function egressSubnet(cidr: string): EgressSubnet {
  const [ip, len] = cidr.split('/');
  const prefixLength = Number(len);
  const base = networkOf(parseIpv4(ip!), prefixLength);
  return { base, prefixLength, cidr: `${formatIpv4(base)}/${prefixLength}`, gateway: formatIpv4(base + 1) };
}

/** The network address of `ip` for a prefix length. */
export function networkOf(ip: number, prefixLength: number): number {
  const size = 2 ** (32 - prefixLength);
  return ip - (ip % size);
}

/** True when two IPv4 subnets share an address. */
export function overlaps(a: Ipv4Net, b: Ipv4Net): boolean {
  const len = Math.min(a.prefixLength, b.prefixLength);
  return networkOf(a.base, len) === networkOf(b.base, len);
}

/** True when `ip` (dotted) is a host address of `net` other than its gateway (not the network, gateway or broadcast address). */
export function isContainerAddress(net: EgressSubnet, ip: string): boolean {
  let v: number;
  try {
    v = parseIpv4(ip);
  } catch {
    return false;
  }
  const last = net.base + 2 ** (32 - net.prefixLength) - 1;
  return v > net.base + 1 && v < last;
}

/** The lowest container address of `net` not in `used`, or undefined when every one is taken. */
export function lowestFree(net: EgressSubnet, used: ReadonlySet<string>): string | undefined {
  const last = net.base + 2 ** (32 - net.prefixLength) - 1;
  for (let v = net.base + 2; v < last; v++) {
    const ip = formatIpv4(v);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

/** The defaults tried in order when no subnet is configured: 172.18.0.0/16 (Docker's `docker_gwbridge`) … 172.31.0.0/16. */
export const DEFAULT_EGRESS_SUBNETS: readonly string[] = Array.from({ length: 14 }, (_, i) => `172.${18 + i}.0.0/16`);

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * `02:77:` and the four bytes of `ip`: the MAC of a host-side egress port
 * (and of the bridge, from the gateway address). The port's MAC is how the
 * container's egress address is read back from the host namespace alone, so
 * a restarted plane adopts the addresses live containers have.
 */
export function egressMac(ip: string): string {
  const v = parseIpv4(ip);
  return `02:77:${hex2(v >>> 24)}:${hex2((v >>> 16) & 255)}:${hex2((v >>> 8) & 255)}:${hex2(v & 255)}`;
}

/** The address an {@link egressMac} carries, or undefined for another MAC. */
export function addressOfEgressMac(mac: string | undefined): string | undefined {
  const m = /^02:77:([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/.exec((mac ?? '').toLowerCase());
  return m ? [m[1], m[2], m[3], m[4]].map((b) => parseInt(b!, 16)).join('.') : undefined;
}

/** What a container's egress pair is made of. */
export interface EgressPortSpec {
  /** Host-side port name (`egressPortName`). */
  readonly port: string;
  /** The container's egress address. */
  readonly address: string;
  readonly subnet: EgressSubnet;
  /** The container-side interface name (`eth1`). */
  readonly interfaceName: string;
  /** Path of the host namespace. */
  readonly hostNetns: string;
  /** ifindex of the gateway bridge in the host namespace. */
  readonly bridgeIndex: number;
  /** MTU of both ends (bytes). */
  readonly mtu: number;
}

/**
 * Sandbox (`ip -batch` run in the container's namespace, after its overlay
 * lines): creates the egress veth pair from inside the container — the
 * host-side end created directly in the host namespace (`netns`) and
 * enslaved there to the gateway bridge by ifindex (`master if<N>`: the
 * kernel resolves a new device's master in the device's own namespace), the
 * peer here named `interfaceName` — then gives it the address and the
 * default route via the gateway. So an attach needs no process in the host
 * namespace.
 */
export function egressSandboxLines(s: EgressPortSpec): string[] {
  return [
    `link add ${s.port} netns ${s.hostNetns} address ${egressMac(s.address)} mtu ${s.mtu} master if${s.bridgeIndex} up type veth peer name ${s.interfaceName} mtu ${s.mtu}`,
    `addr replace ${s.address}/${s.subnet.prefixLength} dev ${s.interfaceName}`,
    `link set ${s.interfaceName} up`,
    `route replace default via ${s.subnet.gateway} dev ${s.interfaceName}`,
  ];
}

/** Host namespace: the gateway bridge with its fixed MAC (from the gateway address), alias, MTU and address, up. */
export function gatewayAddLines(bridge: string, alias: string, subnet: EgressSubnet, mtu: number): string[] {
  return [
    `link add ${bridge} address ${egressMac(subnet.gateway)} mtu ${mtu} type bridge`,
    `link set ${bridge} alias ${alias}`,
    `addr add ${subnet.gateway}/${subnet.prefixLength} dev ${bridge}`,
    `link set ${bridge} up`,
  ];
}

const MASQUERADE = 'weft egress masquerade';
const NO_ICC = 'weft egress no icc';

/** The rule comments the table must hold for `subnet`, as `family/chain/comment`: what {@link parseEgressTables} returns when the table is right. */
export function expectedEgressRules(subnet: EgressSubnet): string[] {
  return [`ip/postrouting/${MASQUERADE} ${subnet.cidr}`, `ip/forward/${NO_ICC}`, `bridge/forward/${NO_ICC}`].sort();
}

/**
 * The `nft -f` script of the egress tables (named `table`, families `ip`
 * and `bridge`), replacing them atomically; with `subnet` undefined it only
 * removes them.
 * - `ip` `postrouting` (NAT): the subnet leaving by any interface but the
 *   bridge is masqueraded (source = the outgoing interface's address).
 * - `ip` `forward`: nothing routed from the bridge back into it (a
 *   container cannot reach another through the host).
 * - `bridge` `forward`: nothing bridged between two ports of the gateway
 *   bridge (ports are `<bridge>*`): containers cannot reach each other over
 *   it, as Docker disables ICC on `docker_gwbridge`.
 */
export function egressTableScript(table: string, bridge: string, subnet: EgressSubnet | undefined): string {
  const lines = [`table ip ${table} {}`, `delete table ip ${table}`, `table bridge ${table} {}`, `delete table bridge ${table}`];
  if (subnet !== undefined) {
    lines.push(
      `table ip ${table} {`,
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      `    ip saddr ${subnet.cidr} oifname != "${bridge}" counter masquerade comment "${MASQUERADE} ${subnet.cidr}"`,
      '  }',
      '  chain forward {',
      '    type filter hook forward priority filter; policy accept;',
      `    iifname "${bridge}" oifname "${bridge}" counter drop comment "${NO_ICC}"`,
      '  }',
      '}',
      `table bridge ${table} {`,
      '  chain forward {',
      '    type filter hook forward priority filter; policy accept;',
      `    iifname "${bridge}*" oifname "${bridge}*" counter drop comment "${NO_ICC}"`,
      '  }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The egress tables as read back: `family/chain/comment` of each rule (sorted), and the masquerade rule's packet counter. */
export interface EgressTables {
  readonly rules: readonly string[];
  /** Packets the masquerade rule matched (new connections: NAT rules see a flow's first packet). */
  readonly masqueraded: number;
  /** Packets the two no-ICC rules dropped. */
  readonly dropped: number;
}

/** Reads the tables named `table` out of `nft -j list ruleset` output; undefined when neither exists. */
export function parseEgressTables(json: unknown, table: string): EgressTables | undefined {
  const items = (json as { nftables?: unknown[] })?.nftables ?? [];
  let found = false;
  const rules: string[] = [];
  let masqueraded = 0;
  let dropped = 0;
  for (const item of items) {
    const t = (item as { table?: { family?: string; name?: string } }).table;
    if (t !== undefined && t.name === table && (t.family === 'ip' || t.family === 'bridge')) found = true;
    const r = (item as { rule?: { family?: string; table?: string; chain?: string; comment?: string; expr?: unknown[] } }).rule;
    if (r === undefined || r.table !== table || (r.family !== 'ip' && r.family !== 'bridge')) continue;
    rules.push(`${r.family}/${r.chain}/${r.comment ?? ''}`);
    let packets = 0;
    for (const e of r.expr ?? []) packets += (e as { counter?: { packets?: number } }).counter?.packets ?? 0;
    if ((r.comment ?? '').startsWith(MASQUERADE)) masqueraded += packets;
    else if (r.comment === NO_ICC) dropped += packets;
  }
  return found ? { rules: rules.sort(), masqueraded, dropped } : undefined;
}

/** A device of the host namespace, as `ip -json -d addr show` prints it (the fields egress reads). */
export interface HostLink {
  readonly name: string;
  readonly index: number;
  readonly kind: string | undefined;
  readonly master: string | undefined;
  readonly up: boolean;
  readonly mtu: number;
  readonly mac: string | undefined;
  readonly alias: string | undefined;
  /** IPv4 addresses as `a.b.c.d/len`. */
  readonly ipv4: readonly string[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses `ip -json -d addr show` output (a read of the kernel: malformed records are skipped). */
export function parseHostLinks(json: unknown): HostLink[] {
  const out: HostLink[] = [];
  for (const l of Array.isArray(json) ? json.filter(isObj) : []) {
    if (typeof l.ifname !== 'string' || typeof l.ifindex !== 'number') continue;
    const info = isObj(l.linkinfo) ? l.linkinfo : {};
    const addrs = Array.isArray(l.addr_info) ? l.addr_info.filter(isObj) : [];
    out.push({
      name: l.ifname,
      index: l.ifindex,
      kind: typeof info.info_kind === 'string' ? info.info_kind : undefined,
      master: typeof l.master === 'string' ? l.master : undefined,
      up: Array.isArray(l.flags) && l.flags.includes('UP'),
      mtu: typeof l.mtu === 'number' ? l.mtu : 0,
      mac: typeof l.address === 'string' ? l.address : undefined,
      alias: typeof l.ifalias === 'string' ? l.ifalias : undefined,
      ipv4: addrs.filter((a) => a.family === 'inet' && typeof a.local === 'string' && typeof a.prefixlen === 'number').map((a) => `${a.local as string}/${a.prefixlen as number}`),
    });
  }
  return out;
}

/** `a.b.c.d/len` as an {@link Ipv4Net} (its network), or undefined. */
export function ipv4Net(cidr: string): Ipv4Net | undefined {
  const [ip, len] = cidr.split('/');
  try {
    const prefixLength = Number(len);
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) return undefined;
    return { base: networkOf(parseIpv4(ip!), prefixLength), prefixLength };
  } catch {
    return undefined;
  }
}
