import { ETHERTYPE_ARP as ARP_TYPE, ETHERTYPE_IPV4 as IPV4_TYPE, macKey as macKeyImport } from '../codec';
import type { DropReason } from './counters';
import { DROP_REASONS } from './counters';
import type { Fdb, FdbTarget, LocalTarget } from './fdb';
import { innerEtherType, l2HeaderLength as headerLength, l2HeaderLengthAt as headerLengthAt } from './frame-header';
import type { Neighbour, NeighbourTable } from './neighbour-table';

// Module-local bindings for the per-packet path (see segment.ts).
const macKey = macKeyImport;
const l2HeaderLength = headerLength;
const l2HeaderLengthAt = headerLengthAt;
const ETHERTYPE_ARP = ARP_TYPE;
const ETHERTYPE_IPV4 = IPV4_TYPE;

/** Drop the frame, counting `reason`. */
export interface DropDecision {
  readonly kind: 'drop';
  readonly reason: DropReason;
}
/** Flood the frame: to every other local port and, from a port, to every remote VTEP of the flood list. */
export interface FloodDecision {
  readonly kind: 'flood';
}
/** Answer an ARP request locally with the neighbour table's binding. */
export interface ArpReplyDecision {
  readonly kind: 'arp-reply';
  readonly neighbour: Neighbour;
}

/** What to do with a frame that arrived from a remote VTEP. */
export type RemoteFrameDecision = LocalTarget | FloodDecision | DropDecision;
/** What to do with a frame a local port transmitted. */
export type PortFrameDecision = FdbTarget | FloodDecision | ArpReplyDecision | DropDecision;

/** The shared flood decision (decisions are constants or FDB targets: the forwarding path allocates nothing). */
export const FLOOD: FloodDecision = Object.freeze({ kind: 'flood' });

/** The shared drop decision for each reason. */
export const DROP: Readonly<Record<DropReason, DropDecision>> = Object.freeze(
  Object.fromEntries(DROP_REASONS.map((r) => [r, Object.freeze({ kind: 'drop', reason: r })])) as Record<DropReason, DropDecision>,
);

/** The segment state a forwarding decision reads. */
export interface ForwardingView {
  readonly fdb: Fdb;
  readonly neighbours: NeighbourTable;
  /** Largest inner payload (after the Ethernet header and tag) in bytes. */
  readonly mtu: number;
  /** Answer ARP requests from the neighbour table. */
  readonly arpSuppression: boolean;
  /** Flood unicast frames with no FDB entry (otherwise drop them as `no-fdb-entry`). */
  readonly floodUnknownUnicast: boolean;
}

/**
 * Decides the fate of a frame received from a remote VTEP: delivered to the
 * local port owning the destination MAC, flooded to local ports
 * (broadcast/multicast), or dropped. Remote frames are never sent on to other
 * VTEPs (split horizon). Pure: reads `view` at time `now` (ms), mutates nothing.
 */
export function decideRemoteFrame(frame: Uint8Array, view: ForwardingView, now: number): RemoteFrameDecision {
  return decideRemoteFrameAt(frame, 0, view, now);
}

/**
 * {@link decideRemoteFrame} of the frame `buf[offset, buf.length)` (a received
 * packet after its VXLAN header), without a view of the frame.
 */
export function decideRemoteFrameAt(buf: Uint8Array, offset: number, view: ForwardingView, now: number): RemoteFrameDecision {
  const hl = l2HeaderLengthAt(buf, offset);
  if (hl < 0) return DROP['malformed-frame'];
  if (buf.length - offset - hl > view.mtu) return DROP.mtu;
  if ((buf[offset]! & 1) === 1) return FLOOD;
  const target = view.fdb.get(macKey(buf, offset), now);
  if (target === undefined || target.kind !== 'local') return DROP['no-fdb-entry'];
  return target;
}

/**
 * The target IPv4 address (unsigned 32-bit) of an Ethernet/IPv4 ARP request
 * in `frame` after a header of `hl` bytes, or -1 when it is not one.
 */
export function arpRequestTarget(frame: Uint8Array, hl: number): number {
  if (innerEtherType(frame, hl) !== ETHERTYPE_ARP || frame.length < hl + 28) return -1;
  const p = hl;
  // htype 1 (Ethernet), ptype IPv4, hlen 6, plen 4, op 1 (request)
  if (frame[p] !== 0 || frame[p + 1] !== 1 || ((frame[p + 2]! << 8) | frame[p + 3]!) !== ETHERTYPE_IPV4) return -1;
  if (frame[p + 4] !== 6 || frame[p + 5] !== 4 || frame[p + 6] !== 0 || frame[p + 7] !== 1) return -1;
  return ((frame[p + 24]! << 24) | (frame[p + 25]! << 16) | (frame[p + 26]! << 8) | frame[p + 27]!) >>> 0;
}

/**
 * Decides the fate of a frame a local port transmitted: to the FDB target of
 * the destination MAC (another local port or a remote VTEP), answered locally
 * (ARP suppression), flooded (broadcast, multicast, unknown unicast) or
 * dropped. Pure: reads `view` at time `now` (ms), mutates nothing.
 */
export function decidePortFrame(frame: Uint8Array, view: ForwardingView, now: number): PortFrameDecision {
  const hl = l2HeaderLength(frame);
  if (hl < 0) return DROP['malformed-frame'];
  if (frame.length - hl > view.mtu) return DROP.mtu;
  if ((frame[0]! & 1) === 1) {
    if (view.arpSuppression) {
      const ip = arpRequestTarget(frame, hl);
      if (ip >= 0) {
        const neighbour = view.neighbours.get(ip);
        if (neighbour !== undefined) return { kind: 'arp-reply', neighbour };
      }
    }
    return FLOOD;
  }
  const target = view.fdb.get(macKey(frame, 0), now);
  if (target !== undefined) return target;
  return view.floodUnknownUnicast ? FLOOD : DROP['no-fdb-entry'];
}
