import type { LocalEndpointSpec, NetworkSpec, PeerNode, ProgrammedNetwork, ProgrammedState, RemoteEndpointSpec, ServiceVip } from '@weft/interface';
import { samePeer, type DataPlaneOp } from './plan';

interface MirrorNetwork {
  spec: NetworkSpec;
  readonly local: Map<string, LocalEndpointSpec>;
  readonly remote: Map<string, RemoteEndpointSpec>;
  readonly vips: Map<string, ServiceVip>;
  dnsAddress: string | undefined;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Core's record of what it has programmed into its data plane, kept in step
 * with every successful call, so reconciling on an event needs no read-back.
 * A full resync (start, reconnect, a failed call) replaces it with what the
 * data plane reads back.
 */
export class ProgrammedMirror {
  private networks = new Map<string, MirrorNetwork>();

  /**
   * Replaces the mirror with a read-back of the data plane. Remote endpoints
   * of one peer are kept pointing at one peer object (the first of the
   * read-back's equal ones), whatever the plane returned.
   */
  reset(state: ProgrammedState): void {
    const peers = new Map<string, PeerNode>();
    const shared = (r: RemoteEndpointSpec): RemoteEndpointSpec => {
      const known = peers.get(r.peer.id);
      if (known === undefined || !samePeer(known, r.peer)) {
        peers.set(r.peer.id, r.peer);
        return r;
      }
      return known === r.peer ? r : { ...r, peer: known };
    };
    this.networks = new Map(
      state.networks.map((n) => [
        n.spec.id,
        {
          spec: n.spec,
          local: new Map(n.local.map((l) => [l.id, l])),
          remote: new Map(n.remote.map((r) => [r.id, shared(r)])),
          vips: new Map(n.vips.map((v) => [v.vip, v])),
          dnsAddress: n.dnsAddress,
        },
      ]),
    );
  }

  /** Records the effect of one successful call. */
  apply(op: DataPlaneOp): void {
    if (op.op === 'ensureNetwork') {
      const n = this.networks.get(op.spec.id);
      if (n) n.spec = op.spec;
      else this.networks.set(op.spec.id, { spec: op.spec, local: new Map(), remote: new Map(), vips: new Map(), dnsAddress: undefined });
      return;
    }
    if (op.op === 'removeNetwork') {
      this.networks.delete(op.networkId);
      return;
    }
    const n = this.networks.get(op.networkId);
    if (n === undefined) return;
    switch (op.op) {
      case 'setNetworkKeys':
        n.spec = { ...n.spec, encryption: op.encryption };
        break;
      case 'addLocalEndpoint':
        n.local.set(op.endpoint.id, op.endpoint);
        break;
      case 'removeLocalEndpoint':
        n.local.delete(op.endpointId);
        break;
      case 'addRemoteEndpoint':
        n.remote.set(op.endpoint.id, op.endpoint);
        break;
      case 'removeRemoteEndpoint':
        n.remote.delete(op.endpointId);
        break;
      case 'setServiceVip':
        if (op.vip.backends.length === 0) n.vips.delete(op.vip.vip);
        else n.vips.set(op.vip.vip, op.vip);
        break;
      case 'setDnsAddress':
        n.dnsAddress = op.address;
        break;
    }
  }

  /** True when the network is programmed. */
  hasNetwork(networkId: string): boolean {
    return this.networks.has(networkId);
  }

  /** The programmed remote endpoint, if any. */
  remote(networkId: string, endpointId: string): RemoteEndpointSpec | undefined {
    return this.networks.get(networkId)?.remote.get(endpointId);
  }

  /** The programmed local endpoint, if any. */
  local(networkId: string, endpointId: string): LocalEndpointSpec | undefined {
    return this.networks.get(networkId)?.local.get(endpointId);
  }

  /** How many local endpoints the network has programmed (0 when it is not programmed). */
  localCount(networkId: string): number {
    return this.networks.get(networkId)?.local.size ?? 0;
  }

  /** True when a local endpoint with this id is programmed. */
  hasLocal(networkId: string, endpointId: string): boolean {
    return this.networks.get(networkId)?.local.has(endpointId) ?? false;
  }

  /** The specs of the programmed networks, without building their entry lists (cheap, unlike {@link state}). */
  specs(): NetworkSpec[] {
    return [...this.networks.values()].map((n) => n.spec);
  }

  /** The mirror in the data plane's read-back shape (flood entries derived from remote endpoints); only the networks in `only` when given. */
  state(only?: ReadonlySet<string>): ProgrammedState {
    const networks: ProgrammedNetwork[] = [];
    for (const n of [...this.networks.values()].sort((a, b) => cmp(a.spec.id, b.spec.id))) {
      if (only !== undefined && !only.has(n.spec.id)) continue;
      const flood = new Map<string, PeerNode>();
      for (const r of n.remote.values()) flood.set(r.peer.id, r.peer);
      networks.push({
        spec: n.spec,
        local: [...n.local.values()].sort((a, b) => cmp(a.id, b.id)),
        remote: [...n.remote.values()].sort((a, b) => cmp(a.id, b.id)),
        flood: [...flood.values()].sort((a, b) => cmp(a.id, b.id)),
        vips: [...n.vips.values()].sort((a, b) => cmp(a.vip, b.vip)),
        ...(n.dnsAddress !== undefined ? { dnsAddress: n.dnsAddress } : {}),
      });
    }
    return { networks };
  }
}
