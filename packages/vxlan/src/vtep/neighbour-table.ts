import { formatIpv4, formatMac, parseIpv4, parseMac } from '@weft/interface';

/** One IPv4 → MAC binding known to the control plane. */
export interface Neighbour {
  /** Dotted quad. */
  readonly ip: string;
  /** `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /** The MAC as 6 bytes (do not modify). */
  readonly macBytes: Uint8Array;
}

/**
 * IPv4 → MAC bindings of one segment, programmed by the control plane (what
 * Docker writes into the kernel's neighbour table). Used for ARP suppression.
 */
export class NeighbourTable {
  private readonly table = new Map<number, Neighbour>();

  /** Number of bindings. */
  get size(): number {
    return this.table.size;
  }

  /**
   * Binds `ip` to `mac`, replacing an existing binding.
   * @throws InvalidAddressError when `ip` or `mac` is malformed.
   */
  set(ip: string, mac: string): void {
    const key = parseIpv4(ip);
    const macBytes = parseMac(mac);
    this.table.set(key, { ip: formatIpv4(key), mac: formatMac(macBytes), macBytes });
  }

  /** Removes the binding of `ip`. @throws InvalidAddressError when `ip` is malformed. */
  delete(ip: string): boolean {
    return this.table.delete(parseIpv4(ip));
  }

  /** The binding of the address `ip` (unsigned 32-bit), or undefined. Allocation-free. */
  get(ip: number): Neighbour | undefined {
    return this.table.get(ip);
  }

  /** A snapshot of every binding. */
  entries(): Neighbour[] {
    return [...this.table.values()];
  }
}
