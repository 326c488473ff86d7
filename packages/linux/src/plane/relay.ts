/**
 * The encrypted relay of the kernel plane: this kernel has no ESP, so an
 * encrypted network's kernel VXLAN traffic crosses the node process, where
 * `@weft/crypto` seals and opens it with exactly the userspace plane's wire
 * format (per-pair keys bound to both nodes' epochs, one `EncryptedUnderlay`
 * per network over the node's encrypted port).
 *
 * Two UDP sockets on the underlay address, in the host namespace (which must
 * be this process's):
 * - the relay port (kernel side): the network's `vxlan0` FDB entries send
 *   every frame as VXLAN to `<peer> port <relay port>`, and an nftables
 *   `dnat` in the host namespace turns that into this socket (see
 *   `cleartext-guard.ts`); the relay reads the VNI and the inner destination
 *   MAC and seals the packet for the peer node behind that MAC, or for every
 *   peer node of the network (broadcast, multicast, unknown MAC);
 * - the encrypted port (peer side): what opens under a network's keys, and
 *   names that network's VNI, is sent to the kernel's VXLAN port on the
 *   underlay address (over `lo`), where `vxlan0` decapsulates it.
 */
import { formatSocketAddress, UnderlayClosedError, type PeerNode, type SocketAddress, type Underlay } from '@weft/interface';
import { EncryptedUnderlay, NetworkKeys, SequenceMarks, type NetworkKeySet } from '@weft/crypto';
import { addChecksum, finishChecksum, UdpUnderlay } from '@weft/vxlan';
import { LinuxStateError } from '../errors';

/** VXLAN header (8) + inner Ethernet header (14): the shortest packet the relay forwards. */
const MIN_PACKET = 22;

/** Counters of an {@link EncryptedRelay}; every packet dropped is counted under one reason. */
export interface RelayCounters {
  /** VXLAN packets received from the kernel on the relay port. */
  fromKernel: number;
  /** ... of which not from the underlay address (dropped). */
  foreignSource: number;
  /** ... shorter than a VXLAN header and an Ethernet header, or without the VNI flag (dropped). */
  malformed: number;
  /** ... whose VNI is no encrypted network the relay carries (dropped). */
  unknownVni: number;
  /** ... to a unicast MAC no remote endpoint has: sent to every peer node, as the kernel floods. */
  unknownMac: number;
  /** ... with nowhere to go: the network has no peer node (dropped). */
  noPeer: number;
  /** Packets handed to a network's `EncryptedUnderlay` for sealing (one per peer a frame went to; its own counters say what left). */
  sealed: number;
  /** Packets received on the encrypted port. */
  fromPeers: number;
  /** ... that no network's `EncryptedUnderlay` accepted (cleartext, unknown senders, retired keys): dropped. */
  unclaimed: number;
  /** Opened packets too short to be VXLAN, or naming another network's VNI (dropped). */
  vniMismatch: number;
  /** Opened packets handed to the kernel's VXLAN port. */
  toKernel: number;
}

/** What an {@link EncryptedRelay} needs to know about this node. */
export interface RelayOptions {
  /** This node's id (local id of per-pair keys). */
  readonly nodeId: string;
  /** This start's data-plane epoch (local epoch of per-pair keys). */
  readonly epoch: string;
  /** The underlay address: both sockets bind there, and the kernel's VXLAN socket listens there. */
  readonly address: string;
  /** The kernel's VXLAN port (where opened packets go). */
  readonly vxlanPort: number;
  /** The encrypted port (peers send sealed packets here; sealed packets leave from it). */
  readonly encryptedPort: number;
  /** The relay port (kernel side); 0 (default) picks a free one. */
  readonly relayPort?: number;
  /** Socket buffers of both sockets (bytes), default 4 MiB. */
  readonly socketBufferBytes?: number;
}

interface RemoteEntry {
  readonly mac: number;
  readonly peerId: string;
}

interface PeerEntry {
  readonly peer: PeerNode;
  readonly to: SocketAddress;
  endpoints: number;
}

