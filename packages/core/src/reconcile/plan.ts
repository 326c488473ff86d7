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

/** One data-plane call. */
export type DataPlaneOp =
  | { readonly op: 'removeNetwork'; readonly networkId: string }
  | { readonly op: 'ensureNetwork'; readonly spec: NetworkSpec }
  | { readonly op: 'setNetworkKeys'; readonly networkId: string; readonly encryption: NetworkEncryption }
  | { readonly op: 'removeRemoteEndpoint'; readonly networkId: string; readonly endpointId: string }
  | { readonly op: 'removeLocalEndpoint'; readonly networkId: string; readonly endpointId: string }
  | { readonly op: 'addLocalEndpoint'; readonly networkId: string; readonly endpoint: LocalEndpointSpec }
  | { readonly op: 'addRemoteEndpoint'; readonly networkId: string; readonly endpoint: RemoteEndpointSpec }
  | { readonly op: 'setServiceVip'; readonly networkId: string; readonly vip: ServiceVip }
  | { readonly op: 'setDnsAddress'; readonly networkId: string; readonly address: string | undefined };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when both encryption settings are the same (suite, send generation, every key). */
export function sameEncryption(a: NetworkEncryption | undefined, b: NetworkEncryption | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.suite !== b.suite || a.sendGeneration !== b.sendGeneration || a.keys.length !== b.keys.length) return false;
  return a.keys.every((k, i) => k.generation === b.keys[i]!.generation && sameBytes(k.secret, b.keys[i]!.secret));
}

/** True when the fields other than keys are the same (a change there needs `ensureNetwork`). */
export function sameNetworkShape(a: NetworkSpec, b: NetworkSpec): boolean {
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.vni === b.vni &&
    a.mtu === b.mtu &&
    a.subnet === b.subnet &&
    a.gateway === b.gateway &&
    a.internal === b.internal &&
    (a.encryption === undefined) === (b.encryption === undefined) &&
    (a.encryption === undefined || a.encryption.suite === b.encryption!.suite)
  );
}

function sameLocal(a: LocalEndpointSpec, b: LocalEndpointSpec): boolean {
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.ip === b.ip &&
    a.prefixLength === b.prefixLength &&
    a.mac === b.mac &&
    a.sandbox === b.sandbox &&
    a.interfaceName === b.interfaceName &&
    a.resolvConf === b.resolvConf
  );
}

/** True when both are the same node with the same data-plane facts. */
export function samePeer(a: PeerNode, b: PeerNode): boolean {
  return a.id === b.id && a.address === b.address && a.vxlanPort === b.vxlanPort && a.encryptedPort === b.encryptedPort && a.epoch === b.epoch;
}

function sameRemote(a: RemoteEndpointSpec, b: RemoteEndpointSpec): boolean {
  return a.id === b.id && a.ip === b.ip && a.mac === b.mac && (a.peer === b.peer || samePeer(a.peer, b.peer));
}

function sameVip(a: ServiceVip, b: ServiceVip): boolean {
  return a.vip === b.vip && a.backends.length === b.backends.length && a.backends.every((x, i) => x.ip === b.backends[i]!.ip && x.state === b.backends[i]!.state);
}

function planNetwork(want: ProgrammedNetwork, have: ProgrammedNetwork | undefined, ops: DataPlaneOp[]): void {
  const networkId = want.spec.id;
  if (have === undefined || !sameNetworkShape(want.spec, have.spec)) {
    ops.push({ op: 'ensureNetwork', spec: want.spec });
  } else if (!sameEncryption(want.spec.encryption, have.spec.encryption)) {
    ops.push({ op: 'setNetworkKeys', networkId, encryption: want.spec.encryption! });
  }
  const haveRemote = new Map((have?.remote ?? []).map((r) => [r.id, r]));
  const haveLocal = new Map((have?.local ?? []).map((l) => [l.id, l]));
  const wantRemote = new Set(want.remote.map((r) => r.id));
  const wantLocal = new Set(want.local.map((l) => l.id));
  // Removals first, so an address that moved to a new endpoint is never programmed twice.
  for (const id of haveRemote.keys()) if (!wantRemote.has(id)) ops.push({ op: 'removeRemoteEndpoint', networkId, endpointId: id });
  for (const id of haveLocal.keys()) if (!wantLocal.has(id)) ops.push({ op: 'removeLocalEndpoint', networkId, endpointId: id });
  for (const l of want.local) {
    const h = haveLocal.get(l.id);
    if (h === undefined || !sameLocal(l, h)) ops.push({ op: 'addLocalEndpoint', networkId, endpoint: l });
  }
  for (const r of want.remote) {
    const h = haveRemote.get(r.id);
    if (h === undefined || !sameRemote(r, h)) ops.push({ op: 'addRemoteEndpoint', networkId, endpoint: r });
  }
  const haveVips = new Map((have?.vips ?? []).map((v) => [v.vip, v]));
  const wantVips = new Set(want.vips.map((v) => v.vip));
  for (const vip of haveVips.keys()) if (!wantVips.has(vip)) ops.push({ op: 'setServiceVip', networkId, vip: { vip, backends: [] } });
  for (const v of want.vips) {
    const h = haveVips.get(v.vip);
    if (h === undefined || !sameVip(v, h)) ops.push({ op: 'setServiceVip', networkId, vip: v });
  }
  if (want.dnsAddress !== have?.dnsAddress) ops.push({ op: 'setDnsAddress', networkId, address: want.dnsAddress });
}

