import { PACKET_OVERHEAD } from '@weft/crypto';
import { parseOptions } from '@weft/interface';
import { z } from 'zod';

const overlayMtuInputSchema = z.object({
  underlayMtus: z.array(z.number().int().min(576).max(65535)),
  ipv6Underlay: z.boolean(),
  encrypted: z.boolean(),
});

/** Bytes VXLAN adds to an inner IP packet on an IPv4 underlay: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD_IPV4 = 50;
/** The same on an IPv6 underlay: outer IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD_IPV6 = 70;
/** Bytes sealing adds inside the UDP payload on an encrypted network (SPI, sequence, IV and tag). */
export const ENCRYPTION_OVERHEAD = PACKET_OVERHEAD;

/** Inputs of {@link overlayMtu}. */
export interface OverlayMtuInput {
  /** Underlay MTUs the nodes advertise; the smallest one counts (none: 1500). */
  readonly underlayMtus: readonly number[];
  /** True when any node's underlay address is IPv6 (the larger header counts). */
  readonly ipv6Underlay: boolean;
  readonly encrypted: boolean;
}

/**
 * The overlay MTU (the largest inner IP packet) derived from the underlay:
 * min(1500, the smallest advertised underlay MTU) − VXLAN overhead (50 bytes
 * on IPv4, 70 on IPv6) − the sealing overhead on encrypted networks. Not a
 * fixed 1450 (libnetwork#2661): a 1400-byte underlay gives 1350.
 * @throws InvalidOptionsError naming the bad field.
 */
export function overlayMtu(input: OverlayMtuInput): number {
  const o = parseOptions(overlayMtuInputSchema, input, 'overlayMtu');
  const base = Math.min(1500, ...o.underlayMtus);
  return base - (o.ipv6Underlay ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4) - (o.encrypted ? ENCRYPTION_OVERHEAD : 0);
}
