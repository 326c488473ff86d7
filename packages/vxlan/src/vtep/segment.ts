import { formatSocketAddress, InvalidOptionsError, parseMac, parseOptions, sameSocketAddress, type Clock, type SocketAddress } from '@weft/interface';
import { macKey as macKeyImport } from '../codec';

// Module-local binding: under CJS transpilation every use of an imported name
// is a property read through re-export getters; the hot path avoids that.
const macKey = macKeyImport;
const decidePortFrame = decidePort;
const decideRemoteFrameAt = decideRemoteAt;
import { socketAddressSchema } from '../option-schemas';
import { VtepClosedError } from './errors';
import { buildArpReply } from './arp-reply';
import { copyCounters, emptyCounters, type DropReason, type VtepCounters } from './counters';
import { Fdb, type FdbEntry, type LocalTarget } from './fdb';
import { decidePortFrame as decidePort, decideRemoteFrameAt as decideRemoteAt, type ForwardingView } from './forwarding';
import { l2HeaderLength } from './frame-header';
import { NeighbourTable, type Neighbour } from './neighbour-table';
import type { Port, PortLink } from './port';

/** Settings of one segment, resolved from the VTEP's defaults and `addSegment` options. */
export interface SegmentSettings {
  mtu: number;
  learning: boolean;
  learnedPort: 'source' | number;
  agingMs: number;
  maxLearned: number;
  arpSuppression: boolean;
  floodUnknownUnicast: boolean;
}

/** @internal What a segment needs from its VTEP. */
export interface SegmentHost {
  readonly clock: Clock;
  readonly counters: VtepCounters;
  /**
   * Encapsulates `frame` with `vni` and sends it to `to`: in place when
   * `headroom` >= 8 (ownership of frame and headroom passes), else into a copy.
   * Returns true when the frame was sent in place and the underlay released it:
   * frame and headroom are then the caller's again.
   */
  encapsulate(vni: number, frame: Uint8Array, to: SocketAddress, headroom: number): boolean;
  readonly closed: boolean;
}

/**
 * A port that can also take a frame as `packet[offset, packet.length)`, with
 * the contract of `receive` (it owns the packet from then on): the receive path
 * then builds no view of the frame. `Endpoint` is one.
 */
interface OffsetPort extends Port {
  receiveAt(packet: Uint8Array, offset: number): void;
}

class Link implements PortLink {
  detachedFlag = false;
  constructor(
    readonly segment: Segment,
    readonly port: Port,
    readonly target: LocalTarget,
    /** `macKey` of the port's MAC at attach time (its FDB key). */
    readonly key: number,
  ) {}
  transmit(frame: Uint8Array, headroom = 0): void {
    this.segment.fromPort(this, frame, headroom);
  }
  /**
   * @internal {@link Link.transmit}, returning true when the frame and its
   * headroom are back in the caller's hands: sent on in place through an
   * underlay that released them (see `ReleasingUnderlay`), so the caller may
   * write its next frame into the same bytes. False: the segment keeps them.
   */
  transmitReleasing(frame: Uint8Array, headroom: number): boolean {
    return this.segment.fromPort(this, frame, headroom);
  }
  detach(): void {
    this.segment.detach(this.port);
  }
}

/**
 * One VXLAN segment (VNI): an L2 broadcast domain like a bridge, spanning the
 * ports attached here and the remote VTEPs in its FDB and flood list. Created
 * by `Vtep.addSegment`; forwarding decisions are the pure functions in
 * `forwarding.ts` applied to this segment's tables.
 */
export class Segment implements ForwardingView {
  /** The MAC → port / remote VTEP table. Prefer {@link Segment.addRemoteMac} to edit it. */
  readonly fdb: Fdb;
  /** IPv4 → MAC bindings used for ARP suppression. */
  readonly neighbours = new NeighbourTable();
  /** Largest inner payload in bytes (frame length minus its Ethernet header). */
  readonly mtu: number;
  /** Whether ARP requests are answered from the neighbour table. */
  readonly arpSuppression: boolean;
  /** Whether unicast frames with no FDB entry are flooded. */
  readonly floodUnknownUnicast: boolean;
  private readonly settings: SegmentSettings;
  private readonly links = new Map<Port, Link>();
  /** Attached ports by MAC key, in attach order. */
  private readonly localByKey = new Map<number, Link>();
  /** Snapshot of `localByKey`'s links for flooding (rebuilt on the first read after a change, so attaching many ports is O(1) each). */
  private localSnapshot: Link[] | undefined = [];
  private flood: SocketAddress[] = [];
  private readonly stats = emptyCounters();
  private closedFlag = false;

