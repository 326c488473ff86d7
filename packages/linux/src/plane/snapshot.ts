import { canonicalIp, formatMac, parseMac } from '@weft/interface';
import { BRIDGE_NAME, BRIDGE_PORT_PATTERN, VXLAN_NAME } from './names';

/** The kernel VXLAN device of a network namespace, as read back. */
export interface VxlanState {
  readonly vni: number;
  readonly port: number;
  readonly local: string | undefined;
  readonly learning: boolean;
  readonly proxy: boolean;
  readonly mtu: number;
  readonly master: string | undefined;
  readonly up: boolean;
  /** `gso_max_segs` (1 on a network whose frames cross the encrypted relay). */
  readonly gsoMaxSegs?: number;
}

/** A bridge-side veth of a local endpoint, as read back. */
export interface PortState {
  readonly name: string;
  readonly mtu: number;
  readonly master: string | undefined;
  readonly up: boolean;
  /** Its ifalias: the endpoint id, URI-encoded. */
  readonly alias: string | undefined;
}

/** A self (VXLAN) FDB entry on `vxlan0`: `mac` behind the underlay address `dst` (`port` when not the device's dstport). */
export interface KernelFdbEntry {
  readonly mac: string;
  readonly dst: string;
  readonly port: number | undefined;
  readonly permanent: boolean;
}

/** A neighbour entry on `vxlan0`. */
export interface KernelNeighbourEntry {
  readonly ip: string;
  readonly mac: string;
  readonly permanent: boolean;
}

/** What one Weft-owned network namespace holds, read back with `ip -json` and `bridge -json`. */
export interface NamespaceSnapshot {
  readonly name: string;
  readonly bridge: { readonly mtu: number; readonly up: boolean; readonly alias: string | undefined } | undefined;
  readonly vxlan: VxlanState | undefined;
  readonly ports: readonly PortState[];
  readonly fdb: readonly KernelFdbEntry[];
  readonly neighbours: readonly KernelNeighbourEntry[];
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const isUp = (l: Json): boolean => Array.isArray(l.flags) && l.flags.includes('UP');

function canonMac(text: string): string | undefined {
  try {
    return formatMac(parseMac(text));
  } catch {
    return undefined;
  }
}

function canonIpOrUndefined(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return canonicalIp(text);
  } catch {
    return undefined;
  }
}

/**
 * Builds a {@link NamespaceSnapshot} from the JSON of `ip -json -d link show`,
 * `bridge -json fdb show dev vxlan0` and `ip -json neigh show dev vxlan0` run
 * in the namespace. Unknown or malformed records are ignored (this is a
 * read of the kernel, not of untrusted input).
 */
export function parseSnapshot(name: string, links: unknown, fdb: unknown, neighbours: unknown): NamespaceSnapshot {
  let bridge: NamespaceSnapshot['bridge'];
  let vxlan: VxlanState | undefined;
  const ports: PortState[] = [];
  for (const l of arr(links)) {
    const ifname = str(l.ifname);
    const info = isObj(l.linkinfo) ? l.linkinfo : {};
    const kind = str(info.info_kind);
    const mtu = num(l.mtu) ?? 0;
    if (ifname === BRIDGE_NAME && kind === 'bridge') {
      bridge = { mtu, up: isUp(l), alias: str(l.ifalias) };
    } else if (ifname === VXLAN_NAME && kind === 'vxlan') {
      const d = isObj(info.info_data) ? info.info_data : {};
      vxlan = {
        vni: num(d.id) ?? -1,
        port: num(d.port) ?? -1,
        local: canonIpOrUndefined(str(d.local)),
        learning: d.learning !== false,
        proxy: d.proxy === true,
        mtu,
        master: str(l.master),
        up: isUp(l),
        gsoMaxSegs: num(l.gso_max_segs),
      };
    } else if (ifname !== undefined && kind === 'veth' && BRIDGE_PORT_PATTERN.test(ifname)) {
      ports.push({ name: ifname, mtu, master: str(l.master), up: isUp(l), alias: str(l.ifalias) });
    }
  }
  const fdbEntries: KernelFdbEntry[] = [];
  for (const e of arr(fdb)) {
    const flags = Array.isArray(e.flags) ? e.flags : [];
    const dst = canonIpOrUndefined(str(e.dst));
    const mac = canonMac(str(e.mac) ?? '');
    if (!flags.includes('self') || dst === undefined || mac === undefined) continue;
    fdbEntries.push({ mac, dst, port: num(e.port), permanent: str(e.state) === 'permanent' });
  }
  const neighbourEntries: KernelNeighbourEntry[] = [];
  for (const n of arr(neighbours)) {
    const ip = canonIpOrUndefined(str(n.dst));
    const mac = canonMac(str(n.lladdr) ?? '');
    if (ip === undefined || mac === undefined) continue;
    const state = Array.isArray(n.state) ? n.state : [];
    neighbourEntries.push({ ip, mac, permanent: state.includes('PERMANENT') });
  }
  return { name, bridge, vxlan, ports, fdb: fdbEntries, neighbours: neighbourEntries };
}
