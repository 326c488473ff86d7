import { formatSocketAddress, sameSocketAddress, type PeerNode, type RemoteEndpointSpec, type SocketAddress } from '@weft/interface';
import { macKeyOf } from '@weft/vxlan';
import { ClaimIndex } from './claim-index';
import { AddressConflictError } from './errors';
import { vtepAddressOf, type NetworkStack } from './network-stack';

interface PeerEntry {
  /** The peer's facts: the one object every remote endpoint of this peer in the table points at. */
  peer: PeerNode;
  /** How many remote endpoints of the table are on this peer. */
  refs: number;
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function samePeer(a: PeerNode, b: PeerNode): boolean {
  return a.id === b.id && a.address === b.address && a.vxlanPort === b.vxlanPort && a.encryptedPort === b.encryptedPort && a.epoch === b.epoch;
}

function sameRemote(a: RemoteEndpointSpec, b: RemoteEndpointSpec): boolean {
  return a.id === b.id && a.ip === b.ip && a.mac === b.mac && samePeer(a.peer, b.peer);
}

/**
 * One network's remote endpoints and the entries they own in its stack:
 * an FDB entry (MAC → the peer's VTEP address), a neighbour entry (IP → MAC,
 * for ARP suppression), one flood-list entry per distinct peer (counted by
 * that peer's endpoints) and, on encrypted networks, one registration of the
 * peer, in its epoch, with the network's `EncryptedUnderlay`.
 *
 * Two endpoints claiming one MAC or IP (stale state): the one added last
 * owns the entry; when it goes, the entry passes to the remaining claimer.
 * Entries are (re)computed from the table for every key an operation
 * touches, so the stack always equals what the table says.
 *
 * Every endpoint of one peer points at one {@link PeerNode} object (the
 * table holds an entry per remote endpoint of the network, and most share a
 * handful of peers).
 */
export class RemoteTable {
  private readonly endpoints = new Map<string, RemoteEndpointSpec>();
  /** Claims of each MAC and IP by remote endpoint id, newest last (the newest claim is programmed). */
  private readonly macClaims = new ClaimIndex();
  private readonly ipClaims = new ClaimIndex();
  private readonly peers = new Map<string, PeerEntry>();

  constructor(
    private stack: NetworkStack,
    private readonly networkId: string,
  ) {}

  /** The remote endpoint with this id. */
  get(id: string): RemoteEndpointSpec | undefined {
    return this.endpoints.get(id);
  }

  /** Id of a remote endpoint holding `mac` or `ip`, if any. */
  holderOf(field: 'mac' | 'ip', value: string): string | undefined {
    return (field === 'mac' ? this.macClaims : this.ipClaims).newest(value);
  }

  /**
   * Programs (or replaces in place) a remote endpoint. Adding the same fields
   * again re-asserts its entries and changes nothing else (in particular the
   * peer's security associations are kept). A changed peer address, port or
   * epoch moves every endpoint of that peer (a new epoch: new SAs both ways).
   * @throws AddressConflictError on an encrypted network when another peer already uses the peer's sealed address.
   */
  add(spec: RemoteEndpointSpec): void {
    const at = this.vtepOf(spec.peer);
    if (this.stack.sealed !== undefined) {
      for (const [id, e] of this.peers) {
        if (id !== spec.peer.id && sameSocketAddress(this.vtepOf(e.peer), at)) throw new AddressConflictError(this.networkId, 'peer', formatSocketAddress(at), `peer ${id}`);
      }
    }
    const old = this.endpoints.get(spec.id);
    const known = this.peers.get(spec.peer.id)?.peer;
    const peer = known !== undefined && samePeer(known, spec.peer) ? known : spec.peer;
    const entry: RemoteEndpointSpec = peer === spec.peer ? spec : { id: spec.id, ip: spec.ip, mac: spec.mac, peer };
    this.endpoints.delete(spec.id);
    this.endpoints.set(spec.id, entry);
    if (old !== undefined) {
      this.macClaims.release(old.mac, old.id);
      this.ipClaims.release(old.ip, old.id);
    }
    // The newest claim of its MAC and IP.
    this.macClaims.claim(entry.mac, entry.id);
    this.ipClaims.claim(entry.ip, entry.id);
    this.usePeer(peer, old === undefined || old.peer.id !== peer.id);
    this.syncMac(entry.mac);
    this.syncIp(entry.ip);
    if (old !== undefined && !sameRemote(old, entry)) {
      if (old.mac !== entry.mac) this.syncMac(old.mac);
      if (old.ip !== entry.ip) this.syncIp(old.ip);
      if (old.peer.id !== peer.id) this.unref(old.peer.id);
    }
  }

  /** Removes a remote endpoint's entries (its peer's flood entry and registration with its last endpoint). No-op when unknown. */
  remove(id: string): void {
    const old = this.endpoints.get(id);
    if (old === undefined) return;
    this.endpoints.delete(id);
    this.macClaims.release(old.mac, old.id);
    this.ipClaims.release(old.ip, old.id);
    this.syncMac(old.mac);
    this.syncIp(old.ip);
    this.unref(old.peer.id);
  }

  /** Programs every entry into `stack` (a replaced segment or a rebuilt stack); peers already registered there keep their SAs. */
  moveTo(stack: NetworkStack): void {
    this.stack = stack;
    for (const e of this.peers.values()) this.plumbPeer(e.peer);
    for (const ep of this.endpoints.values()) {
      stack.segment.addRemoteMac(ep.mac, this.vtepOf(ep.peer));
      stack.segment.addNeighbour(ep.ip, ep.mac);
    }
  }

