import { z } from 'zod';
import { AuthenticationError, CryptoError, InvalidOptionsError, MalformedPacketError, ReplayError, SequenceExhaustedError } from '../errors';
import type { KeyRing, RotationEvent } from '../keys/key-ring';
import { replayWindowSchema } from '../replay/replay-window';
import { SecurityAssociation } from '../sa/security-association';
import { PACKET_OVERHEAD, readSpi } from '../sa/packet';
import { maxSequenceSchema, nodeIdSchema, validateOptions } from '../validate-options';
import type { Underlay, UnderlayAddress } from './underlay';

/** Options of an `EncryptedUnderlay`. */
export interface EncryptedUnderlayOptions {
  /** The underlay that carries the sealed packets; closed by `close()`. */
  underlay: Underlay;
  /** Keys; the underlay follows its rotation events. Not closed by `close()`. */
  keyRing: KeyRing;
  /** This node's id (1–255 characters), the `from` of what it sends. */
  localId: string;
  /** Anti-replay window of every inbound SA, packets; default 2048. */
  replayWindow?: number;
  /** Last sequence number of every outbound SA (default 2^53 − 1); lower it to force rotations sooner. */
  maxSequence?: number;
  /** Called (synchronously) when an outbound SA ran out of sequence numbers; rotate keys then. */
  onRekeyNeeded?: (peerId: string) => void;
}

/** Counters of an `EncryptedUnderlay`; every dropped packet is counted under exactly one reason. */
export interface EncryptedUnderlayCounters {
  /** Packets sealed and handed to the inner underlay. */
  txPackets: number;
  /** Sends to an address with no registered peer (dropped: no plaintext leaves). */
  txNoPeer: number;
  /** Sends dropped because the outbound SA's sequence numbers are exhausted. */
  txSequenceExhausted: number;
  /** Packets opened and delivered to the receive handler. */
  rxPackets: number;
  /**
   * Packets from an address with no registered peer: neither a peer's address, nor a
   * peer's host with one of that peer's live SPIs (a per-flow source port of the peer).
   */
  rxUnknownPeer: number;
  /** Packets shorter than the 32-byte minimum (includes short cleartext). */
  rxMalformed: number;
  /** Packets whose SPI no live inbound SA of that peer has (includes cleartext, e.g. a bare VXLAN header, and retired keys). */
  rxUnknownSpi: number;
  /** Packets whose tag did not verify. */
  rxAuthFailed: number;
  /** Duplicates and packets older than the anti-replay window. */
  rxReplayed: number;
}

interface Peer {
  readonly id: string;
  readonly address: UnderlayAddress;
  outbound: SecurityAssociation;
  readonly inbound: Map<number, { sa: SecurityAssociation; generation: number }>;
}

const optionsSchema = z.object({
  underlay: z.custom<Underlay>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Underlay).send === 'function' && typeof (v as Underlay).onReceive === 'function',
    { message: 'must be an Underlay (send, onReceive, close, local)' },
  ),
  keyRing: z.custom<KeyRing>((v) => typeof v === 'object' && v !== null && typeof (v as KeyRing).pairKey === 'function', {
    message: 'must be a KeyRing',
  }),
  localId: nodeIdSchema,
  replayWindow: replayWindowSchema,
  maxSequence: maxSequenceSchema,
  onRekeyNeeded: z.custom<(peerId: string) => void>((v) => typeof v === 'function').optional(),
});

const addressSchema = z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) });

const addressKey = (a: UnderlayAddress): string => `${a.host}|${a.port}`;

/** Thrown by `send` after `close()`. */
export class UnderlayClosedError extends CryptoError {
  override name = 'UnderlayClosedError';
}

/**
 * An `Underlay` that seals every datagram for its peer with the pair's
 * outbound SA and opens what arrives with the sender's inbound SAs. Plaintext
 * never reaches the inner underlay; anything that does not open (cleartext,
 * forgeries, replays, retired keys) is dropped and counted, never delivered.
 *
 * Peers are registered with `addPeer(id, address)`; keys follow the
 * `KeyRing`'s three rotation phases (install → new inbound SAs; activate →
 * new outbound SAs; retire → old inbound SAs dropped).
 */
export class EncryptedUnderlay implements Underlay {
  /** The inner underlay's local address (peers send sealed packets here). */
  readonly local: UnderlayAddress;
  /** The inner underlay's per-flow source port choice, when it has one (sealing does not change the flow). */
  readonly sourcePortFor?: (flowHash: number) => number;
  private readonly inner: Underlay;
  private readonly ring: KeyRing;
  private readonly localId: string;
  private readonly replayWindow: number;
  private readonly maxSequence: number;
  private readonly onRekeyNeeded: ((peerId: string) => void) | undefined;
  private readonly peersById = new Map<string, Peer>();
  private readonly peersByAddress = new Map<string, Peer>();
  /** Peers by host alone, for packets that leave a peer from a per-flow source port rather than its bound one. */
  private readonly peersByHost = new Map<string, Set<Peer>>();
  private readonly unsubscribe: () => void;
  private handler: (packet: Uint8Array, from: UnderlayAddress) => void = () => {};
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

  /** @throws InvalidOptionsError naming the bad field. */
  constructor(options: EncryptedUnderlayOptions) {
    const o = validateOptions(optionsSchema, options, 'EncryptedUnderlay');
    this.inner = o.underlay;
    this.ring = o.keyRing;
    this.localId = o.localId;
    this.replayWindow = o.replayWindow;
    this.maxSequence = o.maxSequence;
    this.onRekeyNeeded = o.onRekeyNeeded;
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
    return [...this.peersById.keys()];
  }

