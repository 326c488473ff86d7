import type { RemoteEndpointSpec } from '@weft/interface';
import {
  attachPortLines,
  bridgeSetupLines,
  detachLine,
  fdbDeleteLine,
  fdbReplaceLine,
  floodAppendLine,
  floodDeleteLine,
  neighDeleteLine,
  neighReplaceLine,
  vxlanAddLine,
  type KernelAttachSpec,
  type VxlanFields,
} from './commands';
import { BRIDGE_NAME, FLOOD_MAC, VXLAN_NAME, bridgePortName } from './names';
import type { NamespaceSnapshot } from './snapshot';

/** What one reconcile step changed (or would change). */
export interface ReconcileChange {
  readonly action: 'add' | 'remove' | 'update';
  readonly kind: 'namespace' | 'bridge' | 'vxlan' | 'endpoint' | 'fdb' | 'flood' | 'neighbour' | 'guard' | 'gateway' | 'egress' | 'masquerade' | 'forwarding' | 'vip' | 'dns' | 'resolv';
  /** The namespace it happened in (`<prefix>-<hex>`; for the `guard` and egress kinds, the host namespace's path). */
  readonly namespace: string;
  /**
   * The object: an endpoint id, a MAC, an IP, a peer address, or a device
   * name (egress: `gateway` the bridge, `egress` a container's host-side
   * port, `masquerade` the nftables table, `forwarding` the sysctl's path).
   */
  readonly target: string;
}

/** The desired state of one active network (one with a local endpoint), as the kernel should hold it. */
export interface DesiredNetwork {
  readonly id: string;
  /** Its namespace's name. */
  readonly namespace: string;
  /** Path of the host (underlay) namespace, where the VXLAN device's socket must live. */
  readonly hostNetns: string;
  readonly vxlan: VxlanFields;
  readonly local: readonly KernelAttachSpec[];
  readonly remote: readonly RemoteEndpointSpec[];
  /**
   * Flood entries (peer address → port) when they are not one per peer node
   * of `remote` (an encrypted network has one, to the relay).
   */
  readonly flood?: ReadonlyMap<string, number>;
  /** Frames cross the encrypted relay: `vxlan0` takes no GSO packet (`gso_max_segs 1`), so each frame is one datagram. */
  readonly relayed?: boolean;
}

/**
 * The commands that bring one namespace from `snapshot` to `desired`, by
 * where they run, in order: `ns` (`ip -batch` in the network namespace),
 * `bridge` (`bridge -batch` there), then one sandbox script per endpoint in
 * `sandboxes`. Nothing runs in the host namespace.
 */
export interface NetworkPlan {
  readonly changes: readonly ReconcileChange[];
  readonly ns: readonly string[];
  readonly bridge: readonly string[];
  readonly sandboxes: readonly KernelAttachSpec[];
}

/** How {@link planNetwork} treats what the kernel holds and `desired` does not name. */
export interface PlanOptions {
  /**
   * Keep it (only add and update): how a restarted plane adopts a namespace
   * an earlier run left, while its desired state is still being programmed
   * one call at a time. Removing then would take down a container whose
   * endpoint is simply not programmed yet (and the entries of remote
   * endpoints not yet known), cutting traffic that the kernel was carrying
   * through the restart; leftovers are removed by the reconcile that
   * follows once the desired state is whole. Default false: remove it.
   */
  readonly keepUndesired?: boolean;
}

/** Desired FDB entries (by MAC), neighbour entries (by IP) and flood targets (by address) of a network's remote endpoints. */
export function remoteEntries(remote: readonly RemoteEndpointSpec[]): {
  fdb: Map<string, RemoteEndpointSpec>;
  neighbours: Map<string, string>;
  flood: Map<string, number>;
} {
  const fdb = new Map<string, RemoteEndpointSpec>();
  const neighbours = new Map<string, string>();
  const flood = new Map<string, number>();
  for (const r of remote) {
    fdb.set(r.mac, r);
    neighbours.set(r.ip, r.mac);
    flood.set(r.peer.address, r.peer.vxlanPort);
  }
  return { fdb, neighbours, flood };
}

/**
 * The pure diff of one network (Kubernetes-controller style): compares what
 * the kernel holds (`snapshot`, or `undefined` for a namespace that exists
 * but could not be read — treated as empty) with `desired`, and returns the
 * commands and the list of changes. Equal inputs give an empty plan.
 * A VXLAN device with another VNI, port, local address, learning or proxy
 * setting is deleted and created again (with every FDB and neighbour entry);
 * an MTU difference is set in place. With `keepUndesired`, nothing the kernel
 * holds beyond `desired` is removed (see {@link PlanOptions}).
 */