  /**
   * What the stack really holds, read back from it: an endpoint whose FDB
   * entry points at its peer's VTEP address and whose neighbour entry binds
   * its IP to its MAC (and, encrypted, whose peer is registered with the
   * `EncryptedUnderlay` in the endpoint's `peer.epoch`); peers whose VTEP
   * address is in the flood list.
   * Both sorted by id; copies, one per peer, shared by that peer's endpoints and flood entry.
   */
  readBack(): { remote: RemoteEndpointSpec[]; flood: PeerNode[] } {
    const segment = this.stack.segment;
    const fdb = new Map<string, SocketAddress>();
    for (const e of segment.fdbEntries()) if (e.target.kind === 'remote') fdb.set(e.mac, e.target.address);
    const neighbours = new Map(segment.neighbourEntries().map((n) => [n.ip, n.mac]));
    const enc = this.stack.sealed?.enc;
    const copies = new Map<string, PeerNode>();
    const copyOf = (peer: PeerNode): PeerNode => {
      let copy = copies.get(peer.id);
      if (copy === undefined) copies.set(peer.id, (copy = { ...peer }));
      return copy;
    };
    const remote: RemoteEndpointSpec[] = [];
    for (const ep of this.endpoints.values()) {
      const to = fdb.get(ep.mac);
      if (to === undefined || !sameSocketAddress(to, this.vtepOf(ep.peer)) || neighbours.get(ep.ip) !== ep.mac) continue;
      if (enc !== undefined && enc.peerEpoch(ep.peer.id) !== ep.peer.epoch) continue;
      remote.push({ id: ep.id, ip: ep.ip, mac: ep.mac, peer: copyOf(ep.peer) });
    }
    const floodList = segment.floodList;
    const flood: PeerNode[] = [];
    for (const e of this.peers.values()) {
      if (floodList.some((a) => sameSocketAddress(a, this.vtepOf(e.peer)))) flood.push(copyOf(e.peer));
    }
    return { remote: remote.sort(byId), flood: flood.sort(byId) };
  }

  private vtepOf(peer: PeerNode): SocketAddress {
    return vtepAddressOf(this.stack, peer);
  }

  /**
   * Registers `peer` (flood entry, SAs) or moves it to a new address, and
   * counts one more endpoint on it when `counted` (an endpoint new to the
   * table or moved here from another peer; not one re-added on the same peer).
   */
  private usePeer(peer: PeerNode, counted: boolean): void {
    const known = this.peers.get(peer.id);
    if (known === undefined) {
      this.peers.set(peer.id, { peer, refs: 1 });
      this.plumbPeer(peer);
      return;
    }
    if (counted) known.refs++;
    if (known.peer === peer || samePeer(known.peer, peer)) {
      this.plumbPeer(peer); // re-assert; no-op when present
      return;
    }
    // The node moved (new address or ports) or restarted (new epoch): every endpoint of it follows.
    const before = this.vtepOf(known.peer);
    known.peer = peer;
    for (const ep of this.endpoints.values()) if (ep.peer.id === peer.id && ep.peer !== peer) this.endpoints.set(ep.id, { ...ep, peer });
    const after = this.vtepOf(peer);
    if (!sameSocketAddress(before, after)) {
      this.dropFloodIfUnused(before);
      this.stack.sealed?.enc.removePeer(peer.id);
      for (const ep of this.endpoints.values()) if (ep.peer.id === peer.id) this.syncMac(ep.mac);
    }
    this.plumbPeer(peer);
  }

  /** Counts one endpoint fewer on the peer, unregistering it with its last. */
  private unref(peerId: string): void {
    const e = this.peers.get(peerId);
    if (e === undefined) return;
    e.refs--;
    if (e.refs > 0) return;
    this.peers.delete(peerId);
    this.dropFloodIfUnused(this.vtepOf(e.peer));
    this.stack.sealed?.enc.removePeer(peerId);
  }

  /**
   * Flood entry and (encrypted) registration of `peer` in its epoch. The same
   * registration again keeps the peer's SAs (`addPeer` changes nothing then);
   * a new epoch replaces them.
   */
  private plumbPeer(peer: PeerNode): void {
    const at = this.vtepOf(peer);
    this.stack.segment.addFloodTarget(at);
    this.stack.sealed?.enc.addPeer(peer.id, at, peer.epoch);
  }

  private dropFloodIfUnused(at: SocketAddress): void {
    for (const e of this.peers.values()) if (sameSocketAddress(this.vtepOf(e.peer), at)) return;
    this.stack.segment.removeFloodTarget(at);
  }

  /** Points the FDB entry of `mac` at its newest claimer's peer, or removes it (a remote entry only: a local port's stays). */
  private syncMac(mac: string): void {
    const newest = this.macClaims.newest(mac);
    const owner = newest === undefined ? undefined : this.endpoints.get(newest);
    const segment = this.stack.segment;
    if (owner !== undefined) segment.addRemoteMac(mac, this.vtepOf(owner.peer));
    else if (segment.fdb.get(macKeyOf(mac), 0)?.kind === 'remote') segment.removeMac(mac);
  }

  /** Binds `ip` to its newest claimer's MAC, or removes the binding. */
  private syncIp(ip: string): void {
    const newest = this.ipClaims.newest(ip);
    const owner = newest === undefined ? undefined : this.endpoints.get(newest);
    if (owner !== undefined) this.stack.segment.addNeighbour(ip, owner.mac);
    else this.stack.segment.removeNeighbour(ip);
  }
}