  /**
   * Registers peer `id` reachable at `address`, with SAs for every live
   * generation. Replaces an earlier registration of the same id.
   * @throws InvalidOptionsError for a bad id/address or an address already used by another peer.
   */
  addPeer(id: string, address: UnderlayAddress): void {
    validateOptions(nodeIdSchema, id, 'EncryptedUnderlay.addPeer id');
    validateOptions(addressSchema, address, 'EncryptedUnderlay.addPeer address');
    const key = addressKey(address);
    const other = this.peersByAddress.get(key);
    if (other && other.id !== id) throw new InvalidOptionsError(`EncryptedUnderlay.addPeer address: ${address.host}:${address.port} already belongs to peer ${other.id}`);
    this.removePeer(id);
    const peer: Peer = { id, address: { host: address.host, port: address.port }, outbound: this.outboundSa(id), inbound: new Map() };
    for (const g of this.ring.receiveGenerations) this.addInbound(peer, g);
    this.peersById.set(id, peer);
    this.peersByAddress.set(key, peer);
    const onHost = this.peersByHost.get(peer.address.host) ?? new Set<Peer>();
    onHost.add(peer);
    this.peersByHost.set(peer.address.host, onHost);
  }

  /** Forgets peer `id` and its SAs (no-op if unknown). */
  removePeer(id: string): void {
    const peer = this.peersById.get(id);
    if (!peer) return;
    this.peersById.delete(id);
    this.peersByAddress.delete(addressKey(peer.address));
    const onHost = this.peersByHost.get(peer.address.host);
    onHost?.delete(peer);
    if (onHost?.size === 0) this.peersByHost.delete(peer.address.host);
  }

  /**
   * Seals `packet` for the peer at `to` and sends it. `packet` is only read
   * (the sealed copy goes to the inner underlay). A send to an unregistered
   * address, or past the SA's sequence limit, is dropped and counted.
   * `flowHash` is handed to the inner underlay unchanged.
   * @throws UnderlayClosedError after `close()`.
   */
  send(packet: Uint8Array, to: UnderlayAddress, flowHash?: number): void {
    if (this.closed) throw new UnderlayClosedError('EncryptedUnderlay: send after close()');
    const peer = this.peersByAddress.get(addressKey(to));
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
    this.inner.send(sealed, peer.address, flowHash);
  }

  /**
   * Installs the single receive handler; it gets plaintext it owns and the
   * registered address of the peer whose key opened it (which is where replies
   * go, even when the packet left that peer from a per-flow source port).
   */
  onReceive(handler: (packet: Uint8Array, from: UnderlayAddress) => void): void {
    this.handler = handler;
  }

  /** Stops following the key ring and closes the inner underlay. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.unsubscribe();
      this.handler = () => {};
      this.peersById.clear();
      this.peersByAddress.clear();
      this.peersByHost.clear();
      this.closing = this.inner.close();
    }
    return this.closing;
  }

  private receive(packet: Uint8Array, from: UnderlayAddress): void {
    if (this.closed) return;
    // A peer's bound address, or its host with a source port of its own choosing (RFC 7348 §5
    // per-flow ports, UdpUnderlay `sourcePorts`): then the SPI says which peer on that host.
    const peer = this.peersByAddress.get(addressKey(from)) ?? (packet.length >= PACKET_OVERHEAD ? this.peerOnHost(from.host, readSpi(packet)) : undefined);
    if (!peer) {
      this.count.rxUnknownPeer += 1;
      return;
    }
    // Short packets and unknown SPIs (cleartext, retired keys) are counted here
    // without building an error; the SA's own checks of both cannot fail after these.
    if (packet.length < PACKET_OVERHEAD) {
      this.count.rxMalformed += 1;
      return;
    }
    const entry = peer.inbound.get(readSpi(packet));
    if (!entry) {
      this.count.rxUnknownSpi += 1;
      return;
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
    this.handler(plaintext, peer.address);
  }

  /** The peer on `host` that has a live inbound SA with `spi`, if any. */
  private peerOnHost(host: string, spi: number): Peer | undefined {
    const onHost = this.peersByHost.get(host);
    if (onHost === undefined) return undefined;
    for (const p of onHost) if (p.inbound.has(spi)) return p;
    return undefined;
  }

  private outboundSa(peerId: string): SecurityAssociation {
    const k = this.ring.pairKey(this.ring.sendGeneration, this.localId, peerId);
    return new SecurityAssociation({ spi: k.spi, suite: k.suite, key: k.key, salt: k.salt, maxSequence: this.maxSequence });
  }

  private addInbound(peer: Peer, generation: number): void {
    const k = this.ring.pairKey(generation, peer.id, this.localId);
    const sa = new SecurityAssociation({ spi: k.spi, suite: k.suite, key: k.key, salt: k.salt, replayWindow: this.replayWindow });
    peer.inbound.set(k.spi, { sa, generation });
  }

  private onRotation(event: RotationEvent): void {
    for (const peer of this.peersById.values()) {
      if (event.phase === 'install') this.addInbound(peer, event.generation);
      else if (event.phase === 'activate') peer.outbound = this.outboundSa(peer.id);
      else {
        for (const [spi, entry] of peer.inbound) if (entry.generation === event.generation) peer.inbound.delete(spi);
      }
    }
  }
}