/** One encrypted network on the relay. */
interface RelayNetwork {
  readonly id: string;
  vni: number;
  readonly keys: NetworkKeys;
  readonly enc: EncryptedUnderlay;
  readonly port: RelayPort;
  readonly remotes: Map<string, RemoteEntry>;
  /** Inner destination MAC (48 bits as a number) → peer node id. */
  readonly macs: Map<number, string>;
  readonly peers: Map<string, PeerEntry>;
  /** Every peer's encrypted address: where a flooded frame goes. */
  targets: SocketAddress[];
}

/** A MAC in text form as a 48-bit number. */
export function macNumber(mac: string): number {
  return parseInt(mac.replace(/:/g, ''), 16);
}

function macAt(packet: Uint8Array, offset: number): number {
  return (packet[offset]! * 2 ** 40) + (packet[offset + 1]! * 2 ** 32) + ((packet[offset + 2]! << 24) >>> 0) + (packet[offset + 3]! << 16) + (packet[offset + 4]! << 8) + packet[offset + 5]!;
}

/** The VNI of a VXLAN packet, or -1 when it is too short or its I flag is clear. */
export function vniOf(packet: Uint8Array): number {
  if (packet.length < MIN_PACKET || (packet[0]! & 0x08) === 0) return -1;
  return (packet[4]! << 16) | (packet[5]! << 8) | packet[6]!;
}

/**
 * Fills in the TCP or UDP checksum of the IPv4 packet inside a VXLAN packet
 * (in place). The kernel hands the relay frames whose checksum a NIC was to
 * compute (`CHECKSUM_PARTIAL`: the container's stack offloads it, and
 * neither the bridge, `vxlan0` nor `lo` computes it, since nothing leaves a
 * device), so the field holds only the pseudo-header sum; the peer's kernel
 * or userspace endpoint would drop the segment. Computed again always (a
 * correct checksum stays the same); UDP with checksum 0 (none) and
 * fragments are left alone.
 */
export function fillInnerChecksum(packet: Uint8Array): void {
  if (packet.length < 42 || packet[20] !== 0x08 || packet[21] !== 0x00) return; // not IPv4 (or too short for a header)
  const ip = 22;
  const ihl = (packet[ip]! & 0x0f) * 4;
  if ((packet[ip]! >> 4) !== 4 || ihl < 20) return;
  if (((packet[ip + 6]! & 0x3f) | packet[ip + 7]!) !== 0) return; // a fragment (MF or an offset)
  const total = (packet[ip + 2]! << 8) | packet[ip + 3]!;
  const l4 = ip + ihl;
  const length = total - ihl;
  if (length < 8 || l4 + length > packet.length) return;
  const protocol = packet[ip + 9]!;
  const field = protocol === 6 ? l4 + 16 : protocol === 17 ? l4 + 6 : -1;
  if (field < 0 || field + 2 > l4 + length) return;
  if (protocol === 17 && packet[field] === 0 && packet[field + 1] === 0) return;
  packet[field] = 0;
  packet[field + 1] = 0;
  let sum = addChecksum(protocol + length, packet, ip + 12, 8); // pseudo-header: addresses, protocol, length
  sum = addChecksum(sum, packet, l4, length);
  let c = finishChecksum(sum);
  if (protocol === 17 && c === 0) c = 0xffff;
  packet[field] = c >> 8;
  packet[field + 1] = c & 0xff;
}

/**
 * One network's view of the shared encrypted socket (the inner underlay of
 * its `EncryptedUnderlay`): sends through it; receives what the relay hands it.
 */
class RelayPort implements Underlay {
  readonly local: SocketAddress;
  private handler: (packet: Uint8Array, from: SocketAddress) => void = () => {};
  private closed = false;

  constructor(private readonly shared: Underlay) {
    this.local = shared.local;
  }

  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void {
    if (this.closed) throw new UnderlayClosedError(`relay port ${formatSocketAddress(this.local)}`);
    this.shared.send(packet, to, flowHash);
  }

  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.handler = handler;
  }

  deliver(packet: Uint8Array, from: SocketAddress): void {
    if (!this.closed) this.handler(packet, from);
  }

  close(): Promise<void> {
    this.closed = true;
    this.handler = () => {};
    return Promise.resolve();
  }
}

