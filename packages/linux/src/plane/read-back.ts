import type { LocalEndpointSpec, NetworkSpec, PeerNode, ProgrammedNetwork, RemoteEndpointSpec } from '@weft/interface';
import { decodeAlias } from './diff';
import { FLOOD_MAC, bridgePortName } from './names';
import type { NamespaceSnapshot } from './snapshot';

/** What the plane wants for a network, to put names on what the kernel holds. */
export interface KnownNetwork {
  readonly spec: NetworkSpec;
  readonly local: ReadonlyMap<string, LocalEndpointSpec>;
  readonly remote: ReadonlyMap<string, RemoteEndpointSpec>;
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * One namespace read back in the seam's shape. The kernel holds no ids:
 * local endpoints are matched by bridge-port name (else reported by their
 * ifalias with empty fields), remote endpoints by (IP, MAC, peer address)
 * across the neighbour and FDB entries (else `unknown:<ip>`, with a peer
 * known only by address), flood peers by address. A namespace no network
 * wants gets a spec rebuilt from the bridge's ifalias and `vxlan0`.
 */
export function readBack(snap: NamespaceSnapshot, net: KnownNetwork | undefined, devicePort: number): ProgrammedNetwork {
  const bridgeAlias = snap.bridge?.alias;
  const spec: NetworkSpec = net?.spec ?? {
    id: bridgeAlias !== undefined ? decodeAlias(bridgeAlias) : snap.name,
    name: '',
    vni: snap.vxlan?.vni ?? 0,
    mtu: snap.vxlan?.mtu ?? 0,
    subnet: '',
    internal: false,
  };
  const localByPort = new Map([...(net?.local.values() ?? [])].map((ep) => [bridgePortName(ep.id), ep]));
  const local: LocalEndpointSpec[] = snap.ports.map((p) => {
    const known = localByPort.get(p.name);
    if (known !== undefined) return known;
    const id = p.alias !== undefined ? decodeAlias(p.alias) : p.name;
    return { id, name: '', ip: '', prefixLength: 0, mac: '' };
  });
  const peersByAddress = new Map<string, PeerNode>();
  for (const r of net?.remote.values() ?? []) peersByAddress.set(r.peer.address, r.peer);
  const peerAt = (address: string, port: number | undefined): PeerNode =>
    peersByAddress.get(address) ?? { id: '', address, vxlanPort: port ?? devicePort, encryptedPort: 0, epoch: '' };
  const fdbByMac = new Map(snap.fdb.filter((e) => e.mac !== FLOOD_MAC).map((e) => [e.mac, e]));
  const remoteByKey = new Map([...(net?.remote.values() ?? [])].map((r) => [`${r.ip} ${r.mac} ${r.peer.address}`, r]));
  const remote: RemoteEndpointSpec[] = [];
  for (const n of snap.neighbours) {
    const f = fdbByMac.get(n.mac);
    if (f === undefined) continue;
    remote.push(remoteByKey.get(`${n.ip} ${n.mac} ${f.dst}`) ?? { id: `unknown:${n.ip}`, ip: n.ip, mac: n.mac, peer: peerAt(f.dst, f.port) });
  }
  const flood = snap.fdb.filter((e) => e.mac === FLOOD_MAC).map((e) => peerAt(e.dst, e.port));
  return { spec, local: local.sort(byId), remote: remote.sort(byId), flood: flood.sort(byId), vips: [] };
}
