import type {
  LocalEndpointSpec,
  NetworkEncryption,
  NetworkSpec,
  PeerNode,
  ProgrammedNetwork,
  ProgrammedState,
  RemoteEndpointSpec,
  ServiceVip,
} from '@weft/interface';
import type { EndpointRecord, KeysRecord, NetworkRecord, NodeRecord } from '../records/schemas';
import type { EndpointWant } from './plan';

/**
 * The fields of another node's endpoint record that this node's data plane
 * programs (a remote endpoint: FDB, neighbour and flood entries). A view may
 * keep only these for the networks it is active on: it holds one per
 * endpoint of each of them.
 */
export type PeerEndpointRecord = Pick<EndpointRecord, 'id' | 'ip' | 'mac' | 'nodeId'> & {
  /** Name and aliases, for the DNS view (discovery). */
  readonly name: string;
  readonly aliases: readonly string[];
};

/** What a node knows of the shared state, as far as its data plane is concerned. */
export interface ClusterView {
  /** Every network's record, by id. */
  readonly networks: ReadonlyMap<string, NetworkRecord>;
  /** Every node's record, by id. */
  readonly nodes: ReadonlyMap<string, NodeRecord>;
  /** This node's own endpoints (`node-endpoints/<me>/`), by id. */
  readonly localEndpoints: ReadonlyMap<string, EndpointRecord>;
  /** Endpoint records (the fields a peer's data plane needs, at least) of the networks this node is active on, by network id then endpoint id. */
  readonly networkEndpoints: ReadonlyMap<string, ReadonlyMap<string, PeerEndpointRecord>>;
  /** Key records of the encrypted networks this node is active on, by network id. */
  readonly keys: ReadonlyMap<string, KeysRecord>;
  /** Service VIPs per network (discovery); empty until discovery writes them. */
  readonly vips?: ReadonlyMap<string, readonly ServiceVip[]>;
  /** Node-local DNS address per network (discovery). */
  readonly dnsAddresses?: ReadonlyMap<string, string>;
  /** One of this node's own endpoints, as `localEndpoints.get(id)` but without building that map (a view may answer it cheaply). */
  localEndpoint?(endpointId: string): EndpointRecord | undefined;
}

/** Desired state has the shape of what a data plane reads back, so the two compare field by field. */
export type DesiredState = ProgrammedState;

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Decodes a key record's base64url secrets into the data plane's shape. */
export function encryptionOf(keys: KeysRecord): NetworkEncryption {
  return {
    suite: keys.suite,
    keys: keys.keys
      .map((k) => ({ generation: k.generation, secret: new Uint8Array(Buffer.from(k.secret, 'base64url')) }))
      .sort((a, b) => a.generation - b.generation),
    sendGeneration: keys.sendGeneration,
  };
}

/** The network as the data plane programs it, or undefined when it cannot be programmed yet (an encrypted network whose keys are unknown). */
export function networkSpecOf(net: NetworkRecord, keys: KeysRecord | undefined): NetworkSpec | undefined {
  const base = {
    id: net.id,
    name: net.name,
    vni: net.vni,
    mtu: net.mtu,
    subnet: net.subnet,
    internal: net.internal,
    ...(net.gateway !== null ? { gateway: net.gateway } : {}),
  };
  if (!net.encrypted) return base;
  // Refuse cleartext by construction: an encrypted network is never programmed without its keys.
  if (keys === undefined) return undefined;
  return { ...base, encryption: encryptionOf(keys) };
}

/** The peer made last from each node record (see {@link peerOf}). */
const peers = new WeakMap<NodeRecord, PeerNode>();

/**
 * A node record's data-plane facts as a flood/FDB target. The same object
 * for the same record while its facts are unchanged, so every remote
 * endpoint of a node — in one desired state, across passes, and in core's
 * mirror of what it programmed — shares one peer instead of holding a copy.
 */
export function peerOf(node: NodeRecord): PeerNode {
  const dp = node.dataPlane;
  const known = peers.get(node);
  if (
    known !== undefined &&
    known.id === node.id &&
    known.address === dp.address &&
    known.vxlanPort === dp.vxlanPort &&
    known.encryptedPort === dp.encryptedPort &&
    known.epoch === dp.epoch
  ) {
    return known;
  }
  const peer: PeerNode = { id: node.id, address: dp.address, vxlanPort: dp.vxlanPort, encryptedPort: dp.encryptedPort, epoch: dp.epoch };
  peers.set(node, peer);
  return peer;
}

