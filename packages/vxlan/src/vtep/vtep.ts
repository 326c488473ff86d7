import { readVni as readVniImport, VXLAN_HEADER_LENGTH, writeVxlanHeader } from '../codec';
import { formatSocketAddress, InvalidOptionsError, parseOptions, type Clock, type SocketAddress, type Underlay } from '@weft/interface';
import { VtepClosedError } from './errors';
import { segmentOptionsSchema, vniSchema, vtepOptionsSchema, type AddSegmentOptions, type VtepOptions } from './vtep-options';
import { copyCounters, emptyCounters, type DropReason, type VtepCounters } from './counters';
import { flowSourcePort } from './flow-hash';
import { Segment, type SegmentHost, type SegmentSettings } from './segment';

// Module-local bindings for the per-packet path (see segment.ts).
const readVni = readVniImport;
const writeHeader = writeVxlanHeader;
const HEADER = VXLAN_HEADER_LENGTH;

/** One outer packet seen by a {@link Vtep.onOuter} listener. */
export interface OuterPacket {
  /** `tx` sent by this VTEP, `rx` received by it (before any drop decision). */
  readonly direction: 'tx' | 'rx';
  /**
   * The UDP payload: VXLAN header and inner frame. Valid only during the
   * call and must not be modified; copy it to keep it.
   */
  readonly packet: Uint8Array;
  /**
   * Outer source address. For tx: the underlay's local host and the source port the datagram really leaves from:
   * the underlay's port for the inner flow's hash when it varies ports per flow (`Underlay.sourcePortFor`), else its
   * bound port.
   */
  readonly source: SocketAddress;
  /** Outer destination address. */
  readonly destination: SocketAddress;
}

/**
 * An {@link Underlay} that can also report, per datagram, whether the packet's
 * bytes are free again when `send` returns (`UdpUnderlay` does). A VTEP on
 * such an underlay hands an endpoint's frame back to it after an in-place send,
 * so the endpoint writes its next datagram into the same bytes instead of new
 * memory. Wrappers of an underlay do not get this unless they implement it.
 */
export interface ReleasingUnderlay extends Underlay {
  /**
   * Sends like `send`, and returns true only when no reference to `packet`
   * remains anywhere (the caller may overwrite its bytes at once).
   */
  sendReleasing(packet: Uint8Array, to: SocketAddress, flowHash?: number): boolean;
}

/**
 * A VXLAN tunnel endpoint: one underlay socket carrying any number of VNIs,
 * each a {@link Segment}. Received packets are decapsulated and forwarded to
 * local ports by the pure decisions of `forwarding.ts`; frames from ports are
 * encapsulated and sent to the remote VTEP their FDB entry names, or flooded
 * to the flood list (head-end replication).
 *
 * RFC 7348 §5 asks for an outer UDP source port derived from a hash of the
 * inner flow, in 49152–65535. When the underlay varies its source port per
 * flow (`Underlay.sourcePortFor`, e.g. a `UdpUnderlay` with `sourcePorts`), the
 * VTEP computes the flow hash for every packet sent and passes it to
 * `underlay.send`, so each inner flow leaves from one port of the pool; with any
 * other underlay the packet leaves from the underlay's bound port.
 * {@link Vtep.onOuter} listeners (and so captures) see the port really used.
 */
export class Vtep {
  /** The underlay this VTEP sends and receives on. */
  readonly underlay: Underlay;
  private readonly clock: Clock;
  private readonly defaults: SegmentSettings;
  private readonly byVni = new Map<number, Segment>();
  private readonly stats = emptyCounters();
  private readonly host: SegmentHost & { closed: boolean };
  private taps: Array<(p: OuterPacket) => void> = [];
  /** The underlay when it can tell that a sent packet's bytes are free again, else undefined. */
  private readonly releasing: ReleasingUnderlay | undefined;
  /** The last frame encapsulated in place and its outer view (VXLAN header + frame). */
  private lastFrame: Uint8Array | undefined;
  private lastOuter: Uint8Array = new Uint8Array(0);
  private closing: Promise<void> | undefined;

  /** @throws InvalidOptionsError naming the offending option. */
  constructor(options: VtepOptions) {
    const o = parseOptions(vtepOptionsSchema, options, 'Vtep');
    this.underlay = o.underlay;
    const u = o.underlay as Partial<ReleasingUnderlay>;
    this.releasing = typeof u.sendReleasing === 'function' ? (u as ReleasingUnderlay) : undefined;
    this.clock = o.clock;
    this.defaults = {
      mtu: o.mtu,
      learning: o.learning,
      learnedPort: o.learnedPort,
      agingMs: o.agingMs,
      maxLearned: o.maxLearned,
      arpSuppression: o.arpSuppression,
      floodUnknownUnicast: o.floodUnknownUnicast,
    };
    // `closed` is a plain field set by close(), not a getter: segments read it for every frame they send.
    this.host = {
      clock: this.clock,
      counters: this.stats,
      encapsulate: (vni, frame, to, headroom) => this.encapsulate(vni, frame, to, headroom),
      closed: false,
    };
    this.underlay.onReceive((packet, from) => this.receive(packet, from));
  }

  /** Where the underlay receives. */
  get local(): SocketAddress {
    return this.underlay.local;
  }

  /** Counters over all segments plus VTEP-level drops (a fresh copy). */
  get counters(): VtepCounters {
    return copyCounters(this.stats);
  }

