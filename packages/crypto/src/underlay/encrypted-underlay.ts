import {
  formatSocketAddress,
  MalformedPacketError,
  parseOptions,
  sameSocketAddress,
  UnderlayClosedError,
  type SocketAddress,
  type Underlay,
} from '@weft/interface';
import { AuthenticationError, ReplayError, SequenceExhaustedError } from '../errors';
import type { KeyRing, RotationEvent } from '../keys/key-ring';
import { invalidArgument } from '../options';
import { PACKET_OVERHEAD, readSpi as readSpiImport } from '../sa/packet';
import { SecurityAssociation } from '../sa/security-association';
import {
  addPeerSchema,
  encryptedUnderlayOptionsSchema,
  type EncryptedUnderlayCounters,
  type EncryptedUnderlayOptions,
} from './encrypted-underlay-options';
import { PeerTable } from './peer-table';
import { SequenceMarks } from './sequence-marks';

// Local copies of imported bindings used per packet (imports compile to getters under CJS interop).
const OVERHEAD = PACKET_OVERHEAD;
const readSpi = readSpiImport;

interface InboundSa {
  readonly sa: SecurityAssociation;
  readonly generation: number;
}

interface Peer {
  readonly id: string;
  readonly address: SocketAddress;
  /** The peer's data-plane epoch (part of both directions' keys). */
  readonly epoch: string;
  outbound: SecurityAssociation;
  outboundGeneration: number;
  /** By SPI. */
  readonly inbound: Map<number, InboundSa>;
}

/**
 * An `Underlay` that seals every datagram for its peer with the pair's
 * outbound SA and opens what arrives with the sender's inbound SAs. Plaintext
 * never reaches the inner underlay; anything that does not open (cleartext,
 * forgeries, replays, retired keys) is dropped and counted, never delivered.
 *
 * Peers are registered with `addPeer(id, address, epoch)`; addresses compare with
 * the host in canonical form (`2001:db8::1` is `2001:DB8:0::1`). A peer that
 * sends from per-flow source ports (RFC 7348 §5; `UdpUnderlay`'s
 * `sourcePorts`) is recognised on any port of its host by the SPI of its
 * packets, as ESP finds the SA by SPI rather than by source. Keys follow
 * the `KeyRing`'s three rotation phases (install → new inbound SAs; activate
 * → new outbound SAs; retire → old inbound SAs dropped).
 *
 * Keys are bound to both nodes' data-plane epochs (`localEpoch`, the peer's
 * `epoch`), and no (key, sequence number) pair is ever sealed twice: within
 * an epoch, an SA built again for the same key — the peer removed and added
 * again, moved to another address, the network torn down and rebuilt over
 * the same `sequenceMarks` — resumes after the highest sequence number sent
 * before, and its inbound twin refuses everything up to the highest one
 * accepted before; a restarted node has a new epoch, hence new keys.
 */
export class EncryptedUnderlay implements Underlay {
  /** The inner underlay's local address (peers send sealed packets here). */
  readonly local: SocketAddress;
  /** The inner underlay's per-flow source port choice, when it has one (sealing does not change the flow). */
  readonly sourcePortFor?: (flowHash: number) => number;
  private readonly inner: Underlay;
  private readonly ring: KeyRing;
  private readonly localId: string;
  private readonly localEpoch: string;
  private readonly marks: SequenceMarks;
  private readonly replayWindow: number;
  private readonly maxSequence: number;
  private readonly onRekeyNeeded: ((peerId: string) => void) | undefined;
  private readonly table = new PeerTable<Peer>();
  private readonly unsubscribe: () => void;
  private handler: (packet: Uint8Array, from: SocketAddress) => void = () => {};
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly count: EncryptedUnderlayCounters = {
    txPackets: 0,
    txNoPeer: 0,
    txSequenceExhausted: 0,
    rxPackets: 0,
    rxUnknownPeer: 0,
    rxMalformed: 0,
    rxUnknownSpi: 0,
    rxAuthFailed: 0,
    rxReplayed: 0,
  };

  /** @throws InvalidOptionsError whose `field` names the bad option. */
  constructor(options: EncryptedUnderlayOptions) {
    const o = parseOptions(encryptedUnderlayOptionsSchema, options, 'EncryptedUnderlay');
    this.inner = o.underlay;
    this.ring = o.keyRing;
    this.localId = o.localId;
    this.localEpoch = o.localEpoch;
    this.replayWindow = o.replayWindow;
    this.maxSequence = o.maxSequence;
    this.onRekeyNeeded = o.onRekeyNeeded;
    this.marks = o.sequenceMarks ?? new SequenceMarks();
    this.marks.claim(this, this.localId, this.localEpoch, this.ring.sendGeneration);
    this.local = this.inner.local;
    const portFor = this.inner.sourcePortFor;
    if (portFor !== undefined) this.sourcePortFor = (flowHash) => portFor.call(this.inner, flowHash);
    this.unsubscribe = this.ring.on((e) => this.onRotation(e));
    this.inner.onReceive((packet, from) => this.receive(packet, from));
  }

