import type { CoreContext } from '../node/context';
import { parseRecord } from '../records/codec';
import { endpointRecordSchema, networkRecordSchema, nodeRecordSchema, type NetworkRecord } from '../records/schemas';
import { resolveNetwork } from './resolve-network';

/** A network's settings, as `listNetworks` returns them. */
export interface NetworkInfo {
  readonly id: string;
  readonly name: string;
  readonly driver: 'overlay';
  readonly scope: 'swarm';
  readonly vni: number;
  readonly subnet: string;
  readonly gateway: string | null;
  /** Overlay MTU in bytes. */
  readonly mtu: number;
  readonly encrypted: boolean;
  readonly attachable: boolean;
  readonly internal: boolean;
  readonly ingress: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly createdAt: string;
  /** The address each node's embedded DNS answers at on this network (reserved, never given to an endpoint); null when it has none. */
  readonly dnsAddress: string | null;
}

/** `docker network inspect` output for one network (the fields Swarm's overlay driver fills). */
export interface NetworkInspect {
  readonly Name: string;
  readonly Id: string;
  readonly Created: string;
  readonly Scope: 'swarm';
  readonly Driver: 'overlay';
  readonly EnableIPv6: boolean;
  readonly IPAM: { readonly Driver: 'default'; readonly Config: readonly { readonly Subnet: string; readonly Gateway?: string; readonly AuxiliaryAddresses?: Readonly<Record<string, string>> }[] };
  readonly Internal: boolean;
  readonly Attachable: boolean;
  readonly Ingress: boolean;
  /** Endpoints by id, as Docker lists containers. */
  readonly Containers: Readonly<
    Record<string, { readonly Name: string; readonly EndpointID: string; readonly MacAddress: string; readonly IPv4Address: string; readonly IPv6Address: string; readonly Node: string }>
  >;
  /** Driver options: the VNI list, the MTU, and `encrypted` on encrypted networks. */
  readonly Options: Readonly<Record<string, string>>;
  readonly Labels: Readonly<Record<string, string>>;
  /** The nodes that currently have endpoints on the network, with their underlay address. */
  readonly Peers: readonly { readonly Name: string; readonly IP: string }[];
}

/** A network record's public settings. */
export function networkInfo(r: NetworkRecord): NetworkInfo {
  return {
    id: r.id,
    name: r.name,
    driver: r.driver,
    scope: r.scope,
    vni: r.vni,
    subnet: r.subnet,
    gateway: r.gateway,
    mtu: r.mtu,
    encrypted: r.encrypted,
    attachable: r.attachable,
    internal: r.internal,
    ingress: r.ingress,
    labels: { ...r.labels },
    createdAt: r.createdAt,
    dnsAddress: r.dnsAddress ?? null,
  };
}

/** Every network, by name. */
export async function listNetworks(ctx: CoreContext): Promise<NetworkInfo[]> {
  const r = await ctx.store.range({ prefix: ctx.keys.networks() });
  const out: NetworkInfo[] = [];
  for (const kv of r.kvs) {
    const rec = parseRecord(networkRecordSchema, kv);
    if (rec !== undefined) out.push(networkInfo(rec));
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One network in Docker's vocabulary, with its endpoints and peers as the
 * store has them now.
 * @throws NetworkNotFoundError
 */
export async function inspectNetwork(ctx: CoreContext, nameOrId: string): Promise<NetworkInspect> {
  const net = (await resolveNetwork(ctx, nameOrId)).value;
  const [eps, nodes] = await Promise.all([ctx.store.range({ prefix: ctx.keys.endpoints(net.id) }), ctx.store.range({ prefix: ctx.keys.nodes() })]);
  const nodeById = new Map<string, { id: string; address: string }>();
  for (const kv of nodes.kvs) {
    const n = parseRecord(nodeRecordSchema, kv);
    if (n !== undefined) nodeById.set(n.id, { id: n.id, address: n.dataPlane.address });
  }
  const containers: Record<string, NetworkInspect['Containers'][string]> = {};
  const peers = new Map<string, { Name: string; IP: string }>();
  for (const kv of eps.kvs) {
    const ep = parseRecord(endpointRecordSchema, kv);
    if (ep === undefined) continue;
    const v6 = ep.ip.includes(':');
    containers[ep.id] = {
      Name: ep.name,
      EndpointID: ep.id,
      MacAddress: ep.mac,
      IPv4Address: v6 ? '' : `${ep.ip}/${ep.prefixLength}`,
      IPv6Address: v6 ? `${ep.ip}/${ep.prefixLength}` : '',
      Node: ep.nodeId,
    };
    const node = nodeById.get(ep.nodeId);
    if (node !== undefined) peers.set(node.id, { Name: node.id, IP: node.address });
  }
  return {
    Name: net.name,
    Id: net.id,
    Created: net.createdAt,
    Scope: 'swarm',
    Driver: 'overlay',
    EnableIPv6: net.subnet.includes(':'),
    IPAM: {
      Driver: 'default',
      Config: [
        {
          Subnet: net.subnet,
          ...(net.gateway !== null ? { Gateway: net.gateway } : {}),
          ...(net.dnsAddress !== undefined ? { AuxiliaryAddresses: { dns: net.dnsAddress } } : {}),
        },
      ],
    },
    Internal: net.internal,
    Attachable: net.attachable,
    Ingress: net.ingress,
    Containers: containers,
    Options: {
      'com.docker.network.driver.overlay.vxlanid_list': String(net.vni),
      'com.docker.network.driver.mtu': String(net.mtu),
      ...(net.encrypted ? { encrypted: '' } : {}),
    },
    Labels: { ...net.labels },
    Peers: [...peers.values()].sort((a, b) => (a.Name < b.Name ? -1 : 1)),
  };
}
