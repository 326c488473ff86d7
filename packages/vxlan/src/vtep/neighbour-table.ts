import { formatIpv4, formatMac, parseIpv4 } from '@weft/interface';
import { macKeyOf } from '../codec';

/** One IPv4 → MAC binding known to the control plane. */
export interface Neighbour {
  /** Dotted quad. */
  readonly ip: string;
  /** `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /** The MAC as 6 bytes. */
  readonly macBytes: Uint8Array;
}

/**
 * IPv4 → MAC bindings of one segment, programmed by the control plane (what
 * Docker writes into the kernel's neighbour table). Used for ARP suppression.
 *
 * A binding is stored as two numbers (the address, unsigned 32-bit, → the
 * MAC's 48-bit `macKey`), about 60 bytes each with the map's share, since a
 * node holds one per remote endpoint of every network it is on; the
 * {@link Neighbour} objects that {@link NeighbourTable.get} and
 * {@link NeighbourTable.entries} return are built on each call.
 */
export class NeighbourTable {
  private readonly table = new Map<number, number>();

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
    this.table.set(key, macKeyOf(mac));
  }

  /** Removes the binding of `ip`. @throws InvalidAddressError when `ip` is malformed. */
  delete(ip: string): boolean {
    return this.table.delete(parseIpv4(ip));
  }

  /**
   * The binding of the address `ip` (unsigned 32-bit), or undefined: a new
   * object (with its strings and bytes) on every call that finds one — ARP
   * suppression, which builds a reply frame anyway, is the caller.
   */
  get(ip: number): Neighbour | undefined {
    const mac = this.table.get(ip);
    return mac === undefined ? undefined : neighbourOf(ip, mac);
  }

  /** A snapshot of every binding (new objects). */
  entries(): Neighbour[] {
    const out: Neighbour[] = [];
    for (const [ip, mac] of this.table) out.push(neighbourOf(ip, mac));
    return out;
  }
}

function neighbourOf(ip: number, key: number): Neighbour {
  const hi = Math.floor(key / 0x100000000);
  const lo = key >>> 0;
  const macBytes = Uint8Array.of(hi >>> 8, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255);
  return { ip: formatIpv4(ip), mac: formatMac(macBytes), macBytes };
}