  /** A snapshot of the counters. */
  get counters(): EncryptedUnderlayCounters {
    return { ...this.count };
  }

  /** Registered peer ids. */
  get peers(): string[] {
    return this.table.ids();
  }

  /** The data-plane epoch peer `id` was registered with, or undefined when it is not registered. */
  peerEpoch(id: string): string | undefined {
    return this.table.get(id)?.epoch;
  }

  /**
   * Registers peer `id` reachable at `address` (an IP literal and a port) in
   * its data-plane epoch `epoch` (16 lowercase hex digits, as the peer
   * advertises it), with SAs for every live generation. The same
   * registration again (same address, any spelling, same epoch) changes
   * nothing; another address or epoch replaces the registration and its SAs
   * (a new epoch means new keys both ways: the peer restarted). Replaced or
   * not, an SA for a key used before resumes after its sequence numbers.
   * @throws InvalidOptionsError (`field` `id`, `address`, `address.host`, `address.port` or `epoch`) for a bad
   * id, address or epoch, or an address already used by another peer.
   * @throws KeyRingDisposedError when the key ring was disposed.
   */
  addPeer(id: string, address: SocketAddress, epoch: string): void {
    parseOptions(addPeerSchema, { id, address, epoch }, 'EncryptedUnderlay.addPeer');
    const other = this.table.at(address);
    if (other && other.id !== id) {
      throw invalidArgument('EncryptedUnderlay.addPeer', 'address', `already belongs to peer ${JSON.stringify(other.id)}`, formatSocketAddress(address));
    }
    const known = this.table.get(id);
    if (known !== undefined && known.epoch === epoch && sameSocketAddress(known.address, address)) return;
    if (known !== undefined) this.recordMarks(known); // first, so the new SAs resume after the old ones
    const generation = this.ring.sendGeneration;
    const peer: Peer = {
      id,
      address: { host: address.host, port: address.port },
      epoch,
      outbound: this.outboundSa(id, epoch, generation),
      outboundGeneration: generation,
      inbound: new Map(),
    };
    for (const g of this.ring.receiveGenerations) this.addInbound(peer, g);
    this.table.delete(id);
    this.table.add(peer);
  }

  /** Forgets peer `id` and its SAs (no-op if unknown); their sequence numbers are kept in the marks. */
  removePeer(id: string): void {
    const peer = this.table.delete(id);
    if (peer !== undefined) this.recordMarks(peer);
  }

  /**
   * Whether `packet`, received from `from`, belongs to this underlay: `from`
   * is a registered peer (or another port of a registered peer's host: per-flow
   * source ports), the packet is long enough to be sealed, and its SPI is one
   * of that peer's live inbound SAs. Reads the first four bytes only: no
   * decryption, no allocation. False after `close()`. The receive path uses
   * the same rule: what this accepts is what it tries to open (forgeries and
   * replays still fail there).
   *
   * For demultiplexing one socket among several encrypted underlays (one per
   * network, each with its own `KeyRing`): hand a packet to the underlay that
   * accepts it; drop (and count) what none accepts. A true answer is not
   * proof: SPIs carry 24 derived bits, so SAs of two key rings collide with
   * probability 2^-24 per pair. Hand the packet to every underlay that
   * accepts it (its bytes are only read): at most one opens it, the others
   * drop and count it (under `rxAuthFailed` or `rxReplayed`).
   */
  accepts(packet: Uint8Array, from: SocketAddress): boolean {
    if (this.closed || packet.length < OVERHEAD) return false;
    const spi = readSpi(packet);
    const peer = this.table.at(from);
    if (peer !== undefined) return peer.inbound.has(spi);
    return this.fromOtherPort(from.host, spi) !== undefined;
  }

  /**
   * Seals `packet` for the peer at `to` (any spelling of its host) and sends
   * it to `to` unchanged. `packet` is only read (the sealed copy goes to the
   * inner underlay). A send to an unregistered
   * address, or past the SA's sequence limit, is dropped and counted.
   * `flowHash` is handed to the inner underlay unchanged.
   * @throws UnderlayClosedError after `close()`.
   */
  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void {
    if (this.closed) throw new UnderlayClosedError(`encrypted ${formatSocketAddress(this.local)}`);
    const peer = this.table.at(to);
    if (!peer) {
      this.count.txNoPeer += 1;
      return;
    }
    let sealed: Uint8Array;
    try {
      sealed = peer.outbound.seal(packet);
    } catch (err) {
      if (!(err instanceof SequenceExhaustedError)) throw err;
      this.count.txSequenceExhausted += 1;
      this.onRekeyNeeded?.(peer.id);
      return;
    }
    this.count.txPackets += 1;
    this.inner.send(sealed, to, flowHash);
  }

