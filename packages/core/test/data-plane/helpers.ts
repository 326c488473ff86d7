import { macForIpv4, parseIpv4, type LocalEndpointSpec, type NetworkEncryption, type NetworkSpec, type RemoteEndpointSpec } from '@weft/interface';
import {
  ethernet,
  icmpv4,
  ipv4,
  vxlanHeader,
  ETHERTYPE_IPV4,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  MemoryNetwork,
  type Endpoint,
} from '@weft/vxlan';
import { memoryUnderlayFactory, UserspaceDataPlane, type UserspaceDataPlaneOptions } from '../../src/data-plane';
import type { DataPlaneOp } from '../../src/reconcile/plan';

/** A 32-byte secret filled with `n`. */
export const secret = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** Keys {gens} sending with `send`; generation g's secret is `secret(g)`. */
export function keys(gens: number[], send: number, suite = 'aes-256-gcm'): NetworkEncryption {
  return { suite, keys: gens.map((g) => ({ generation: g, secret: secret(g) })), sendGeneration: send };
}

/** A network spec on 10.<third>.0.0/24-ish addressing (subnet text is only recorded). */
export function net(id: string, vni: number, extra: Partial<NetworkSpec> = {}): NetworkSpec {
  return { id, name: `net-${id}`, vni, mtu: 1450, subnet: '10.9.0.0/16', internal: false, ...extra };
}

/** A local endpoint spec with Docker's MAC for the IP. */
export function local(id: string, ip: string): LocalEndpointSpec {
  return { id, name: id, ip, prefixLength: 16, mac: macForIpv4(parseIpv4(ip)) };
}

/** `spec` as other nodes see it: a remote endpoint on `plane`'s node (in the plane's current epoch). */
export function remoteOf(plane: UserspaceDataPlane, spec: LocalEndpointSpec): RemoteEndpointSpec {
  const { address, vxlanPort, encryptedPort, epoch } = plane.info;
  return { id: spec.id, ip: spec.ip, mac: spec.mac, peer: { id: plane.nodeId, address, vxlanPort, encryptedPort, epoch } };
}

/** Runs core's planned calls on `plane`, in order (what the Reconciler does with a plan). */
export async function apply(plane: UserspaceDataPlane, ops: readonly DataPlaneOp[]): Promise<void> {
  for (const op of ops) {
    switch (op.op) {
      case 'removeNetwork':
        await plane.removeNetwork(op.networkId);
        break;
      case 'ensureNetwork':
        await plane.ensureNetwork(op.spec);
        break;
      case 'setNetworkKeys':
        await plane.setNetworkKeys(op.networkId, op.encryption);
        break;
      case 'removeRemoteEndpoint':
        await plane.removeRemoteEndpoint(op.networkId, op.endpointId);
        break;
      case 'removeLocalEndpoint':
        await plane.removeLocalEndpoint(op.networkId, op.endpointId);
        break;
      case 'addLocalEndpoint':
        await plane.addLocalEndpoint(op.networkId, op.endpoint);
        break;
      case 'addRemoteEndpoint':
        await plane.addRemoteEndpoint(op.networkId, op.endpoint);
        break;
      case 'setServiceVip':
        await plane.setServiceVip(op.networkId, op.vip);
        break;
      case 'setDnsAddress':
        await plane.setDnsAddress(op.networkId, op.address);
        break;
    }
  }
}


/** Polls `done` every 5 ms, at most `timeoutMs`; throws naming `what` when it never holds. */
export async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Planes opened by a test; `closeAll()` in afterEach closes them even when the test failed. */
export class PlaneRegistry {
  private readonly planes: UserspaceDataPlane[] = [];

  /** Opens a plane and tracks it. */
  async open(options: UserspaceDataPlaneOptions): Promise<UserspaceDataPlane> {
    const p = await UserspaceDataPlane.open(options);
    this.planes.push(p);
    return p;
  }

  /** Opens a plane on `network` (memory underlay, ports chosen by the network). */
  memory(network: MemoryNetwork, nodeId: string, address: string): Promise<UserspaceDataPlane> {
    return this.open({ nodeId, address, vxlanPort: 0, encryptedPort: 0, underlay: memoryUnderlayFactory(network) });
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.planes.splice(0).map((p) => p.close()));
  }
}

/** Two nodes, one endpoint each on network `spec`, each programmed with the other's endpoint. */
export async function pairOn(
  spec: NetworkSpec,
  a: UserspaceDataPlane,
  b: UserspaceDataPlane,
  ipA: string,
  ipB: string,
): Promise<{ ea: Endpoint; eb: Endpoint; la: LocalEndpointSpec; lb: LocalEndpointSpec }> {
  await a.ensureNetwork(spec);
  await b.ensureNetwork(spec);
  const la = local(`${spec.id}-a`, ipA);
  const lb = local(`${spec.id}-b`, ipB);
  const ea = (await a.addLocalEndpoint(spec.id, la)).handle!;
  const eb = (await b.addLocalEndpoint(spec.id, lb)).handle!;
  await a.addRemoteEndpoint(spec.id, remoteOf(b, lb));
  await b.addRemoteEndpoint(spec.id, remoteOf(a, la));
  return { ea, eb, la, lb };
}

/** Sends `payload` from `from` to `to`:`port` over UDP and resolves with what arrived (or rejects after `timeoutMs`). */
export async function udpExchange(from: Endpoint, to: Endpoint, payload: Uint8Array, timeoutMs = 2000): Promise<Uint8Array> {
  const rx = to.bind(0);
  const tx = from.bind(0);
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no UDP datagram of ${payload.length} bytes within ${timeoutMs} ms`)), timeoutMs);
      rx.on('message', (data: Uint8Array) => {
        clearTimeout(timer);
        resolve(Uint8Array.from(data));
      });
      tx.send(payload, to.ip, rx.port);
    });
  } finally {
    rx.close();
    tx.close();
  }
}

/** A well-formed VXLAN packet for `vni` carrying an ICMP echo request from 10.99.0.99 to `dstIp`/`dstMac`. */
export function vxlanEcho(vni: number, dstMac: string, dstIp: string): Uint8Array {
  const icmp = icmpv4.encode({ type: ICMP_ECHO_REQUEST, code: 0, id: 7, seq: 1, payload: new Uint8Array(16) });
  const packet = ipv4.encode({ tos: 0, id: 1, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol: IPPROTO_ICMP, src: '10.99.0.99', dst: dstIp, payload: icmp });
  const frame = ethernet.encode({ dst: dstMac, src: '02:00:00:00:00:99', etherType: ETHERTYPE_IPV4, payload: packet });
  const out = new Uint8Array(8 + frame.length);
  vxlanHeader.encode({ vni }, out, 0);
  out.set(frame, 8);
  return out;
}

/** A plane's counters as a lookup that throws for a name the plane does not report (so a typo cannot pass for 0). */
export async function countersOf(plane: UserspaceDataPlane): Promise<(name: string) => number> {
  const c = await plane.counters();
  return (name) => {
    const v = c[name];
    if (v === undefined) throw new Error(`no counter ${JSON.stringify(name)}`);
    return v;
  };
}