/**
 * The data-plane calls that turn `have` (what is programmed) into `want`
 * (what should be): exactly one call per record that differs, none when they
 * agree — never a wipe-and-reprogram. Order: networks that go away first,
 * then per network: the network itself, its keys, removals, additions.
 * Flood entries are not planned: the data plane derives them from remote
 * endpoints (see the `DataPlane` contract).
 */
export function planReconcile(want: ProgrammedState, have: ProgrammedState): DataPlaneOp[] {
  const ops: DataPlaneOp[] = [];
  const wantIds = new Set(want.networks.map((n) => n.spec.id));
  for (const n of have.networks) if (!wantIds.has(n.spec.id)) ops.push({ op: 'removeNetwork', networkId: n.spec.id });
  const haveById = new Map(have.networks.map((n) => [n.spec.id, n]));
  for (const n of want.networks) planNetwork(n, haveById.get(n.spec.id), ops);
  return ops;
}

/** What {@link planEndpoints} reads of what is programmed. */
export interface ProgrammedLookup {
  /** True when the network is programmed at all. */
  hasNetwork(networkId: string): boolean;
  /** The programmed local endpoint, if any. */
  local(networkId: string, endpointId: string): LocalEndpointSpec | undefined;
  /** How many local endpoints the network has programmed. */
  localCount(networkId: string): number;
  remote(networkId: string, endpointId: string): RemoteEndpointSpec | undefined;
}

/** What should be programmed for one endpoint: a remote endpoint's spec, `{ local }` for one of this node's own, or undefined for nothing. */
export type EndpointWant = RemoteEndpointSpec | { readonly local: LocalEndpointSpec } | undefined;

/**
 * The calls for a change to some endpoint records of one network, without
 * diffing the rest of it: one call per endpoint that differs (an endpoint
 * that moved between local and remote: its removal, then its addition).
 * Order as in the whole-network diff: removals, then local additions, then
 * remote ones. Undefined when the change is not that simple — the network is
 * not programmed yet, or would be left with no local endpoint (it goes away
 * whole) — then diff the whole network.
 */
export function planEndpoints(networkId: string, endpointIds: Iterable<string>, want: (endpointId: string) => EndpointWant, have: ProgrammedLookup): DataPlaneOp[] | undefined {
  if (!have.hasNetwork(networkId)) return undefined;
  let locals = have.localCount(networkId);
  const removes: DataPlaneOp[] = [];
  const addLocal: DataPlaneOp[] = [];
  const addRemote: DataPlaneOp[] = [];
  for (const id of endpointIds) {
    const w = want(id);
    const hl = have.local(networkId, id);
    const hr = have.remote(networkId, id);
    if (w !== undefined && 'local' in w) {
      if (hr !== undefined) removes.push({ op: 'removeRemoteEndpoint', networkId, endpointId: id });
      if (hl === undefined) locals += 1;
      if (hl === undefined || !sameLocal(w.local, hl)) addLocal.push({ op: 'addLocalEndpoint', networkId, endpoint: w.local });
      continue;
    }
    if (hl !== undefined) {
      removes.push({ op: 'removeLocalEndpoint', networkId, endpointId: id });
      locals -= 1;
    }
    if (w === undefined) {
      if (hr !== undefined) removes.push({ op: 'removeRemoteEndpoint', networkId, endpointId: id });
    } else if (hr === undefined || !sameRemote(w, hr)) {
      addRemote.push({ op: 'addRemoteEndpoint', networkId, endpoint: w });
    }
  }
  if (locals <= 0) return undefined;
  return [...removes, ...addLocal, ...addRemote];
}
