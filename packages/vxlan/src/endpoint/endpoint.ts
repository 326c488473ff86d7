import { randomInt } from 'node:crypto';
import { BROADCAST_MAC, formatIpv4, formatMac, parseIpv4, parseMac, parseOptions, type Random } from '@weft/interface';
import {
  arp,
  ethernet,
  icmpv4,
  ipv4,
  ETHERTYPE_ARP as ARP_TYPE,
  ETHERTYPE_IPV4 as IPV4_TYPE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP as ICMP_PROTO,
  IPPROTO_UDP as UDP_PROTO,
} from '../codec';
import { ArpResolver, type CachedNeighbour } from './arp-resolver';
import {
  bindOptionsSchema,
  endpointOptionsSchema,
  nameserverArgumentSchema,
  pingOptionsSchema,
  resolveOptionsSchema,
  type EndpointCounters,
  type EndpointDropReason,
  type EndpointOptions,
  type PingOptions,
  type ResolveOptions,
} from './endpoint-options';
import type { Port, PortLink } from '../vtep/port';
import type { Segment } from '../vtep/segment';
import { EndpointClosedError, EndpointError, HostUnreachableError, MessageTooLongError, PingTimeoutError, PortInUseError } from './errors';
import { EndpointUdpSocket, type SocketHost } from './udp-socket';
import { FrameSlab } from './frame-slab';
import { ipv4HeaderChecksumOk as headerChecksumOk, writeUdpFrame as writeFrame, type UdpFrameFields } from './udp-frame';
import { VXLAN_HEADROOM as HEADROOM } from '../vtep/port';
import { NameResolver } from './dns/name-resolver';
import { parseTarget } from './dns/dns-name';
import { NoNameserverError } from './dns/errors';

// Module-local constants for the per-packet path: under CJS transpilation every
// use of an imported name is a property read through re-export getters.
const ETHERTYPE_ARP = ARP_TYPE;
const ETHERTYPE_IPV4 = IPV4_TYPE;
const IPPROTO_ICMP = ICMP_PROTO;
const IPPROTO_UDP = UDP_PROTO;
const VXLAN_HEADROOM = HEADROOM;
const ipv4HeaderChecksumOk = headerChecksumOk;
const writeUdpFrame = writeFrame;

/** Default {@link Random} of DNS query ids and lookup ports: unpredictable to anyone off the path. */
const cryptoRandom: Random = () => randomInt(0x1_0000_0000) / 0x1_0000_0000;

/** What `ping(name)` and `sendTo(data, name, port)` look names up with. */
const RESOLVE_DEFAULTS = resolveOptionsSchema.parse({});

/** First port of the ephemeral range (IANA, RFC 6335), up to 65535. */
const EPHEMERAL_MIN = 49152;

/** A segment's own link (`Link` in vtep/segment.ts): `transmit` that says whether the frame came back. */
interface ReleasingLink extends PortLink {
  transmitReleasing(frame: Uint8Array, headroom: number): boolean;
}

