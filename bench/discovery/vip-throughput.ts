/**
 * Row `vip vs direct`: UDP datagrams/s from an endpoint on node A to a
 * service VIP whose one backend is an endpoint on node B, against the same
 * traffic sent to that backend's own address — same two data planes, same
 * sending socket endpoint, same receiving socket, same datagram size, same
 * sending loop (bench/core/udp-round.ts, the loop of
 * bench/core/overlay-throughput.ts), alternating rounds.
 *
 * Two `UserspaceDataPlane`s in the bench process (one thread, as in
 * overlay-throughput), each on its own loopback address with the default
 * `UdpUnderlay` (real UDP sockets), programmed as a reconciler would: the
 * network, each node's local endpoint, the other's as a remote endpoint, and
 * the VIP on both planes. Every VIP round must show up in A's
 * `lb.rewrittenOut` (one per datagram sent) and every direct round must not.
 */
import { macForIpv4, parseIpv4, type LocalEndpointSpec, type NetworkSpec, type RemoteEndpointSpec, type ServiceVip } from '@weft/interface';
import { UserspaceDataPlane } from '@weft/core';
import type { Endpoint } from '@weft/vxlan';
import { udpRound, type UdpRoundOptions } from '../core/udp-round';

const PORT = 9000;
/** Inner IPv4 + UDP headers. */
const IP_UDP_HEADERS = 28;
const NETWORK: NetworkSpec = { id: 'bench-vip', name: 'bench-vip', vni: 4400, mtu: 1450, subnet: '10.40.0.0/16', gateway: '10.40.0.1', internal: false };
const CLIENT_IP = '10.40.0.2';
const BACKEND_IP = '10.40.0.3';
const VIP = '10.40.0.100';
const UNDERLAY = { a: '127.0.41.1', b: '127.0.41.2' } as const;

export type VipMode = 'vip' | 'direct';

export interface VipResult {
  readonly vip: number[];
  readonly direct: number[];
  /** vip / direct per pair. */
  readonly ratios: number[];
  /** CPU µs (whole process, both planes) per delivered datagram, per counted round. */
  readonly cpuUs: Record<VipMode, number[]>;
  /** Written off, over the counted rounds. */
  readonly lost: Record<VipMode, number>;
  /** Datagrams sent in the counted rounds, and how much A's `lb.rewrittenOut` rose meanwhile, per mode. */
  readonly sent: Record<VipMode, number>;
  readonly rewrittenOut: Record<VipMode, number>;
  /** How much A's `lb.newFlows` rose over the counted VIP rounds (one fresh client socket per round). */
  readonly newFlows: number;
  readonly datagramBytes: number;
  readonly underlay: typeof UNDERLAY;
  readonly network: NetworkSpec;
  readonly vipAddress: string;
}

function local(id: string, ip: string): LocalEndpointSpec {
  return { id, name: id, ip, prefixLength: 16, mac: macForIpv4(parseIpv4(ip)) };
}

function remoteOf(plane: UserspaceDataPlane, spec: LocalEndpointSpec): RemoteEndpointSpec {
  const { address, vxlanPort, encryptedPort, epoch } = plane.info;
  return { id: spec.id, ip: spec.ip, mac: spec.mac, peer: { id: plane.nodeId, address, vxlanPort, encryptedPort, epoch } };
}

/** One datagram from `from` to `dstIp`, received on `to`; rejects when none arrives within 2 s. */
async function oneDatagram(from: Endpoint, to: Endpoint, dstIp: string): Promise<void> {
  const rx = to.bind(PORT);
  const tx = from.bind(0);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`setup: no datagram to ${dstIp}:${PORT} reached the backend within 2000 ms`)), 2000);
      rx.on('message', () => {
        clearTimeout(timer);
        resolve();
      });
      tx.send(new Uint8Array(16), dstIp, PORT);
    });
  } finally {
    rx.close();
    tx.close();
  }
}

