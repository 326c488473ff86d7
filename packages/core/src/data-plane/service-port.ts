import { formatIpv4, parseIpv4, parseMac, type DnsQuery } from '@weft/interface';
import {
  buildArpReply,
  writeUdpFrame,
  ETHERTYPE_ARP as ARP_TYPE,
  ETHERTYPE_IPV4 as IPV4_TYPE,
  IPPROTO_ICMP as ICMP_PROTO,
  IPPROTO_UDP as UDP_PROTO,
  type Endpoint,
  type Neighbour,
  type Port,
  type PortLink,
  type Segment,
} from '@weft/vxlan';
import { patchChecksum, readU32, rewriteIpv4Address } from './address-rewrite';
import type { NetworkServices, ServiceListener, ShimAddress, VipEntry } from './network-services';
import { VipBalancer } from './vip-balancer';

// Module-local bindings for the per-frame path: under CJS transpilation every use of an imported name is a getter read.
const ETHERTYPE_IPV4 = IPV4_TYPE;
const ETHERTYPE_ARP = ARP_TYPE;
const IPPROTO_ICMP = ICMP_PROTO;
const IPPROTO_UDP = UDP_PROTO;
const DNS_PORT = 53;
/** The largest UDP payload of one IPv4 datagram. */
const MAX_UDP_PAYLOAD = 65507;

/**
 * The shim between a local `Endpoint` and its network's segment: the `Port`
 * the segment sees (the endpoint's MAC) and the `PortLink` the endpoint
 * transmits on (`segment` is the real one). It answers, in the endpoint's
 * place on the wire, for the addresses the network's services own:
 *
 * - the DNS address: ARP for it is answered here with its virtual MAC and
 *   never forwarded; UDP to its port 53 goes to the plane's
 *   `DnsQueryHandler` and the reply comes back as a datagram from it, port 53
 *   (built here, delivered after the handler's promise settles, never
 *   re-entrantly); anything else to it is dropped (`dns.drops.not-dns`);
 * - each VIP: ARP answered with its virtual MAC; UDP rewritten per flow to
 *   a backend (destination MAC and IP, IPv4 and UDP checksums updated
 *   incrementally) and sent into the segment with its headroom, and the
 *   backend's replies rewritten to come from the VIP before the endpoint
 *   sees them (see {@link VipBalancer} for the choice); ICMP echo requests
 *   to a VIP are answered here, from the VIP (as a Docker VIP answers ping),
 *   so reachability checks work without reaching any backend; any other
 *   protocol is dropped (`lb.drops.unsupported`).
 *
 * When the network has no VIP and no DNS address, and the endpoint has no
 * live VIP flow, frames pass straight through (one property read each way;
 * the endpoint's VXLAN headroom passes along).
 */
export class ServicePort implements Port, PortLink, ServiceListener {
  /** The endpoint's MAC: the segment's FDB entry for the endpoint points here. */
  readonly mac: string;
  /** The segment's link; kept after a detach, so late frames are dropped and counted there (`detached`). */
  private up: PortLink | undefined;
  private live = false;
  private readonly macBytes: Uint8Array;
  private readonly ip: number;
  private readonly balancer: VipBalancer;
  private ipId = 0;

  constructor(
    /** The endpoint behind the shim. */
    readonly endpoint: Endpoint,
    private readonly services: NetworkServices,
  ) {
    this.mac = endpoint.mac;
    this.macBytes = parseMac(endpoint.mac);
    this.ip = parseIpv4(endpoint.ip);
    this.balancer = new VipBalancer(this.ip, services);
    services.listen(this);
  }

  /** VIP flows this endpoint has pinned now. */
  get flows(): number {
    return this.balancer.size;
  }

  // ---- Port: the segment's side ----

  /** @internal Port hook (`Segment.attach`): hands the endpoint this shim as its link. Throws what `Endpoint.attached` throws (e.g. it was closed). */
  attached(link: PortLink): void {
    const before = this.up;
    this.up = link;
    try {
      this.endpoint.attached(this);
    } catch (err) {
      this.up = before;
      throw err;
    }
    this.live = true;
  }

  /** @internal Port hook: the segment let go of the shim; the endpoint is detached too. */
  detached(): void {
    this.live = false;
    this.endpoint.detached();
  }

  /** @internal A frame from the segment for the endpoint: replies of VIP flows are rewritten to come from the VIP. */
  receive(frame: Uint8Array): void {
    if (this.balancer.size !== 0) this.fromBackend(frame);
    this.endpoint.receive(frame);
  }

  // ---- PortLink: the endpoint's side ----