export function planNetwork(desired: DesiredNetwork, snapshot: NamespaceSnapshot, options: PlanOptions = {}): NetworkPlan {
  const keep = options.keepUndesired === true;
  const changes: ReconcileChange[] = [];
  const at = desired.namespace;
  const change = (action: ReconcileChange['action'], kind: ReconcileChange['kind'], target: string): void => {
    changes.push({ action, kind, namespace: at, target });
  };
  const ns: string[] = [];
  const bridge: string[] = [];
  const sandboxes: KernelAttachSpec[] = [];
  const v = desired.vxlan;
  const dev = snapshot.vxlan;
  const relayed = desired.relayed ?? false;
  const recreate = dev === undefined || dev.vni !== v.vni || dev.port !== v.port || dev.local !== v.local || dev.learning || !dev.proxy || (dev.gsoMaxSegs === 1) !== relayed;
  if (recreate) {
    if (dev !== undefined) ns.push(`link del ${VXLAN_NAME}`);
    ns.push(vxlanAddLine(desired.hostNetns, v, relayed));
    change(dev === undefined ? 'add' : 'update', 'vxlan', VXLAN_NAME);
  } else if (dev.mtu !== v.mtu) {
    ns.push(`link set ${VXLAN_NAME} mtu ${v.mtu}`);
    change('update', 'vxlan', VXLAN_NAME);
  }
  const br = snapshot.bridge;
  const bridgeOff = br === undefined || br.mtu !== v.mtu || !br.up;
  if (br === undefined) change('add', 'bridge', BRIDGE_NAME);
  else if (bridgeOff) change('update', 'bridge', BRIDGE_NAME);
  if (recreate || bridgeOff || dev?.master !== BRIDGE_NAME || !dev.up) {
    if (!recreate && !bridgeOff) change('update', 'vxlan', VXLAN_NAME);
    ns.push(...bridgeSetupLines(desired.id, v.mtu, br === undefined));
  }

  // Local endpoints: bridge-side veths by name.
  const wanted = new Map(desired.local.map((ep) => [bridgePortName(ep.id), ep]));
  const present = new Map(snapshot.ports.map((p) => [p.name, p]));
  for (const p of snapshot.ports) {
    if (!wanted.has(p.name) && !keep) {
      ns.unshift(`link del ${p.name}`);
      change('remove', 'endpoint', p.alias !== undefined ? decodeAlias(p.alias) : p.name);
    }
  }
  for (const [name, ep] of wanted) {
    const p = present.get(name);
    if (p === undefined) {
      ns.push(...attachPortLines(ep, v.mtu));
      sandboxes.push(ep);
      change('add', 'endpoint', ep.id);
    } else if (p.mtu !== v.mtu || p.master !== BRIDGE_NAME || !p.up) {
      ns.push(`link set ${name} mtu ${v.mtu} master ${BRIDGE_NAME} up`);
      change('update', 'endpoint', ep.id);
    }
  }

  // Remote endpoints: neighbour, FDB and flood entries on vxlan0 (gone with a recreated device).
  const want = remoteEntries(desired.remote);
  const wantFlood = desired.flood ?? want.flood;
  const haveNeighbours = recreate ? [] : snapshot.neighbours;
  const haveFdb = recreate ? [] : snapshot.fdb;
  const seenIp = new Set<string>();
  for (const n of haveNeighbours) {
    const mac = want.neighbours.get(n.ip);
    if (mac === undefined) {
      if (keep) continue;
      ns.push(neighDeleteLine(n.ip));
      change('remove', 'neighbour', n.ip);
    } else {
      seenIp.add(n.ip);
      if (mac !== n.mac || !n.permanent) {
        ns.push(neighReplaceLine({ ip: n.ip, mac }));
        change('update', 'neighbour', n.ip);
      }
    }
  }
  for (const [ip, mac] of want.neighbours) {
    if (seenIp.has(ip)) continue;
    ns.push(neighReplaceLine({ ip, mac }));
    change('add', 'neighbour', ip);
  }
  const seenMac = new Set<string>();
  const seenFlood = new Set<string>();
  for (const e of haveFdb) {
    if (e.mac === FLOOD_MAC) {
      const port = wantFlood.get(e.dst);
      if (port === undefined && keep) continue;
      if (port === undefined || (e.port ?? v.port) !== port || !e.permanent) {
        bridge.unshift(floodDeleteLine(e.dst));
        change('remove', 'flood', e.dst);
      } else seenFlood.add(e.dst);
      continue;
    }
    const r = want.fdb.get(e.mac);
    if (r === undefined) {
      if (keep) continue;
      bridge.unshift(fdbDeleteLine(e.mac));
      change('remove', 'fdb', e.mac);
    } else {
      seenMac.add(e.mac);
      if (r.peer.address !== e.dst || r.peer.vxlanPort !== (e.port ?? v.port) || !e.permanent) {
        bridge.push(fdbReplaceLine(r, v.port));
        change('update', 'fdb', e.mac);
      }
    }
  }
  for (const [mac, r] of want.fdb) {
    if (seenMac.has(mac)) continue;
    bridge.push(fdbReplaceLine(r, v.port));
    change('add', 'fdb', mac);
  }
  for (const [address, port] of wantFlood) {
    if (seenFlood.has(address)) continue;
    bridge.push(floodAppendLine(address, port, v.port));
    change('add', 'flood', address);
  }
  return { changes, ns, bridge, sandboxes };
}

/** The namespace holds nothing yet: the full plan of a new network (the namespace itself is added by the caller). */
export function emptySnapshot(name: string): NamespaceSnapshot {
  return { name, bridge: undefined, vxlan: undefined, ports: [], fdb: [], neighbours: [] };
}

/** The endpoint id from a bridge port's ifalias (URI-encoded). */
export function decodeAlias(alias: string): string {
  try {
    return decodeURIComponent(alias);
  } catch {
    return alias;
  }
}

export { detachLine };
