import { parseIpv4, type ServiceBackend, type ServiceVip } from '@weft/interface';
import type { PeerEndpointRecord } from '../reconcile/desired-state';
import type { NetworkRecord, ServiceBackendRecord, ServiceRecord } from '../records/schemas';
import type { DnsNameRecords, DnsScope } from './dns-scope';

/**
 * The records one network's names come from: its endpoint records (name,
 * aliases, address), the services on it and its backend entries. Everything
 * the discovery layer answers is a pure function of these — no DNS records
 * are stored anywhere, so none can go stale (moby#42833).
 */
export interface DiscoveryRecords {
  readonly network: NetworkRecord;
  /** The network's endpoints, by id. */
  readonly endpoints: ReadonlyMap<string, Pick<PeerEndpointRecord, 'id' | 'ip' | 'name' | 'aliases'>>;
  /** Every service record of the cluster (those on other networks are ignored). */
  readonly services: Iterable<ServiceRecord>;
  /** The network's backend entries, keyed `<endpointId>/<serviceId>`. */
  readonly backends: ReadonlyMap<string, ServiceBackendRecord>;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One service's backends on a network: those whose endpoint exists, with their address and state, sorted by address. */
function backendsOf(records: DiscoveryRecords): Map<string, ServiceBackend[]> {
  const out = new Map<string, ServiceBackend[]>();
  for (const [key, entry] of records.backends) {
    const slash = key.indexOf('/');
    if (slash < 0) continue;
    const ep = records.endpoints.get(key.slice(0, slash));
    if (ep === undefined) continue; // detached: gone from every answer with its record
    const serviceId = key.slice(slash + 1);
    const list = out.get(serviceId);
    const b: ServiceBackend = { ip: ep.ip, state: entry.state };
    if (list) list.push(b);
    else out.set(serviceId, [b]);
  }
  for (const list of out.values()) list.sort((a, b) => byText(a.ip, b.ip));
  return out;
}

/** The services that are on `networkId`, with their VIP there (null in `dnsrr` mode). */
function servicesOn(records: DiscoveryRecords): { service: ServiceRecord; vip: string | null }[] {
  const out: { service: ServiceRecord; vip: string | null }[] = [];
  for (const s of records.services) {
    const at = s.networks.find((n) => n.networkId === records.network.id);
    if (at !== undefined) out.push({ service: s, vip: at.vip });
  }
  return out;
}

/**
 * The VIPs a node's data plane balances on the network: one per `vip`-mode
 * service with at least one backend; every backend whose endpoint exists,
 * `up` or `draining` (pinned flows finish on a draining one), sorted by address.
 */
export function serviceVipsOf(records: DiscoveryRecords): ServiceVip[] {
  const backends = backendsOf(records);
  const out: ServiceVip[] = [];
  for (const { service, vip } of servicesOn(records)) {
    if (vip === null || service.mode !== 'vip') continue;
    const list = backends.get(service.id);
    if (list !== undefined && list.length > 0) out.push({ vip, backends: list });
  }
  return out.sort((a, b) => byText(a.vip, b.vip));
}

const EMPTY: readonly string[] = [];

function ipv4Range(subnet: string): { base: number; mask: number } | undefined {
  if (subnet.includes(':')) return undefined;
  const [addr, bits] = subnet.split('/') as [string, string];
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (parseIpv4(addr) & mask) >>> 0, mask };
}

/**
 * A network's DNS scope, indexed once (the caller rebuilds it when the
 * records change):
 * - each endpoint's name and aliases → its address;
 * - each service on the network: `vip` mode → its VIP on this network;
 *   `dnsrr` → its `up` backends' addresses, rotating; `tasks.<service>` →
 *   its `up` backends' addresses, rotating (draining backends are left out
 *   of every answer);
 * - PTR: an endpoint's address → its name; a VIP → its service's name; any
 *   other address of the subnet → no name (NXDOMAIN, answered locally).
 * A service name shadows an endpoint name or alias that is the same.
 * Names compare case-insensitively (indexed lowercase).
 */
export function dnsScopeOf(records: DiscoveryRecords): DnsScope {
  const names = new Map<string, DnsNameRecords>();
  const reverse = new Map<string, string[]>();
  const add = (name: string, ip: string): void => {
    const key = name.toLowerCase();
    const cur = names.get(key);
    if (cur === undefined) names.set(key, { ipv4: [ip], ipv6: EMPTY, rotate: false });
    else if (!cur.ipv4.includes(ip)) names.set(key, { ...cur, ipv4: [...cur.ipv4, ip] });
  };
  const endpoints = [...records.endpoints.values()].sort((a, b) => byText(a.id, b.id));
  for (const ep of endpoints) {
    if (ep.ip.includes(':')) continue;
    add(ep.name, ep.ip);
    for (const alias of ep.aliases) add(alias, ep.ip);
    reverse.set(ep.ip, [ep.name]);
  }
  const backends = backendsOf(records);
  for (const { service, vip } of servicesOn(records)) {
    const up = (backends.get(service.id) ?? []).filter((b) => b.state === 'up').map((b) => b.ip);
    const name = service.name.toLowerCase();
    if (service.mode === 'vip' && vip !== null) {
      names.set(name, { ipv4: [vip], ipv6: EMPTY, rotate: false });
      reverse.set(vip, [service.name]);
    } else {
      names.set(name, { ipv4: up, ipv6: EMPTY, rotate: true });
    }
    names.set(`tasks.${name}`, { ipv4: up, ipv6: EMPTY, rotate: true });
  }
  const range = ipv4Range(records.network.subnet);
  return {
    networkId: records.network.id,
    lookup: (name) => names.get(name),
    reverse: (ip) => {
      const known = reverse.get(ip);
      if (known !== undefined) return known;
      if (range === undefined || ip.includes(':')) return undefined;
      let v: number;
      try {
        v = parseIpv4(ip);
      } catch {
        return undefined;
      }
      return ((v & range.mask) >>> 0) === range.base ? EMPTY : undefined;
    },
  };
}