  /** @internal Use `Vtep.addSegment`. */
  constructor(
    /** The VXLAN Network Identifier, 0..16777215. */
    readonly vni: number,
    settings: SegmentSettings,
    private readonly host: SegmentHost,
  ) {
    this.settings = settings;
    this.mtu = settings.mtu;
    this.arpSuppression = settings.arpSuppression;
    this.floodUnknownUnicast = settings.floodUnknownUnicast;
    this.fdb = new Fdb(settings.agingMs, settings.maxLearned);
  }

  /** Counters of this segment (a fresh copy); the VTEP's counters include them. */
  get counters(): VtepCounters {
    return copyCounters(this.stats);
  }

  /** The attached ports' links in attach order (a snapshot: safe to iterate while ports come and go). */
  private get localPorts(): Link[] {
    return (this.localSnapshot ??= [...this.localByKey.values()]);
  }

  /** Ports attached now. */
  get ports(): Port[] {
    return this.localPorts.map((l) => l.port);
  }

  /** Remote VTEPs that receive a copy of every flooded frame (head-end replication). */
  get floodList(): SocketAddress[] {
    return [...this.flood];
  }

  /**
   * Attaches `port`, installs a static FDB entry for its MAC and calls
   * `port.attached(link)`. Returns the link the port transmits on.
   * @throws InvalidOptionsError when the port is already attached, its MAC is malformed
   * or already used by another attached port; whatever `port.attached` throws (the attach is undone).
   * @throws VtepClosedError when the segment was removed or its VTEP closed.
   */
  attach(port: Port): PortLink {
    if (this.closedFlag) throw new VtepClosedError(`segment ${this.vni}`);
    if (this.links.has(port)) throw new InvalidOptionsError('port', `segment ${this.vni}: port ${port.mac} is already attached`);
    let key: number;
    try {
      key = macKey(parseMac(port.mac));
    } catch (err) {
      throw new InvalidOptionsError('port.mac', `segment ${this.vni}: port MAC ${JSON.stringify(port.mac)} is malformed`, { cause: err });
    }
    if (this.localByKey.has(key)) {
      throw new InvalidOptionsError('port.mac', `segment ${this.vni}: MAC ${port.mac} is already attached`);
    }
    const target: LocalTarget = { kind: 'local', port };
    const link = new Link(this, port, target, key);
    this.links.set(port, link);
    this.localByKey.set(key, link);
    this.localSnapshot = undefined;
    this.fdb.setStatic(port.mac, target);
    try {
      port.attached?.(link);
    } catch (err) {
      // The port refused (e.g. it is attached elsewhere): undo, without calling its detached().
      link.detachedFlag = true;
      this.links.delete(port);
      this.localByKey.delete(key);
      this.localSnapshot = undefined;
      this.fdb.deleteKey(key);
      throw err;
    }
    return link;
  }

  /** Detaches `port` (no-op when not attached) and removes its FDB entry. */
  detach(port: Port): void {
    const link = this.links.get(port);
    if (link === undefined) return;
    link.detachedFlag = true;
    this.links.delete(port);
    this.localByKey.delete(link.key);
    this.localSnapshot = undefined;
    if (this.fdb.get(link.key, this.host.clock.now()) === link.target) this.fdb.deleteKey(link.key);
    try {
      port.detached?.();
    } catch {
      // A port's teardown must not break the segment's.
    }
  }

  /**
   * Adds (or moves) a static FDB entry: frames for `mac` go to the remote VTEP
   * at `address` (copied; entries to one address share one target, see `Fdb.setStatic`).
   * @throws InvalidAddressError when `mac` is malformed; InvalidOptionsError for a bad address.
   */
  addRemoteMac(mac: string, address: SocketAddress): void {
    const a = parseOptions(socketAddressSchema, address, `segment ${this.vni}: remote VTEP`);
    this.fdb.setStatic(mac, { kind: 'remote', address: { host: a.host, port: a.port } });
  }

  /** Removes the FDB entry of `mac`. Returns whether there was one. @throws InvalidAddressError on a malformed MAC. */
  removeMac(mac: string): boolean {
    return this.fdb.delete(mac);
  }