  /** The segment the endpoint is on (through this shim). */
  get segment(): Segment {
    return (this.up as PortLink).segment;
  }

  /** @internal A frame from the endpoint: passed through, or taken by the services. */
  transmit(frame: Uint8Array, headroom = 0): void {
    if (!this.services.active) return (this.up as PortLink).transmit(frame, headroom);
    this.inspect(frame, headroom);
  }

  /** Detaches the shim (and so the endpoint) from the segment. Idempotent. */
  detach(): void {
    this.up?.detach();
  }

  // ---- ServiceListener ----

  /** @internal The VIP at `ip` was removed. */
  vipRemoved(ip: number): void {
    this.balancer.forgetVip(ip);
  }

  /** Forgets every flow and stops listening to the network's services (the endpoint is gone). */
  close(): void {
    this.services.unlisten(this);
    this.balancer.clear();
  }

  private inspect(f: Uint8Array, headroom: number): void {
    const up = this.up as PortLink;
    const type = f.length >= 14 ? (f[12]! << 8) | f[13]! : -1;
    if (type === ETHERTYPE_ARP) return this.arp(f, up);
    // Anything else, and IPv4 too short to carry a destination, is the segment's to judge.
    if (type !== ETHERTYPE_IPV4 || f.length < 34) return up.transmit(f, headroom);
    const dst = readU32(f, 30);
    const s = this.services;
    if (s.dns !== undefined && dst === s.dns.ip) return this.toDns(f, s.dns);
    const vip = s.vips.get(dst);
    if (vip === undefined) return up.transmit(f, headroom);
    this.toVip(f, headroom, vip, up);
  }

  /** An ARP frame from the endpoint: a request for the DNS address or a VIP is answered here; everything else passes. */
  private arp(f: Uint8Array, up: PortLink): void {
    const s = this.services;
    if (f.length >= 42 && f[20] === 0 && f[21] === 1) {
      const target = readU32(f, 38);
      let neighbour: Neighbour | undefined;
      let dns = false;
      if (s.dns !== undefined && target === s.dns.ip) {
        neighbour = s.dns.neighbour;
        dns = true;
      } else neighbour = s.vips.get(target)?.neighbour;
      if (neighbour !== undefined) {
        let reply: Uint8Array;
        try {
          reply = buildArpReply(f, 14, neighbour);
        } catch {
          if (dns) s.counters.dns.drops.malformed++;
          else s.counters.lb.drops.malformed++;
          return;
        }
        if (dns) s.counters.dns.arpAnswered++;
        else s.counters.lb.arpAnswered++;
        queueMicrotask(() => this.deliver(reply, dns));
        return;
      }
    }
    up.transmit(f, 0);
  }

  /** A frame to the DNS address: UDP to port 53 goes to the handler; everything else is dropped and counted. */
  private toDns(f: Uint8Array, dns: ShimAddress): void {
    const c = this.services.counters.dns;
    const ihl = (f[14]! & 0x0f) * 4;
    const total = (f[16]! << 8) | f[17]!;
    if (f[14]! >> 4 !== 4 || ihl < 20 || total < ihl || f.length < 14 + total) {
      c.drops.malformed++;
      return;
    }
    if (f[23] !== IPPROTO_UDP || (f[20]! & 0x3f) !== 0 || f[21] !== 0) {
      c.drops['not-dns']++;
      return;
    }
    const u = 14 + ihl;
    if (total - ihl < 8) {
      c.drops.malformed++;
      return;
    }
    if (((f[u + 2]! << 8) | f[u + 3]!) !== DNS_PORT) {
      c.drops['not-dns']++;
      return;
    }
    const len = (f[u + 4]! << 8) | f[u + 5]!;
    if (len < 8 || len > total - ihl) {
      c.drops.malformed++;
      return;
    }
    const handler = this.services.settings.dnsHandler();
    if (handler === undefined) {
      c.drops['no-handler']++;
      return;
    }
    const query: DnsQuery = {
      networkId: this.services.networkId,
      sourceIp: formatIpv4(readU32(f, 26)),
      sourcePort: (f[u]! << 8) | f[u + 1]!,
      transport: 'udp',
      message: f.slice(u + 8, u + len),
    };
    c.queries++;
    // The handler runs after the endpoint's send returns; its reply arrives later still.
    queueMicrotask(() => {
      let pending: Promise<Uint8Array | undefined>;
      try {
        pending = Promise.resolve(handler(query));
      } catch {
        c.drops['handler-error']++;
        return;
      }
      pending.then(
        (reply) => this.dnsReply(reply, dns, query.sourcePort),
        () => {
          c.drops['handler-error']++;
        },
      );
    });
  }