/**
 * Seals what the kernel sends on encrypted networks and opens what peers
 * send back (see the module notes). Calls are synchronous; sequence numbers
 * of a network's SAs are kept per network (and suite) for the relay's
 * lifetime, so a network removed and added again resumes them.
 */
export class EncryptedRelay {
  private readonly byId = new Map<string, RelayNetwork>();
  /** Indexed by VNI for the per-packet lookup. */
  private readonly byVni = new Map<number, RelayNetwork>();
  /** In add order, replaced (not mutated) on change, for the receive loop. */
  private list: readonly RelayNetwork[] = [];
  private readonly marks = new Map<string, SequenceMarks>();
  private readonly stats: RelayCounters = {
    fromKernel: 0,
    foreignSource: 0,
    malformed: 0,
    unknownVni: 0,
    unknownMac: 0,
    noPeer: 0,
    sealed: 0,
    fromPeers: 0,
    unclaimed: 0,
    vniMismatch: 0,
    toKernel: 0,
  };
  private readonly kernelVxlan: SocketAddress;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly o: RelayOptions,
    /** Kernel side: receives the kernel's VXLAN, sends opened VXLAN to the kernel. */
    private readonly kernelSide: Underlay,
    /** Peer side: the encrypted port. */
    private readonly peerSide: Underlay,
  ) {
    this.kernelVxlan = { host: o.address, port: o.vxlanPort };
    kernelSide.onReceive((packet, from) => this.fromKernel(packet, from));
    peerSide.onReceive((packet, from) => this.fromPeer(packet, from));
  }

  /**
   * Binds the relay port and the encrypted port on `address` (in this
   * process's namespace).
   * @throws the socket's error (e.g. `EADDRINUSE` on the encrypted port); nothing stays bound.
   */
  static async open(options: RelayOptions): Promise<EncryptedRelay> {
    const buf = options.socketBufferBytes ?? 4 * 1024 * 1024;
    const kernelSide = await UdpUnderlay.bind({ host: options.address, port: options.relayPort ?? 0, recvBufferSize: buf, sendBufferSize: buf });
    try {
      const peerSide = await UdpUnderlay.bind({ host: options.address, port: options.encryptedPort, recvBufferSize: buf, sendBufferSize: buf });
      return new EncryptedRelay(options, kernelSide, peerSide);
    } catch (err) {
      await kernelSide.close();
      throw err;
    }
  }

  /**
   * A relay over sockets the caller made (tests): `kernelSide` gets what the
   * kernel would send; `peerSide` is the encrypted port.
   */
  static over(options: RelayOptions, kernelSide: Underlay, peerSide: Underlay): EncryptedRelay {
    return new EncryptedRelay(options, kernelSide, peerSide);
  }

  /** The relay port the kernel's FDB entries name (bound). */
  get relayPort(): number {
    return this.kernelSide.local.port;
  }

  /** The encrypted port (bound). */
  get encryptedPort(): number {
    return this.peerSide.local.port;
  }

  /** A snapshot of the counters. */
  get counters(): RelayCounters {
    return { ...this.stats };
  }

  /** Per network: its `EncryptedUnderlay`'s counters (`esp.<field>` of `<id>`). */
  espCounters(): Record<string, Readonly<Record<string, number>>> {
    const out: Record<string, Readonly<Record<string, number>>> = {};
    for (const n of this.list) out[n.id] = { ...n.enc.counters };
    return out;
  }

  /** Ids of the networks carried. */
  networks(): string[] {
    return this.list.map((n) => n.id);
  }

  /** Whether network `id` is carried. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The live key generations and send generation of a network (undefined when not carried). */
  keysOf(id: string): NetworkKeySet | undefined {
    return this.byId.get(id)?.keys.read();
  }

  /**
   * Carries network `id` (VNI `vni`) with `keys`, or brings a carried one to
   * them: the key ring through its phases, a new VNI, a new suite on a fresh
   * ring. Checks first: on failure nothing changed.
   * @throws KeyPlanError (`@weft/crypto`) when the keys cannot get there, or when the send
   * generation was retired before on this relay (its sequence numbers are forgotten).
   * @throws LinuxStateError when another carried network has the VNI, or after close.
   */
  setNetwork(id: string, vni: number, keys: NetworkKeySet): void {
    this.assertOpen();
    const other = this.byVni.get(vni);
    if (other !== undefined && other.id !== id) throw new LinuxStateError(`EncryptedRelay: VNI ${vni} is carried for network ${other.id}`);
    const known = this.byId.get(id);
    if (known !== undefined && known.keys.ring.suite === keys.suite) {
      known.keys.apply(keys);
      if (known.vni !== vni) {
        this.byVni.delete(known.vni);
        known.vni = vni;
        this.byVni.set(vni, known);
      }
      return;
    }
    const marks = this.sequenceMarks(id, keys.suite);
    const retired = marks.retiredThrough;
    if (retired !== undefined && keys.sendGeneration <= retired) {
      throw new LinuxStateError(`EncryptedRelay: network ${id}: send generation ${keys.sendGeneration} is not newer than generation ${retired}, retired earlier (its sequence numbers are forgotten)`);
    }
    const ring = NetworkKeys.create(keys);
    if (known !== undefined) this.drop(known); // suite change: a fresh ring, the peers again
    const port = new RelayPort(this.peerSide);
    const enc = new EncryptedUnderlay({ underlay: port, keyRing: ring.ring, localId: this.o.nodeId, localEpoch: this.o.epoch, sequenceMarks: marks });
    const net: RelayNetwork = { id, vni, keys: ring, enc, port, remotes: new Map(), macs: new Map(), peers: new Map(), targets: [] };
    enc.onReceive((plain) => this.toKernel(net, plain));
    this.byId.set(id, net);
    this.byVni.set(vni, net);
    this.list = [...this.list, net];
    if (known !== undefined) for (const [eid, r] of known.remotes) this.addRemoteTo(net, eid, r.mac, known.peers.get(r.peerId)!.peer);
  }

  /** Stops carrying network `id` (its SAs' sequence numbers are kept; its key copies wiped). No-op when not carried. */
  removeNetwork(id: string): void {
    const net = this.byId.get(id);
    if (net !== undefined) this.drop(net);
  }

  /**
   * Records a remote endpoint of a carried network: frames to `mac` are
   * sealed for `peer` (registered with the network's `EncryptedUnderlay` in
   * its epoch at its encrypted port with its first endpoint; a new address or
   * epoch replaces the registration).
   * @throws LinuxStateError when the network is not carried; InvalidOptionsError
   * (`@weft/crypto`) when another peer has the peer's encrypted address.
   */
  setRemote(networkId: string, endpointId: string, mac: string, peer: PeerNode): void {
    const net = this.byId.get(networkId);
    if (net === undefined) throw new LinuxStateError(`EncryptedRelay: network ${networkId} is not carried`);
    this.addRemoteTo(net, endpointId, macNumber(mac), peer);
  }

  /** Forgets a remote endpoint; its peer's registration goes with the peer's last endpoint. No-op when unknown. */
  removeRemote(networkId: string, endpointId: string): void {
    const net = this.byId.get(networkId);
    const r = net?.remotes.get(endpointId);
    if (net === undefined || r === undefined) return;
    net.remotes.delete(endpointId);
    if (net.macs.get(r.mac) === r.peerId && ![...net.remotes.values()].some((o) => o.mac === r.mac && o.peerId === r.peerId)) {
      const holder = [...net.remotes.values()].find((o) => o.mac === r.mac);
      if (holder === undefined) net.macs.delete(r.mac);
      else net.macs.set(r.mac, holder.peerId);
    }
    const p = net.peers.get(r.peerId);
    if (p !== undefined && --p.endpoints === 0) {
      net.peers.delete(r.peerId);
      net.enc.removePeer(r.peerId);
      this.retarget(net);
    }
  }

  /** Closes both sockets and every network's `EncryptedUnderlay` (key copies wiped). Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const n of [...this.list]) this.drop(n);
      this.closing = Promise.all([this.kernelSide.close(), this.peerSide.close()]).then(() => undefined);
    }
    return this.closing;
  }

  /**
   * Kernel side: a VXLAN packet from `vxlan0`. Sealed for the peer behind the
   * inner destination MAC, or for every peer node (broadcast, multicast,
   * unknown MAC). Malformed and unknown-VNI packets are dropped and counted.
   */
  fromKernel(packet: Uint8Array, from: SocketAddress): void {
    const s = this.stats;
    s.fromKernel++;
    if (from.host !== this.o.address) {
      s.foreignSource++;
      return;
    }
    const vni = vniOf(packet);
    if (vni < 0) {
      s.malformed++;
      return;
    }
    const net = this.byVni.get(vni);
    if (net === undefined) {
      s.unknownVni++;
      return;
    }
    if ((packet[8]! & 1) === 0) {
      const peerId = net.macs.get(macAt(packet, 8));
      const p = peerId === undefined ? undefined : net.peers.get(peerId);
      if (p !== undefined) {
        fillInnerChecksum(packet);
        this.seal(net, packet, p.to);
        return;
      }
      s.unknownMac++;
    }
    const targets = net.targets;
    if (targets.length === 0) {
      s.noPeer++;
      return;
    }
    fillInnerChecksum(packet);
    for (let i = 0; i < targets.length; i++) this.seal(net, packet, targets[i]!);
  }

  /** Peer side: handed to every network whose `EncryptedUnderlay` accepts it (SPIs of two rings can collide: at most one opens it). */
  fromPeer(packet: Uint8Array, from: SocketAddress): void {
    this.stats.fromPeers++;
    const list = this.list;
    let claimed = false;
    for (let i = 0; i < list.length; i++) {
      const n = list[i]!;
      if (!n.enc.accepts(packet, from)) continue;
      claimed = true;
      n.port.deliver(packet, from);
    }
    if (!claimed) this.stats.unclaimed++;
  }

  private seal(net: RelayNetwork, packet: Uint8Array, to: SocketAddress): void {
    this.stats.sealed++;
    net.enc.send(packet, to);
  }

  private toKernel(net: RelayNetwork, plain: Uint8Array): void {
    if (vniOf(plain) !== net.vni) {
      this.stats.vniMismatch++;
      return;
    }
    this.stats.toKernel++;
    this.kernelSide.send(plain, this.kernelVxlan);
  }

  private addRemoteTo(net: RelayNetwork, endpointId: string, mac: number, peer: PeerNode): void {
    const samePeer = (p: PeerEntry | undefined): boolean =>
      p !== undefined && p.peer.address === peer.address && p.peer.encryptedPort === peer.encryptedPort && p.peer.epoch === peer.epoch;
    const prev = net.remotes.get(endpointId);
    if (prev !== undefined && prev.mac === mac && prev.peerId === peer.id && samePeer(net.peers.get(peer.id))) return;
    if (prev !== undefined) this.removeRemote(net.id, endpointId);
    let p = net.peers.get(peer.id);
    if (p === undefined || !samePeer(p)) {
      const to = { host: peer.address, port: peer.encryptedPort };
      net.enc.addPeer(peer.id, to, peer.epoch); // a new address or epoch replaces the registration (and its SAs)
      p = { peer, to, endpoints: p?.endpoints ?? 0 };
      net.peers.set(peer.id, p);
      this.retarget(net);
    }
    net.remotes.set(endpointId, { mac, peerId: peer.id });
    net.macs.set(mac, peer.id);
    p.endpoints++;
  }

  private retarget(net: RelayNetwork): void {
    net.targets = [...net.peers.values()].map((p) => p.to);
  }

  private drop(net: RelayNetwork): void {
    this.byId.delete(net.id);
    if (this.byVni.get(net.vni) === net) this.byVni.delete(net.vni);
    this.list = this.list.filter((n) => n !== net);
    void net.enc.close(); // records the SAs' sequence numbers, closes the port (synchronously)
    net.keys.wipe();
  }

  private sequenceMarks(id: string, suite: string): SequenceMarks {
    const key = `${suite} ${id}`;
    let m = this.marks.get(key);
    if (m === undefined) {
      m = new SequenceMarks();
      this.marks.set(key, m);
    }
    return m;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new LinuxStateError('EncryptedRelay: closed');
  }
}