interface PendingPing {
  /** Destination, unsigned 32-bit. */
  ip: number;
  sentAt: number;
  resolve: (rttMs: number) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A userspace port with a MAC and an IPv4 address: a tiny host stack that
 * answers ARP (with a neighbour cache of its own), answers ICMP echo,
 * `ping()`s, carries UDP sockets, and resolves names by sending DNS queries
 * over the segment to its nameserver. Attach it with `segment.attach(endpoint)`
 * or {@link Endpoint.attach}.
 */
export class Endpoint implements Port {
  /** `aa:bb:cc:dd:ee:ff` (lowercase). */
  readonly mac: string;
  /** Dotted quad. */
  readonly ip: string;
  private readonly macBytes: Uint8Array;
  private readonly ipU32: number;
  private readonly o: ReturnType<typeof endpointOptionsSchema.parse>;
  private readonly resolver: ArpResolver;
  private readonly names: NameResolver;
  private dnsServer: string | undefined;
  private readonly random: Random;
  private link: PortLink | undefined;
  private readonly pings = new Map<number, PendingPing>();
  private readonly sockets = new Map<number, EndpointUdpSocket>();
  private readonly ipText = new Map<number, string>();
  /** The last address text {@link Endpoint.sendUdp} parsed (undefined: none) and its value. */
  private lastParsedText: string | undefined;
  private lastParsedIp = 0;
  /** The last address {@link Endpoint.textOf} formatted (-1: none) and its text. */
  private lastTextIp = -1;
  private lastText = '';
  private readonly ipParsed = new Map<string, number>();
  private readonly echoId: number;
  private seq = 0;
  private ipId = 0;
  private nextEphemeral = 49152;
  private closed = false;
  private readonly frame: UdpFrameFields;
  private readonly slab = new FrameSlab();
  /** The link when it is a segment's own, which can hand a sent frame back. */
  private releasingLink: ReleasingLink | undefined;
  /** A frame the segment handed back after sending it: its bytes are free for the next datagram. */
  private spare: Uint8Array | undefined;
  private readonly socketHost: SocketHost;
  private readonly stats: Omit<EndpointCounters, 'dns'> = {
    rxFrames: 0,
    txFrames: 0,
    udpReceived: 0,
    udpSent: 0,
    echoRequestsAnswered: 0,
    drops: { malformed: 0, 'not-for-me': 0, unsupported: 0, 'bad-checksum': 0, fragment: 0, 'no-socket': 0, unresolved: 0, 'queue-full': 0, detached: 0 },
  };

  /** @throws InvalidOptionsError naming the offending option. */
  constructor(options: EndpointOptions) {
    this.o = parseOptions(endpointOptionsSchema, options, 'Endpoint');
    this.macBytes = parseMac(this.o.mac);
    this.mac = formatMac(this.macBytes);
    this.ipU32 = parseIpv4(this.o.ip);
    this.ip = formatIpv4(this.ipU32);
    this.echoId = ((this.macBytes[4]! << 8) | this.macBytes[5]!) ^ 0x5746;
    this.frame = {
      dstMac: this.macBytes,
      srcMac: this.macBytes,
      srcIp: this.ipU32,
      dstIp: 0,
      id: 0,
      ttl: this.o.ttl,
      srcPort: 0,
      dstPort: 0,
      checksum: this.o.udpChecksum,
    };
    this.resolver = new ArpResolver(this.o, (ip) => this.sendArpRequest(ip), () => this.drop('queue-full'));
    this.dnsServer = this.o.nameserver === undefined ? undefined : formatIpv4(parseIpv4(this.o.nameserver));
    this.random = this.o.random ?? cryptoRandom;
    this.names = new NameResolver(
      { random: this.random, maxLookups: this.o.maxLookups },
      { openSocket: () => this.bindRandomPort(), closedError: () => new EndpointClosedError(`endpoint ${this.ip}`) },
    );
    this.socketHost = {
      sendUdp: (srcPort, data, ip, port) => this.sendUdp(srcPort, data, ip, port),
      resolve: (name) => this.resolve(name),
      unbind: (port) => {
        this.sockets.delete(port);
      },
    };
  }

  /** Counters (a fresh copy). */
  get counters(): EndpointCounters {
    return { ...this.stats, drops: { ...this.stats.drops }, dns: this.names.counters };
  }

  /** The DNS server {@link Endpoint.resolve} asks (dotted quad), or undefined when there is none. */
  get nameserver(): string | undefined {
    return this.dnsServer;
  }

  /**
   * Sets (or, with undefined, clears) the DNS server that lookups query on UDP
   * port 53 — as a data plane does once it knows the network's DNS address.
   * Lookups already in flight keep the server they started with.
   * @throws InvalidOptionsError (field `nameserver`) for anything but a dotted-quad IPv4 address or undefined.
   */
  setNameserver(ip: string | undefined): void {
    const { nameserver } = parseOptions(nameserverArgumentSchema, { nameserver: ip }, 'Endpoint.setNameserver');
    this.dnsServer = nameserver === undefined ? undefined : formatIpv4(parseIpv4(nameserver));
  }