export async function vipThroughput(o: UdpRoundOptions & { pairs: number; log: (m: string) => void }): Promise<VipResult> {
  const planes: UserspaceDataPlane[] = [];
  try {
    const a = await UserspaceDataPlane.open({ nodeId: 'bench-vip-a', address: UNDERLAY.a, vxlanPort: 0, encryptedPort: 0 });
    planes.push(a);
    const b = await UserspaceDataPlane.open({ nodeId: 'bench-vip-b', address: UNDERLAY.b, vxlanPort: 0, encryptedPort: 0 });
    planes.push(b);
    await a.ensureNetwork(NETWORK);
    await b.ensureNetwork(NETWORK);
    const clientSpec = local('bench-client', CLIENT_IP);
    const backendSpec = local('bench-backend', BACKEND_IP);
    const client = (await a.addLocalEndpoint(NETWORK.id, clientSpec)).handle!;
    const backend = (await b.addLocalEndpoint(NETWORK.id, backendSpec)).handle!;
    await a.addRemoteEndpoint(NETWORK.id, remoteOf(b, backendSpec));
    await b.addRemoteEndpoint(NETWORK.id, remoteOf(a, clientSpec));
    const service: ServiceVip = { vip: VIP, backends: [{ ip: BACKEND_IP, state: 'up' }] };
    await a.setServiceVip(NETWORK.id, service);
    await b.setServiceVip(NETWORK.id, service);
    await oneDatagram(client, backend, BACKEND_IP);
    await oneDatagram(client, backend, VIP);

    const bytes = Math.min(1400, NETWORK.mtu - IP_UDP_HEADERS);
    const dst: Record<VipMode, string> = { vip: VIP, direct: BACKEND_IP };
    const counter = async (name: string): Promise<number> => {
      const v = (await a.counters())[name];
      if (v === undefined) throw new Error(`data plane reports no counter ${name}`);
      return v;
    };
    const rates: Record<VipMode, number[]> = { vip: [], direct: [] };
    const cpuUs: Record<VipMode, number[]> = { vip: [], direct: [] };
    const lost: Record<VipMode, number> = { vip: 0, direct: 0 };
    const sent: Record<VipMode, number> = { vip: 0, direct: 0 };
    const rewrittenOut: Record<VipMode, number> = { vip: 0, direct: 0 };
    let newFlows = 0;
    let counting = false;
    const run = async (mode: VipMode): Promise<number> => {
      const out0 = await counter('lb.rewrittenOut');
      const flows0 = await counter('lb.newFlows');
      const r = await udpRound(client, backend, dst[mode], PORT, bytes, o);
      await new Promise((resolve) => setTimeout(resolve, 20)); // let the last batch leave the shim
      if (counting) {
        rates[mode].push(r.pps);
        cpuUs[mode].push(r.cpuUs);
        lost[mode] += r.lost;
        sent[mode] += r.sent;
        rewrittenOut[mode] += (await counter('lb.rewrittenOut')) - out0;
        if (mode === 'vip') newFlows += (await counter('lb.newFlows')) - flows0;
      }
      return r.pps;
    };
    // Warm-up pair (not counted): both paths JIT-compiled, ARP and neighbour entries in place.
    await run('direct');
    await run('vip');
    counting = true;
    const ratios: number[] = [];
    for (let i = 0; i < o.pairs; i++) {
      const order: VipMode[] = i % 2 === 0 ? ['vip', 'direct'] : ['direct', 'vip'];
      const got: Partial<Record<VipMode, number>> = {};
      for (const mode of order) got[mode] = await run(mode);
      ratios.push(got.vip! / got.direct!);
      o.log(
        `vip pair ${i + 1}/${o.pairs}: vip ${Math.round(got.vip!)}/s (${cpuUs.vip.at(-1)!.toFixed(1)} µs CPU each), direct ${Math.round(got.direct!)}/s (${cpuUs.direct.at(-1)!.toFixed(1)} µs CPU each), ratio ${ratios.at(-1)!.toFixed(3)}`,
      );
    }
    return { vip: rates.vip, direct: rates.direct, ratios, cpuUs, lost, sent, rewrittenOut, newFlows, datagramBytes: bytes, underlay: UNDERLAY, network: NETWORK, vipAddress: VIP };
  } finally {
    await Promise.allSettled(planes.map((p) => p.close()));
  }
}
