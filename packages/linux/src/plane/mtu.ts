/** Bytes VXLAN over IPv4 adds (the same value as `@weft/core`'s `VXLAN_OVERHEAD_IPV4`, which this leaf cannot import) to an inner Ethernet frame: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD_IPV4 = 50;

/**
 * The overlay MTU (largest inner IP packet, bytes) an underlay of
 * `underlayMtu` bytes carries without fragmenting: `underlayMtu − 50`, minus
 * `encryptionOverhead` (bytes a sealed packet adds) on encrypted networks.
 * @throws RangeError when the result would be below 68 (the IPv4 minimum).
 */
export function deriveOverlayMtu(underlayMtu: number, encryptionOverhead = 0): number {
  const mtu = underlayMtu - VXLAN_OVERHEAD_IPV4 - encryptionOverhead;
  if (!Number.isInteger(mtu) || mtu < 68) {
    throw new RangeError(`deriveOverlayMtu: underlay MTU ${underlayMtu} − ${VXLAN_OVERHEAD_IPV4} − ${encryptionOverhead} = ${mtu} is below 68`);
  }
  return mtu;
}