  /** The segment this endpoint is attached to, if any. */
  get segment(): Segment | undefined {
    return this.link?.segment;
  }

  /**
   * Attaches to `segment` (same as `segment.attach(this)`). Returns this.
   * @throws EndpointError when already attached, EndpointClosedError after close, and what `Segment.attach` throws.
   */
  attach(segment: Segment): this {
    segment.attach(this);
    return this;
  }

  /** @internal Port hook: called by `Segment.attach`. */
  attached(link: PortLink): void {
    if (this.closed) throw new EndpointClosedError(`endpoint ${this.ip}`);
    if (this.link !== undefined) throw new EndpointError(`endpoint ${this.ip} is already attached to segment ${this.link.segment.vni}`);
    this.link = link;
    // A segment's own link can hand a sent frame back (see sendUdpTo); any other link keeps what it is given.
    this.releasingLink = typeof (link as Partial<ReleasingLink>).transmitReleasing === 'function' ? (link as ReleasingLink) : undefined;
    this.spare = undefined;
  }

  /** @internal Port hook: called when detached. */
  detached(): void {
    this.link = undefined;
    this.releasingLink = undefined;
    this.spare = undefined;
  }

  /** Neighbour-cache snapshot (expired entries omitted). */
  neighbours(): CachedNeighbour[] {
    return this.resolver.entries();
  }

  /**
   * Opens a UDP socket on `port` (0 picks a free one from 49152 up).
   * @throws InvalidOptionsError (field `port`) for a port that is not an integer in 0..65535;
   * PortInUseError when it is taken; EndpointClosedError after close.
   */
  bind(port = 0): EndpointUdpSocket {
    let p = parseOptions(bindOptionsSchema, { port }, 'Endpoint.bind').port;
    if (this.closed) throw new EndpointClosedError(`endpoint ${this.ip}`);
    if (p === 0) {
      for (let i = 0; i < 16384 && this.sockets.has(this.nextEphemeral); i++) this.nextEphemeral = this.nextEphemeral >= 65535 ? 49152 : this.nextEphemeral + 1;
      p = this.nextEphemeral;
      this.nextEphemeral = p >= 65535 ? 49152 : p + 1;
    }
    if (this.sockets.has(p)) throw new PortInUseError(p);
    const socket = new EndpointUdpSocket(p, this.socketHost);
    this.sockets.set(p, socket);
    return socket;
  }

  /**
   * Resolves the MAC of `ip` (cache, else ARP with retries).
   * @throws InvalidAddressError for a malformed `ip`.
   * Rejects with HostUnreachableError when ARP gets no answer, EndpointClosedError on close.
   */
  resolveMac(ip: string): Promise<string> {
    const dst = parseIpv4(ip);
    return new Promise((resolve, reject) => {
      this.withMac(dst, (mac) => {
        if (mac !== undefined) resolve(formatMac(mac));
        else reject(this.closed ? new EndpointClosedError(`endpoint ${this.ip}`) : new HostUnreachableError(formatIpv4(dst)));
      });
    });
  }