/** A local endpoint record as the data plane programs it. */
export function localSpec(ep: EndpointRecord): LocalEndpointSpec {
  return {
    id: ep.id,
    name: ep.name,
    ip: ep.ip,
    prefixLength: ep.prefixLength,
    mac: ep.mac,
    ...(ep.sandbox !== undefined ? { sandbox: ep.sandbox } : {}),
    ...(ep.interfaceName !== undefined ? { interfaceName: ep.interfaceName } : {}),
    ...(ep.resolvConf !== undefined ? { resolvConf: ep.resolvConf } : {}),
  };
}

/**
 * The data-plane state node `me` should have: a pure function of the records.
 * Lazy activation: only networks with at least one local endpoint appear;
 * each holds its local endpoints, every remote endpoint of that network whose
 * node is known, one flood entry per distinct remote node, and the network's
 * VIPs and DNS address.
 */
export function desiredState(view: ClusterView, me: string, only?: ReadonlySet<string>): DesiredState {
  const localByNetwork = new Map<string, EndpointRecord[]>();
  for (const ep of view.localEndpoints.values()) {
    if (ep.nodeId !== me) continue;
    const list = localByNetwork.get(ep.networkId);
    if (list) list.push(ep);
    else localByNetwork.set(ep.networkId, [ep]);
  }
  const networks: ProgrammedNetwork[] = [];
  for (const [networkId, locals] of localByNetwork) {
    if (only !== undefined && !only.has(networkId)) continue;
    const net = view.networks.get(networkId);
    if (net === undefined) continue;
    const spec = networkSpecOf(net, view.keys.get(networkId));
    if (spec === undefined) continue;
    const remote: RemoteEndpointSpec[] = [];
    const flood = new Map<string, PeerNode>();
    for (const ep of view.networkEndpoints.get(networkId)?.values() ?? []) {
      if (ep.nodeId === me) continue;
      const node = view.nodes.get(ep.nodeId);
      if (node === undefined) continue;
      const peer = peerOf(node);
      remote.push({ id: ep.id, ip: ep.ip, mac: ep.mac, peer });
      flood.set(peer.id, peer);
    }
    const vips = [...(view.vips?.get(networkId) ?? [])].filter((v) => v.backends.length > 0).sort((a, b) => (a.vip < b.vip ? -1 : a.vip > b.vip ? 1 : 0));
    const dnsAddress = view.dnsAddresses?.get(networkId);
    networks.push({
      spec,
      local: locals.map(localSpec).sort(byId),
      remote: remote.sort(byId),
      flood: [...flood.values()].sort(byId),
      vips,
      ...(dnsAddress !== undefined ? { dnsAddress } : {}),
    });
  }
  return { networks: networks.sort((a, b) => (a.spec.id < b.spec.id ? -1 : a.spec.id > b.spec.id ? 1 : 0)) };
}

/**
 * What node `me` should program for one endpoint of an active network (the
 * same rule as {@link desiredState}, for one record): its remote endpoint
 * spec; `{ local }` when it is one of this node's own (its record and its
 * `node-endpoints` entry both present); undefined when it should not be
 * programmed (gone, its node unknown, or one of this node's own not yet
 * complete).
 */
export function desiredEndpoint(view: ClusterView, me: string, networkId: string, endpointId: string): EndpointWant {
  const ep = view.networkEndpoints.get(networkId)?.get(endpointId);
  if (ep === undefined) return undefined;
  if (ep.nodeId === me) {
    const own = view.localEndpoint !== undefined ? view.localEndpoint(endpointId) : view.localEndpoints.get(endpointId);
    return own !== undefined && own.nodeId === me && own.networkId === networkId ? { local: localSpec(own) } : undefined;
  }
  const node = view.nodes.get(ep.nodeId);
  if (node === undefined) return undefined;
  return { id: ep.id, ip: ep.ip, mac: ep.mac, peer: peerOf(node) };
}