  private dnsReply(reply: unknown, dns: ShimAddress, clientPort: number): void {
    const c = this.services.counters.dns;
    if (reply === undefined) {
      c.noReply++;
      return;
    }
    if (!(reply instanceof Uint8Array)) {
      c.drops['handler-error']++;
      return;
    }
    if (reply.length > MAX_UDP_PAYLOAD) {
      c.drops['reply-too-large']++;
      return;
    }
    if (!this.live) {
      c.drops.undeliverable++;
      return;
    }
    const frame = writeUdpFrame(
      {
        dstMac: this.macBytes,
        srcMac: dns.neighbour.macBytes,
        srcIp: dns.ip,
        dstIp: this.ip,
        id: (this.ipId = (this.ipId + 1) & 0xffff),
        ttl: 64,
        srcPort: DNS_PORT,
        dstPort: clientPort,
        checksum: true,
      },
      reply,
    );
    c.replies++;
    this.deliver(frame, true);
  }

  /** A frame to a VIP: UDP is balanced, ICMP echo answered, the rest dropped. */
  private toVip(f: Uint8Array, headroom: number, vip: VipEntry, up: PortLink): void {
    const c = this.services.counters.lb;
    const ihl = (f[14]! & 0x0f) * 4;
    const total = (f[16]! << 8) | f[17]!;
    if (f[14]! >> 4 !== 4 || ihl < 20 || total < ihl + 8 || f.length < 14 + total) {
      c.drops.malformed++;
      return;
    }
    const proto = f[23];
    const fragment = (f[20]! & 0x3f) !== 0 || f[21] !== 0;
    const u = 14 + ihl;
    if (proto === IPPROTO_UDP && !fragment) {
      const flow = this.balancer.route(vip, (f[u]! << 8) | f[u + 1]!, (f[u + 2]! << 8) | f[u + 3]!, this.services.settings.clock.now());
      if (flow === undefined) return;
      f.set(flow.mac, 0);
      rewriteIpv4Address(f, 14, 30, flow.backend, u);
      c.rewrittenOut++;
      up.transmit(f, headroom);
      return;
    }
    if (proto === IPPROTO_ICMP && !fragment && f[u] === 8 && f[u + 1] === 0) return this.echo(f, vip, u);
    c.drops.unsupported++;
  }

  /** Answers an ICMP echo request to `vip` in place: addresses swapped, type 8 → 0 (checksum updated), delivered back. */
  private echo(f: Uint8Array, vip: VipEntry, icmp: number): void {
    f.set(this.macBytes, 0);
    f.set(vip.neighbour.macBytes, 6);
    // Source and destination swap: the header's sum is unchanged.
    for (let i = 26; i < 30; i++) {
      const b = f[i]!;
      f[i] = f[i + 4]!;
      f[i + 4] = b;
    }
    f[icmp] = 0;
    patchChecksum(f, icmp + 2, ~0x0800 & 0xffff, false); // ~m + m' with m = 0x0800 (type 8, code 0), m' = 0
    this.services.counters.lb.echoAnswered++;
    queueMicrotask(() => this.deliver(f, false));
  }

  /** A frame from the segment while the endpoint has VIP flows: a flow's reply gets the VIP as its source. */
  private fromBackend(f: Uint8Array): void {
    if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== IPPROTO_UDP) return;
    const ihl = (f[14]! & 0x0f) * 4;
    if (f[14]! >> 4 !== 4 || ihl < 20 || f.length < 14 + ihl + 8 || (f[20]! & 0x3f) !== 0 || f[21] !== 0) return;
    const u = 14 + ihl;
    const flow = this.balancer.reply(readU32(f, 26), (f[u]! << 8) | f[u + 1]!, (f[u + 2]! << 8) | f[u + 3]!, this.services.settings.clock.now());
    if (flow === undefined) return;
    f.set(flow.vip.neighbour.macBytes, 6);
    rewriteIpv4Address(f, 14, 26, flow.vip.ip, u);
    this.services.counters.lb.rewrittenIn++;
  }

  /** Hands a frame the shim made to the endpoint (asynchronous callers only). */
  private deliver(frame: Uint8Array, dns: boolean): void {
    const c = this.services.counters;
    if (!this.live) {
      if (dns) c.dns.drops.undeliverable++;
      else c.lb.drops.undeliverable++;
      return;
    }
    try {
      this.endpoint.receive(frame);
    } catch {
      if (dns) c.dns.drops['port-error']++;
      else c.lb.drops['port-error']++;
    }
  }
}