  /**
   * The IPv4 addresses of `name` (its A records, after any CNAME chain in the
   * answer), in the order the nameserver gave them; never empty.
   *
   * An IPv4 literal resolves to itself (`[ip]`, canonical text) with no query.
   * Otherwise a DNS query (opcode QUERY, RD set, type A, class IN, the name as
   * given — case and matching are left to the server; no search domains, no
   * hosts file) goes from a fresh UDP socket on a random ephemeral port of this
   * endpoint to {@link Endpoint.nameserver}:53 over the segment, with a random
   * 16-bit id. The reply must come from nameserver:53 and match the id and the
   * question; anything else on that socket is ignored and counted
   * (`counters.dns.mismatched`, `.malformed`). With no matching reply within
   * `timeoutMs` the same query is sent again, `attempts` times in all. The
   * socket is closed and the timer cleared however the lookup ends. A truncated
   * (TC) reply is used for the A records it carries: the endpoint has no TCP.
   *
   * Rejects with NoNameserverError (none set), NameNotFoundError (NXDOMAIN, or
   * no A record: NODATA), DnsServerFailureError (SERVFAIL, REFUSED or another
   * error RCODE), DnsTruncatedError (TC and no A record), DnsTimeoutError,
   * TooManyLookupsError (`maxLookups` already in flight) or EndpointClosedError
   * (closed before or during the lookup). A nameserver that does not answer ARP
   * shows as DnsTimeoutError.
   * @throws InvalidAddressError for digits and dots that are no dotted quad (`10.0.0`);
   * InvalidOptionsError for a `name` that is no host name (field `name`) or bad options (synchronously, before any promise).
   */
  resolve(name: string, options: ResolveOptions = {}): Promise<string[]> {
    const target = parseTarget(name, 'Endpoint.resolve');
    const o = parseOptions(resolveOptionsSchema, options, 'Endpoint.resolve');
    return this.lookup(target, o);
  }

  /**
   * Sends an ICMP echo request to `target` and resolves with the round-trip time
   * in ms (from the request leaving this endpoint to the reply arriving, by the clock).
   * `target` is an IPv4 literal, or a name looked up first with {@link Endpoint.resolve}
   * (default {@link ResolveOptions}; the first address is pinged, and the lookup is not part of the time).
   * Rejects with PingTimeoutError, HostUnreachableError (ARP failed), EndpointClosedError,
   * or what `resolve` rejects with for a name.
   * @throws InvalidAddressError for a malformed address, InvalidOptionsError for a malformed name
   * (field `name`) or bad options (synchronously, before any promise).
   */
  ping(target: string, options: PingOptions = {}): Promise<number> {
    const dst = parseTarget(target, 'Endpoint.ping');
    const o = parseOptions(pingOptionsSchema, options, 'Endpoint.ping');
    if (typeof dst === 'number') return this.pingIp(dst, o.timeoutMs, o.size);
    return this.lookup(dst, RESOLVE_DEFAULTS).then((addresses) => this.pingIp(parseIpv4(addresses[0]!), o.timeoutMs, o.size));
  }