  /**
   * Adds a remote VTEP to the flood list; a no-op when it is there already
   * (IPv6 hosts compare canonically: `2001:db8::1` and `2001:DB8:0::1` are one VTEP).
   * @throws InvalidOptionsError for a bad address.
   */
  addFloodTarget(address: SocketAddress): void {
    const to = parseOptions(socketAddressSchema, address, `segment ${this.vni}: flood target`);
    if (this.flood.some((a) => sameSocketAddress(a, to))) return;
    this.flood = [...this.flood, { host: to.host, port: to.port }];
  }

  /** Removes a remote VTEP (compared as in {@link Segment.addFloodTarget}) from the flood list. Returns whether it was there. */
  removeFloodTarget(address: SocketAddress): boolean {
    const before = this.flood.length;
    this.flood = this.flood.filter((a) => !sameSocketAddress(a, address));
    return this.flood.length !== before;
  }

  /**
   * Binds `ip` → `mac` in the neighbour table (ARP suppression answers for it).
   * @throws InvalidAddressError when either is malformed.
   */
  addNeighbour(ip: string, mac: string): void {
    this.neighbours.set(ip, mac);
  }

  /** Removes the neighbour binding of `ip`. */
  removeNeighbour(ip: string): boolean {
    return this.neighbours.delete(ip);
  }

  /**
   * Programs a remote endpoint the way a control plane does: FDB entry
   * `mac` → `vtep`, neighbour `ip` → `mac` (when `ip` is given), and `vtep`
   * added to the flood list.
   */
  addRemoteEndpoint(entry: { mac: string; ip?: string; vtep: SocketAddress }): void {
    this.addRemoteMac(entry.mac, entry.vtep);
    if (entry.ip !== undefined) this.addNeighbour(entry.ip, entry.mac);
    this.addFloodTarget(entry.vtep);
  }

  /** FDB snapshot (see {@link Fdb.entries}). */
  fdbEntries(): FdbEntry[] {
    return this.fdb.entries();
  }

  /** Neighbour table snapshot. */
  neighbourEntries(): Neighbour[] {
    return this.neighbours.entries();
  }

  /** Removes expired learned FDB entries now. Returns how many. */
  sweep(): number {
    return this.fdb.sweep(this.host.clock.now());
  }

  /**
   * @internal A frame from a remote VTEP: `packet[offset, packet.length)`, the
   * received packet after its VXLAN header (owned by the segment). A port that
   * can take a frame at an offset (`receiveAt`, as `Endpoint`) gets it without a
   * view being built; any other gets a view.
   */
  fromRemote(packet: Uint8Array, offset: number, from: SocketAddress): void {
    const s = this.stats;
    s.rxPackets++;
    s.rxBytes += packet.length;
    const learning = this.settings.learning;
    const now = learning ? this.host.clock.now() : 0;
    const decision = decideRemoteFrameAt(packet, offset, this, now);
    if (learning && decision.kind !== 'drop' && (packet[offset + 6]! & 1) === 0) {
      const key = macKey(packet, offset + 6);
      const lp = this.settings.learnedPort;
      const at = lp === 'source' ? from : { host: from.host, port: lp };
      if (this.fdb.learn(key, at, now)) this.count('learned');
    }
    if (decision.kind === 'local') {
      if (this.deliverAt(decision.port, packet, offset)) this.rxDelivered();
      else this.rxDrop('port-error');
      return;
    }
    if (decision.kind === 'drop') {
      this.rxDrop(decision.reason);
      return;
    }
    // Flood to local ports: every port but the last gets its own copy.
    const ports = this.localPorts;
    if (ports.length === 0) {
      this.rxDrop('no-local-port');
      return;
    }
    const frame = new Uint8Array(packet.buffer, packet.byteOffset + offset, packet.length - offset);
    let delivered = false;
    for (let i = 0; i < ports.length; i++) {
      const copy = i === ports.length - 1 ? frame : frame.slice();
      if (this.deliver((ports[i] as Link).port, copy)) delivered = true;
    }
    if (delivered) this.rxDelivered();
    else this.rxDrop('port-error');
  }