  /**
   * Installs the single receive handler (replacing any previous one); it gets
   * plaintext it owns and the sender's address as the inner underlay reported it.
   * @throws InvalidOptionsError (`field` `handler`) when `handler` is not a function.
   */
  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    if (typeof handler !== 'function') throw invalidArgument('EncryptedUnderlay.onReceive', 'handler', 'must be a function', handler);
    this.handler = handler;
  }

  /**
   * Stops following the key ring, records every SA's sequence numbers in the
   * marks and releases them (another underlay may take them over now), and
   * closes the inner underlay. Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.unsubscribe();
      this.handler = () => {};
      for (const peer of this.table.values()) this.recordMarks(peer);
      this.table.clear();
      this.marks.release(this);
      this.closing = this.inner.close();
    }
    return this.closing;
  }

  private receive(packet: Uint8Array, from: SocketAddress): void {
    if (this.closed) return;
    // Short packets and unknown SPIs (cleartext, retired keys) are counted here
    // without building an error; the SA's own checks of both cannot fail after these.
    const peer = this.table.at(from);
    let entry: InboundSa | undefined;
    if (peer !== undefined) {
      if (packet.length < OVERHEAD) {
        this.count.rxMalformed += 1;
        return;
      }
      entry = peer.inbound.get(readSpi(packet));
      if (entry === undefined) {
        this.count.rxUnknownSpi += 1;
        return;
      }
    } else {
      if (packet.length >= OVERHEAD) entry = this.fromOtherPort(from.host, readSpi(packet));
      if (entry === undefined) {
        this.count.rxUnknownPeer += 1;
        return;
      }
    }
    let plaintext: Uint8Array;
    try {
      plaintext = entry.sa.open(packet);
    } catch (err) {
      if (err instanceof ReplayError) this.count.rxReplayed += 1;
      else if (err instanceof AuthenticationError) this.count.rxAuthFailed += 1;
      else if (err instanceof MalformedPacketError) this.count.rxMalformed += 1;
      else throw err;
      return;
    }
    this.count.rxPackets += 1;
    this.handler(plaintext, from);
  }

  /**
   * The inbound SA with `spi` of a peer registered at another port of `host`:
   * a peer whose underlay sends from per-flow source ports. Allocates nothing.
   */
  private fromOtherPort(host: string, spi: number): InboundSa | undefined {
    const peers = this.table.atHost(host);
    for (let i = 0; i < peers.length; i++) {
      const entry = peers[i]!.inbound.get(spi);
      if (entry !== undefined) return entry;
    }
    return undefined;
  }

  /** The SA sealing for `peerId` (in `peerEpoch`) under `generation`, resuming after the last sequence number sent under that key. */
  private outboundSa(peerId: string, peerEpoch: string, generation: number): SecurityAssociation {
    const k = this.ring.pairKey(generation, this.localId, peerId, this.localEpoch, peerEpoch);
    const nextSequence = this.marks.sent(generation, peerId) + 1;
    const sa = new SecurityAssociation({ spi: k.spi, suite: k.suite, key: k.key, salt: k.salt, maxSequence: this.maxSequence, nextSequence });
    k.key.fill(0);
    return sa;
  }

  /** Adds the SA opening what `peer` seals under `generation`; it refuses what an earlier SA of the same key accepted. */
  private addInbound(peer: Peer, generation: number): void {
    const k = this.ring.pairKey(generation, peer.id, this.localId, peer.epoch, this.localEpoch);
    const highestReceived = this.marks.received(generation, peer.id, peer.epoch);
    const sa = new SecurityAssociation({ spi: k.spi, suite: k.suite, key: k.key, salt: k.salt, replayWindow: this.replayWindow, highestReceived });
    k.key.fill(0);
    peer.inbound.set(k.spi, { sa, generation });
  }

  /** Keeps how far `peer`'s SAs got, before they are dropped. */
  private recordMarks(peer: Peer): void {
    this.marks.recordSent(peer.outboundGeneration, peer.id, peer.outbound.nextSequence - 1);
    for (const { sa, generation } of peer.inbound.values()) this.marks.recordReceived(generation, peer.id, peer.epoch, sa.highestReceived);
  }

  private onRotation(event: RotationEvent): void {
    const g = event.generation;
    for (const peer of this.table.values()) {
      if (event.phase === 'install') this.addInbound(peer, g);
      else if (event.phase === 'activate') {
        this.marks.recordSent(peer.outboundGeneration, peer.id, peer.outbound.nextSequence - 1);
        peer.outbound = this.outboundSa(peer.id, peer.epoch, g);
        peer.outboundGeneration = g;
      } else {
        for (const [spi, entry] of peer.inbound) if (entry.generation === g) peer.inbound.delete(spi);
      }
    }
    if (event.phase === 'retire') this.marks.retire(g);
  }
}