  private pingIp(dst: number, timeoutMs: number, size: number): Promise<number> {
    if (this.closed) return Promise.reject(new EndpointClosedError(`endpoint ${this.ip}`));
    const seq = (this.seq = (this.seq + 1) & 0xffff);
    const dstText = formatIpv4(dst);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(seq);
        reject(new PingTimeoutError(dstText, timeoutMs));
      }, timeoutMs);
      const entry: PendingPing = { ip: dst, sentAt: this.o.clock.now(), resolve, reject, timer };
      this.pings.set(seq, entry);
      this.withMac(dst, (mac) => {
        if (!this.pings.has(seq)) return;
        if (mac === undefined) {
          clearTimeout(timer);
          this.pings.delete(seq);
          reject(this.closed ? new EndpointClosedError(`endpoint ${this.ip}`) : new HostUnreachableError(dstText));
          return;
        }
        const data = new Uint8Array(size);
        for (let i = 0; i < size; i++) data[i] = (0x10 + i) & 0xff;
        entry.sentAt = this.o.clock.now();
        this.transmitIp(mac, dst, IPPROTO_ICMP, icmpv4.encode({ type: ICMP_ECHO_REQUEST, code: 0, id: this.echoId, seq, payload: data }));
      });
    });
  }

  /**
   * Detaches from the segment, closes every socket, cancels timers and rejects
   * pending pings and name lookups with EndpointClosedError. Idempotent.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.names.close();
    for (const s of [...this.sockets.values()]) s.close();
    this.resolver.close();
    for (const [seq, p] of this.pings) {
      clearTimeout(p.timer);
      this.pings.delete(seq);
      p.reject(new EndpointClosedError(`endpoint ${this.ip}`));
    }
    this.link?.detach();
    this.link = undefined;
    return Promise.resolve();
  }

  /**
   * Port hook: a frame from the segment. Malformed or unwanted frames are
   * dropped and counted; the only exception that can escape is one thrown by a
   * socket's `message` listener (the segment counts it as `port-error`).
   */
  receive(frame: Uint8Array): void {
    this.receiveAt(frame, 0);
  }

  /**
   * @internal {@link Endpoint.receive} of the frame `packet[offset, packet.length)`:
   * how a segment delivers a received packet without building a view of its frame.
   */
  receiveAt(packet: Uint8Array, offset: number): void {
    if (this.closed) return;
    this.stats.rxFrames++;
    if (packet.length - offset < 14) return this.drop('malformed');
    if (!this.addressedToMe(packet, offset)) return this.drop('not-for-me');
    const type = (packet[offset + 12]! << 8) | packet[offset + 13]!;
    if (type === ETHERTYPE_IPV4) return this.receiveIpv4(packet, offset, offset + 14);
    if (type === ETHERTYPE_ARP) return this.receiveArp(offset === 0 ? packet : packet.subarray(offset));
    this.drop('unsupported');
  }

  private addressedToMe(f: Uint8Array, o: number): boolean {
    const m = this.macBytes;
    if (f[o] === m[0] && f[o + 1] === m[1] && f[o + 2] === m[2] && f[o + 3] === m[3] && f[o + 4] === m[4] && f[o + 5] === m[5]) return true;
    return (f[o]! & f[o + 1]! & f[o + 2]! & f[o + 3]! & f[o + 4]! & f[o + 5]!) === 0xff;
  }

  private drop(reason: EndpointDropReason): void {
    this.stats.drops[reason]++;
  }

  /** The frame starts at `f[base]` and runs to the end of `f`; its IPv4 header is at `o`. */
  private receiveIpv4(f: Uint8Array, base: number, o: number): void {
    if (f.length < o + 20) return this.drop('malformed');
    const vihl = f[o]!;
    const ihl = (vihl & 0x0f) * 4;
    const total = (f[o + 2]! << 8) | f[o + 3]!;
    if (vihl >> 4 !== 4 || ihl < 20 || total < ihl || f.length < o + total) return this.drop('malformed');
    if (!ipv4HeaderChecksumOk(f, o, ihl)) return this.drop('bad-checksum');
    const dst = ((f[o + 16]! << 24) | (f[o + 17]! << 16) | (f[o + 18]! << 8) | f[o + 19]!) >>> 0;
    if (dst !== this.ipU32 && dst !== 0xffffffff) return this.drop('not-for-me');
    if ((f[o + 6]! & 0x3f) !== 0 || f[o + 7] !== 0) return this.drop('fragment');
    const src = ((f[o + 12]! << 24) | (f[o + 13]! << 16) | (f[o + 14]! << 8) | f[o + 15]!) >>> 0;
    const proto = f[o + 9]!;
    if (proto === IPPROTO_UDP) return this.receiveUdp(src, f, o + ihl, o + total);
    if (proto === IPPROTO_ICMP) return this.receiveIcmp(src, f.subarray(o + ihl, o + total), f.subarray(base, base + 12));
    this.drop('unsupported');
  }

  /** The UDP datagram is `f[start, end)` (the IPv4 payload). */
  private receiveUdp(src: number, f: Uint8Array, start: number, end: number): void {
    if (end - start < 8) return this.drop('malformed');
    const len = (f[start + 4]! << 8) | f[start + 5]!;
    if (len < 8 || len > end - start) return this.drop('malformed');
    const socket = this.sockets.get((f[start + 2]! << 8) | f[start + 3]!);
    if (socket === undefined) return this.drop('no-socket');
    this.stats.udpReceived++;
    // A view built directly: cheaper than subarray's species lookup (and than Buffer's subclass when f is a Buffer).
    const data = new Uint8Array(f.buffer, f.byteOffset + start + 8, len - 8);
    socket.deliver(data, { address: this.textOf(src), port: (f[start]! << 8) | f[start + 1]!, size: len - 8 });
  }

  /** `macs` is the frame's first 12 bytes (destination and source MAC). */
  private receiveIcmp(src: number, p: Uint8Array, macs: Uint8Array): void {
    let msg;
    try {
      msg = icmpv4.decode(p).value;
    } catch {
      return this.drop('malformed');
    }
    if (msg.type === ICMP_ECHO_REQUEST) {
      // Reply to the MAC the request came from, as the kernel's route cache would.
      const reply = icmpv4.encode({ type: ICMP_ECHO_REPLY, code: 0, id: msg.id ?? 0, seq: msg.seq ?? 0, payload: msg.payload });
      this.stats.echoRequestsAnswered++;
      this.transmitIp(macs.slice(6, 12), src, IPPROTO_ICMP, reply);
      return;
    }
    if (msg.type === ICMP_ECHO_REPLY && msg.id === this.echoId && msg.seq !== undefined) {
      const ping = this.pings.get(msg.seq);
      if (ping === undefined || ping.ip !== src) return this.drop('not-for-me');
      this.pings.delete(msg.seq);
      clearTimeout(ping.timer);
      ping.resolve(this.o.clock.now() - ping.sentAt);
      return;
    }
    this.drop('unsupported');
  }

  private receiveArp(frame: Uint8Array): void {
    let a;
    try {
      a = arp.decode(frame, 14).value;
    } catch {
      return this.drop('malformed');
    }
    const sender = parseIpv4(a.senderIp);
    const target = parseIpv4(a.targetIp);
    const senderMac = parseMac(a.senderMac);
    if (target !== this.ipU32) {
      // Refresh an existing entry (RFC 826 merge flag), but learn nothing new.
      if (this.resolver.has(sender)) this.resolver.learn(sender, senderMac);
      return this.drop('not-for-me');
    }
    this.resolver.learn(sender, senderMac);
    if (a.op === 'request') {
      const payload = arp.encode({ op: 'reply', senderMac: this.mac, senderIp: this.ip, targetMac: a.senderMac, targetIp: a.senderIp });
      this.transmit(ethernet.encode({ dst: a.senderMac, src: this.mac, etherType: ETHERTYPE_ARP, payload }));
    }
  }

  /** Resolves `target`, an address or a name from {@link parseTarget}. */
  private lookup(target: number | string, o: { timeoutMs: number; attempts: number }): Promise<string[]> {
    if (this.closed) return Promise.reject(new EndpointClosedError(`endpoint ${this.ip}`));
    if (typeof target === 'number') return Promise.resolve([formatIpv4(target)]);
    const nameserver = this.dnsServer;
    if (nameserver === undefined) return Promise.reject(new NoNameserverError(target));
    return this.names.lookup({ name: target, nameserver, timeoutMs: o.timeoutMs, attempts: o.attempts });
  }

  /** A socket on a random free ephemeral port (a few random tries, then the next free one). */
  private bindRandomPort(): EndpointUdpSocket {
    for (let i = 0; i < 8; i++) {
      const port = EPHEMERAL_MIN + (Math.floor(this.random() * 16384) & 16383);
      if (!this.sockets.has(port)) return this.bind(port);
    }
    return this.bind(0);
  }

  /** Calls `then` with the MAC of `ip` (synchronously when known), or undefined when it cannot be had. */
  private withMac(ip: number, then: (mac: Uint8Array | undefined) => void): void {
    if (this.closed) return then(undefined);
    if (ip === 0xffffffff) return then(parseMac(BROADCAST_MAC));
    this.resolver.resolve(ip, then);
  }

  private sendArpRequest(ip: number): void {
    const payload = arp.encode({ op: 'request', senderMac: this.mac, senderIp: this.ip, targetMac: '00:00:00:00:00:00', targetIp: formatIpv4(ip) });
    this.transmit(ethernet.encode({ dst: BROADCAST_MAC, src: this.mac, etherType: ETHERTYPE_ARP, payload }));
  }

  private sendUdp(srcPort: number, data: Uint8Array, ip: string, port: number): void {
    if (this.closed) throw new EndpointClosedError(`endpoint ${this.ip}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new EndpointError(`send: port must be an integer in 1..65535 (got ${port})`);
    if (data.length > 65507) throw new MessageTooLongError(data.length);
    // Consecutive datagrams mostly go to one address: a one-entry cache before the map.
    let dst = ip === this.lastParsedText ? this.lastParsedIp : this.ipParsed.get(ip);
    if (dst === undefined) {
      dst = parseIpv4(ip);
      if (this.ipParsed.size >= 1024) this.ipParsed.clear();
      this.ipParsed.set(ip, dst);
    }
    this.lastParsedText = ip;
    this.lastParsedIp = dst;
    const hit = this.resolver.lookup(dst);
    if (hit !== undefined) {
      this.sendUdpTo(hit, dst, srcPort, port, data);
      return;
    }
    const copy = data.slice();
    const d = dst;
    this.withMac(dst, (mac) => {
      if (mac !== undefined) this.sendUdpTo(mac, d, srcPort, port, copy);
      else if (!this.closed) this.drop('unresolved');
    });
  }

  private sendUdpTo(mac: Uint8Array, dst: number, srcPort: number, dstPort: number, data: Uint8Array): void {
    const f = this.frame;
    f.dstMac = mac;
    f.dstIp = dst;
    f.id = this.ipId = (this.ipId + 1) & 0xffff;
    f.srcPort = srcPort;
    f.dstPort = dstPort;
    this.stats.udpSent++;
    const link = this.releasingLink;
    if (link === undefined || link !== this.link) {
      this.transmit(writeUdpFrame(f, data, this.slab), VXLAN_HEADROOM);
      return;
    }
    // The segment hands the frame back when the underlay released it during the call
    // (sent in place, nothing queued): the next datagram of the same size reuses its bytes.
    const frame = writeUdpFrame(f, data, this.slab, this.spare);
    this.spare = undefined;
    this.stats.txFrames++;
    if (link.transmitReleasing(frame, VXLAN_HEADROOM)) this.spare = frame;
  }

  private transmitIp(mac: Uint8Array, dst: number, protocol: number, payload: Uint8Array): void {
    const packet = ipv4.encode({
      tos: 0,
      id: (this.ipId = (this.ipId + 1) & 0xffff),
      df: true,
      mf: false,
      fragmentOffset: 0,
      ttl: this.o.ttl,
      protocol,
      src: this.ip,
      dst: formatIpv4(dst),
      payload,
    });
    this.transmit(ethernet.encode({ dst: formatMac(mac), src: this.mac, etherType: ETHERTYPE_IPV4, payload: packet }));
  }

  private transmit(frame: Uint8Array, headroom = 0): void {
    const link = this.link;
    if (link === undefined) return this.drop('detached');
    this.stats.txFrames++;
    link.transmit(frame, headroom);
  }

  private textOf(ip: number): string {
    // Consecutive datagrams mostly come from one sender: a one-entry cache before the map.
    if (ip === this.lastTextIp) return this.lastText;
    let s = this.ipText.get(ip);
    if (s === undefined) {
      s = formatIpv4(ip);
      if (this.ipText.size >= 1024) this.ipText.clear();
      this.ipText.set(ip, s);
    }
    this.lastTextIp = ip;
    this.lastText = s;
    return s;
  }
}