  /**
   * @internal A frame a port transmitted (owned by the segment). Returns true
   * when it was sent on in place and released by the underlay (see
   * {@link SegmentHost.encapsulate}): the frame is the port's again.
   */
  fromPort(link: Link, frame: Uint8Array, headroom: number): boolean {
    if (link.detachedFlag) {
      this.txDrop('detached');
      return false;
    }
    if (this.host.closed || this.closedFlag) {
      this.txDrop('closed');
      return false;
    }
    // Time matters only to learned entries: no clock read while there are none.
    const decision = decidePortFrame(frame, this, this.settings.learning && this.fdb.learnedSize > 0 ? this.host.clock.now() : 0);
    switch (decision.kind) {
      case 'remote': {
        const s = this.stats; // the VTEP counts its own tx in encapsulate
        s.txPackets++;
        s.txBytes += frame.length + 8;
        return this.host.encapsulate(this.vni, frame, decision.address, headroom);
      }
      case 'local':
        if (decision.port === link.port) return false; // hairpin: a port never receives its own frame
        this.deliverLater(decision.port, frame);
        this.count('localDelivered');
        return false;
      case 'drop':
        this.txDrop(decision.reason);
        return false;
      case 'arp-reply': {
        let reply: Uint8Array;
        try {
          reply = buildArpReply(frame, l2HeaderLength(frame), decision.neighbour);
        } catch {
          this.txDrop('malformed-frame');
          return false;
        }
        this.deliverLater(link.port, reply);
        this.count('arpSuppressed');
        return false;
      }
      case 'flood': {
        const others = this.localPorts.filter((l) => l !== link);
        if (others.length === 0 && this.flood.length === 0) {
          this.txDrop('no-flood-target');
          return false;
        }
        this.count('flooded');
        for (const to of this.flood) {
          this.host.encapsulate(this.vni, frame, to, 0);
          this.count('tx', frame.length + 8);
        }
        for (let i = 0; i < others.length; i++) {
          this.deliverLater((others[i] as Link).port, i === others.length - 1 ? frame : frame.slice());
        }
        if (others.length > 0) this.count('localDelivered');
        return false;
      }
    }
  }

  /** @internal Detaches every port; called by the VTEP on close or removeSegment. */
  close(): void {
    if (this.closedFlag) return;
    for (const l of [...this.localPorts]) this.detach(l.port);
    this.closedFlag = true;
  }

  /** A readable one-line summary (`vni 42: 2 ports, 3 fdb, 1 flood`). */
  toString(): string {
    return `vni ${this.vni}: ${this.localPorts.length} ports, ${this.fdb.size} fdb, ${this.flood.length} flood (${this.flood
      .map(formatSocketAddress)
      .join(', ')})`;
  }

  private deliver(port: Port, frame: Uint8Array): boolean {
    try {
      port.receive(frame);
      return true;
    } catch {
      return false;
    }
  }

  /** {@link Segment.deliver} of the frame `packet[offset, packet.length)`: in place when the port can take it so. */
  private deliverAt(port: Port, packet: Uint8Array, offset: number): boolean {
    try {
      const at = (port as Partial<OffsetPort>).receiveAt;
      if (at !== undefined) at.call(port, packet, offset);
      else port.receive(new Uint8Array(packet.buffer, packet.byteOffset + offset, packet.length - offset));
      return true;
    } catch {
      return false;
    }
  }

  private deliverLater(port: Port, frame: Uint8Array): void {
    // Local delivery is asynchronous so a port's reply never re-enters its own transmit.
    queueMicrotask(() => {
      if (this.closedFlag || !this.links.has(port)) return;
      if (!this.deliver(port, frame)) this.txDrop('port-error');
    });
  }

  private rxDelivered(): void {
    this.stats.rxDelivered++;
    this.host.counters.rxDelivered++;
  }

  private rxDrop(reason: DropReason): void {
    this.stats.rxDropped++;
    this.stats.drops[reason]++;
    this.host.counters.rxDropped++;
    this.host.counters.drops[reason]++;
  }

  private txDrop(reason: DropReason): void {
    this.stats.drops[reason]++;
    this.host.counters.drops[reason]++;
  }

  private count(what: 'learned' | 'localDelivered' | 'flooded' | 'arpSuppressed' | 'tx', bytes = 0): void {
    const s = this.stats;
    const h = this.host.counters;
    if (what === 'tx') {
      s.txPackets++;
      s.txBytes += bytes;
      return; // the VTEP counts its own tx in encapsulate
    }
    s[what]++;
    h[what]++;
  }
}