  /**
   * Creates the segment for `vni`.
   * @throws InvalidOptionsError when `vni` is not in 0..16777215 or already exists, or an option is invalid (naming it).
   * @throws VtepClosedError after `close()`.
   */
  addSegment(vni: number, options: AddSegmentOptions = {}): Segment {
    if (this.closing !== undefined) throw new VtepClosedError(`vtep ${formatSocketAddress(this.underlay.local)}`);
    parseOptions(vniSchema, { vni }, 'Vtep.addSegment');
    if (this.byVni.has(vni)) throw new InvalidOptionsError('vni', `Vtep.addSegment: option "vni" names segment ${vni}, which already exists`);
    const o = parseOptions(segmentOptionsSchema, options, `Vtep.addSegment(${vni})`);
    const settings: SegmentSettings = {
      mtu: o.mtu ?? this.defaults.mtu,
      learning: o.learning ?? this.defaults.learning,
      learnedPort: o.learnedPort ?? this.defaults.learnedPort,
      agingMs: o.agingMs ?? this.defaults.agingMs,
      maxLearned: o.maxLearned ?? this.defaults.maxLearned,
      arpSuppression: o.arpSuppression ?? this.defaults.arpSuppression,
      floodUnknownUnicast: o.floodUnknownUnicast ?? this.defaults.floodUnknownUnicast,
    };
    const segment = new Segment(vni, settings, this.host);
    for (const a of o.flood) segment.addFloodTarget(a);
    this.byVni.set(vni, segment);
    return segment;
  }

  /** The segment of `vni`, or undefined. */
  segment(vni: number): Segment | undefined {
    return this.byVni.get(vni);
  }

  /** Every segment. */
  segments(): Segment[] {
    return [...this.byVni.values()];
  }

  /** Detaches every port of `vni`'s segment and removes it. Returns whether it existed. */
  removeSegment(vni: number): boolean {
    const s = this.byVni.get(vni);
    if (s === undefined) return false;
    this.byVni.delete(vni);
    s.close();
    return true;
  }

  /**
   * Calls `listener` synchronously for every outer packet sent or received
   * (for captures; see `captureOuter`). Returns a function that removes it.
   * A throwing listener is ignored.
   */
  onOuter(listener: (packet: OuterPacket) => void): () => void {
    this.taps = [...this.taps, listener];
    return () => {
      this.taps = this.taps.filter((t) => t !== listener);
    };
  }

  /**
   * Detaches every port, removes every segment and closes the underlay.
   * Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const s of this.byVni.values()) s.close();
      this.byVni.clear();
      this.taps = [];
      this.host.closed = true;
      this.closing = this.underlay.close();
    }
    return this.closing;
  }

  private receive(packet: Uint8Array, from: SocketAddress): void {
    const s = this.stats;
    s.rxPackets++;
    s.rxBytes += packet.length;
    if (this.closing !== undefined) return this.drop('closed');
    if (this.taps.length > 0) this.tap({ direction: 'rx', packet, source: from, destination: this.underlay.local });
    const vni = readVni(packet, 0);
    if (vni < 0) return this.drop('bad-header');
    const segment = this.byVni.get(vni);
    if (segment === undefined) return this.drop('unknown-vni');
    // The frame is the rest of the packet: handed on with its offset, no view built for it.
    segment.fromRemote(packet, HEADER, from);
  }

  private drop(reason: DropReason): void {
    this.stats.rxDropped++;
    this.stats.drops[reason]++;
  }

  /**
   * Encapsulates and sends; see {@link SegmentHost.encapsulate}. Returns true
   * only when the frame was encapsulated in place and the underlay released the
   * packet ({@link ReleasingUnderlay}): its bytes are then the caller's again.
   */
  private encapsulate(vni: number, frame: Uint8Array, to: SocketAddress, headroom: number): boolean {
    let out: Uint8Array;
    const inPlace = headroom >= HEADER;
    if (inPlace) {
      // An endpoint that gets its frame back sends the same frame object again: reuse its outer view.
      if (frame === this.lastFrame) out = this.lastOuter;
      else {
        out = new Uint8Array(frame.buffer, frame.byteOffset - HEADER, frame.length + HEADER);
        this.lastFrame = frame;
        this.lastOuter = out;
      }
    } else {
      out = Buffer.allocUnsafe(HEADER + frame.length);
      out.set(frame, HEADER);
    }
    writeHeader(vni, out, 0);
    this.stats.txPackets++;
    this.stats.txBytes += out.length;
    const portFor = this.underlay.sourcePortFor;
    const flowHash = portFor === undefined ? undefined : flowSourcePort(frame);
    if (this.taps.length > 0) {
      const local = this.underlay.local;
      const port = flowHash === undefined ? local.port : portFor!(flowHash);
      this.tap({ direction: 'tx', packet: out, source: { host: local.host, port }, destination: to });
    }
    try {
      const releasing = this.releasing;
      if (releasing === undefined) {
        this.underlay.send(out, to, flowHash);
        return false;
      }
      return releasing.sendReleasing(out, to, flowHash) && inPlace;
    } catch {
      // Only thrown when the underlay was closed under us.
      this.stats.drops.closed++;
      return false;
    }
  }

  private tap(p: OuterPacket): void {
    for (const t of this.taps) {
      try {
        t(p);
      } catch {
        // A capture must never break forwarding.
      }
    }
  }
}
