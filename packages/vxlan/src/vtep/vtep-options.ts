import { systemClock, type Clock, type SocketAddress, type Underlay } from '@weft/interface';
import { z } from 'zod';
import { VXLAN_MAX_VNI } from '../codec/constants';
import { clockSchema, socketAddressSchema, underlaySchema } from '../option-schemas';

const learnedPortSchema = z.union([z.literal('source'), z.number().int().min(1).max(65535)]);

const segmentDefaultsShape = {
  mtu: z.number().int().min(68).max(65535),
  learning: z.boolean(),
  learnedPort: learnedPortSchema,
  agingMs: z.number().positive(),
  maxLearned: z.number().int().min(0),
  arpSuppression: z.boolean(),
  floodUnknownUnicast: z.boolean(),
};

/** @internal zod schema of {@link VtepOptions}. */
export const vtepOptionsSchema = z.object({
  underlay: underlaySchema,
  clock: clockSchema.default(systemClock),
  mtu: segmentDefaultsShape.mtu.default(1450),
  learning: segmentDefaultsShape.learning.default(false),
  learnedPort: segmentDefaultsShape.learnedPort.default('source'),
  agingMs: segmentDefaultsShape.agingMs.default(300_000),
  maxLearned: segmentDefaultsShape.maxLearned.default(8192),
  arpSuppression: segmentDefaultsShape.arpSuppression.default(true),
  floodUnknownUnicast: segmentDefaultsShape.floodUnknownUnicast.default(true),
});

const vniRange = `must be an integer in 0..${VXLAN_MAX_VNI}`;

/** @internal zod schema of the `vni` argument of `Vtep.addSegment`. */
export const vniSchema = z.object({ vni: z.number(vniRange).int(vniRange).min(0, vniRange).max(VXLAN_MAX_VNI, vniRange) });

/** @internal zod schema of {@link AddSegmentOptions}. */
export const segmentOptionsSchema = z.object({
  mtu: segmentDefaultsShape.mtu.optional(),
  learning: segmentDefaultsShape.learning.optional(),
  learnedPort: segmentDefaultsShape.learnedPort.optional(),
  agingMs: segmentDefaultsShape.agingMs.optional(),
  maxLearned: segmentDefaultsShape.maxLearned.optional(),
  arpSuppression: segmentDefaultsShape.arpSuppression.optional(),
  floodUnknownUnicast: segmentDefaultsShape.floodUnknownUnicast.optional(),
  flood: z.array(socketAddressSchema).default([]),
});

/** Per-segment settings; on {@link VtepOptions} they are the defaults for every segment. */
export interface SegmentOptions {
  /**
   * Largest inner payload in bytes (inner frame length minus its 14/18-byte
   * Ethernet header), 68..65535. Default 1450: a 1500-byte underlay minus the
   * 50 bytes of outer Ethernet, IPv4, UDP and VXLAN headers (the kernel's default).
   */
  mtu?: number;
  /** Learn source MACs of received frames into the FDB (default false: the control plane programs it). */
  learning?: boolean;
  /**
   * Which UDP port a learned entry points at: `'source'` (default) the sender's
   * source port, or a fixed port (e.g. 4789 for a Linux kernel peer, which sends from a flow-hash port).
   */
  learnedPort?: 'source' | number;
  /** Lifetime of a learned FDB entry after it was last seen, in ms (default 300 000, as the kernel). */
  agingMs?: number;
  /** Cap on learned FDB entries per segment (default 8192). */
  maxLearned?: number;
  /** Answer ARP requests from the neighbour table (default true). */
  arpSuppression?: boolean;
  /** Flood unicast frames with no FDB entry (default true). */
  floodUnknownUnicast?: boolean;
}

/** Options of a {@link Vtep}. */
export interface VtepOptions extends SegmentOptions {
  /** The socket to send and receive outer packets on. The VTEP installs its receive handler and closes it on `close()`. */
  underlay: Underlay;
  /** Monotonic ms clock for FDB aging (default `performance.now`). */
  clock?: Clock;
}

/** Options of {@link Vtep.addSegment}. */
export interface AddSegmentOptions extends SegmentOptions {
  /** Remote VTEPs to put in the flood list at once. */
  flood?: SocketAddress[];
}

