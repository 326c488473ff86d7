/**
 * Every reason a VTEP or segment drops a packet or frame.
 * - `bad-header`: outer payload shorter than 8 bytes or the VXLAN I flag clear.
 * - `unknown-vni`: no segment for the packet's VNI.
 * - `malformed-frame`: inner frame shorter than its Ethernet header.
 * - `mtu`: inner frame's payload larger than the segment MTU (never fragmented).
 * - `no-fdb-entry`: a unicast frame from a remote VTEP for a MAC that is not a local port,
 *   or a unicast frame from a port with no FDB entry while unknown-unicast flooding is off.
 * - `no-local-port`: a broadcast/multicast frame from a remote VTEP with no local port to take it.
 * - `no-flood-target`: a frame to flood from a port but nobody else in the segment (no other port, empty flood list).
 * - `detached`: a frame transmitted by a port after it was detached.
 * - `closed`: a frame transmitted or a packet received after the VTEP closed, or a send its underlay refused as closed.
 * - `port-error`: a port's `receive` threw.
 */
export const DROP_REASONS = [
  'bad-header',
  'unknown-vni',
  'malformed-frame',
  'mtu',
  'no-fdb-entry',
  'no-local-port',
  'no-flood-target',
  'detached',
  'closed',
  'port-error',
] as const;

/** One of {@link DROP_REASONS}. */
export type DropReason = (typeof DROP_REASONS)[number];

/** Packet counters of a VTEP or one segment; totals since creation. Bytes are outer UDP payload bytes for `rx`/`tx`. */
export interface VtepCounters {
  /** Outer packets received from the underlay (VTEP) or handed to this segment (segment). */
  rxPackets: number;
  /** Bytes of those packets. */
  rxBytes: number;
  /** Received packets whose frame reached at least one local port. */
  rxDelivered: number;
  /** Received packets dropped; always equals the sum of the rx-side drop reasons. */
  rxDropped: number;
  /** Outer packets handed to the underlay (one per replica when flooding). */
  txPackets: number;
  /** Bytes of those packets. */
  txBytes: number;
  /** Frames from ports delivered to another local port of the same segment. */
  localDelivered: number;
  /** Frames from ports flooded (broadcast, multicast, unknown unicast). */
  flooded: number;
  /** ARP requests answered from the neighbour table instead of being flooded. */
  arpSuppressed: number;
  /** FDB entries learned or refreshed to a new location from received frames. */
  learned: number;
  /** Drops by reason. */
  drops: Record<DropReason, number>;
}

/** Zeroed counters. */
export function emptyCounters(): VtepCounters {
  const drops = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) drops[r] = 0;
  return {
    rxPackets: 0,
    rxBytes: 0,
    rxDelivered: 0,
    rxDropped: 0,
    txPackets: 0,
    txBytes: 0,
    localDelivered: 0,
    flooded: 0,
    arpSuppressed: 0,
    learned: 0,
    drops,
  };
}

/** A deep copy, for handing out snapshots. */
export function copyCounters(c: VtepCounters): VtepCounters {
  return { ...c, drops: { ...c.drops } };
}

/** Sum of all drop counters. */
export function totalDrops(c: VtepCounters): number {
  let n = 0;
  for (const r of DROP_REASONS) n += c.drops[r];
  return n;
}
