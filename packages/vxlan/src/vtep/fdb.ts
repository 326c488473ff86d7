import { parseOptions, sameSocketAddress, type SocketAddress } from '@weft/interface';
import { z } from 'zod';
import { formatMacKey, macKeyOf } from '../codec';
import type { Port } from './port';

// Module-local binding for the per-packet learning path (see segment.ts).
const sameAddress = sameSocketAddress;

/** An FDB entry's target: a port attached to this segment. */
export interface LocalTarget {
  readonly kind: 'local';
  readonly port: Port;
}

/** An FDB entry's target: a remote VTEP (underlay address of its socket). */
export interface RemoteTarget {
  readonly kind: 'remote';
  readonly address: SocketAddress;
}

/** Where frames for a MAC go. */
export type FdbTarget = LocalTarget | RemoteTarget;

/** One FDB entry, as listed by {@link Fdb.entries}. */
export interface FdbEntry {
  /** `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  readonly target: FdbTarget;
  /** Static entries (control plane, local ports) never age and are never overwritten by learning. */
  readonly static: boolean;
  /** Clock reading (ms) when a learned entry was last confirmed; static entries keep their creation time. */
  readonly lastSeen: number;
}

const fdbSettingsSchema = z.object({ agingMs: z.number().positive(), maxLearned: z.number().int().min(0) });

interface MutableEntry {
  target: FdbTarget;
  static: boolean;
  lastSeen: number;
}

/**
 * The forwarding database of one segment: MAC (as a 48-bit number key, see
 * `macKey`) → local port or remote VTEP. Learned entries expire `agingMs` after
 * they were last seen; expired entries are invisible to {@link Fdb.get} at once
 * and removed by {@link Fdb.sweep}.
 */
export class Fdb {
  private readonly table = new Map<number, MutableEntry>();
  private learnedCount = 0;

  /** Lifetime of a learned entry after it was last seen, in ms. */
  readonly agingMs: number;
  /** Cap on learned entries. */
  readonly maxLearned: number;

  /**
   * @param agingMs - lifetime of a learned entry after it was last seen, in ms (> 0).
   * @param maxLearned - cap on learned entries (integer ≥ 0); at the cap expired entries are swept, and if none has
   * expired learning stops (a flood of random source MACs cannot grow memory).
   * @throws InvalidOptionsError naming `agingMs` or `maxLearned` when out of range.
   */
  constructor(agingMs: number, maxLearned: number) {
    const o = parseOptions(fdbSettingsSchema, { agingMs, maxLearned }, 'Fdb');
    this.agingMs = o.agingMs;
    this.maxLearned = o.maxLearned;
  }

  /** Number of entries (static and learned, expired ones included until swept). */
  get size(): number {
    return this.table.size;
  }

  /**
   * The target for `key` at time `now` (ms), or undefined. Never mutates: an
   * expired learned entry reads as absent. Allocation-free.
   */
  get(key: number, now: number): FdbTarget | undefined {
    const e = this.table.get(key);
    if (e === undefined) return undefined;
    if (!e.static && now - e.lastSeen > this.agingMs) return undefined;
    return e.target;
  }

  /**
   * Installs a static entry for `mac`, replacing any entry.
   * @throws InvalidAddressError when `mac` is malformed.
   */
  setStatic(mac: string, target: FdbTarget, now: number): void {
    const key = macKeyOf(mac);
    const old = this.table.get(key);
    if (old !== undefined && !old.static) this.learnedCount--;
    this.table.set(key, { target, static: true, lastSeen: now });
  }

  /** Removes the entry for `mac` (static or learned). Returns whether there was one. */
  delete(mac: string): boolean {
    return this.deleteKey(macKeyOf(mac));
  }

  /** Removes the entry for `key`. Returns whether there was one. */
  deleteKey(key: number): boolean {
    const old = this.table.get(key);
    if (old === undefined) return false;
    if (!old.static) this.learnedCount--;
    this.table.delete(key);
    return true;
  }

  /**
   * Learns that `key` lives behind the remote VTEP `from` at time `now`.
   * Static entries win. Returns true when an entry was created or moved.
   * `from` is retained (not copied) when an entry is created or moved.
   */
  learn(key: number, from: SocketAddress, now: number): boolean {
    const e = this.table.get(key);
    if (e !== undefined) {
      if (e.static) return false;
      if (e.target.kind === 'remote' && sameAddress(e.target.address, from)) {
        e.lastSeen = now;
        return false;
      }
      e.target = { kind: 'remote', address: from };
      e.lastSeen = now;
      return true;
    }
    // At the cap, make room from expired entries first (a sweep, only when full).
    if (this.learnedCount >= this.maxLearned && this.sweep(now) === 0) return false;
    this.table.set(key, { target: { kind: 'remote', address: from }, static: false, lastSeen: now });
    this.learnedCount++;
    return true;
  }

  /** Removes learned entries older than `agingMs` at `now`. Returns how many were removed. */
  sweep(now: number): number {
    let n = 0;
    for (const [key, e] of this.table) {
      if (!e.static && now - e.lastSeen > this.agingMs) {
        this.table.delete(key);
        this.learnedCount--;
        n++;
      }
    }
    return n;
  }

  /** A snapshot of every entry (expired learned entries included until swept). */
  entries(): FdbEntry[] {
    const out: FdbEntry[] = [];
    for (const [key, e] of this.table) out.push({ mac: formatMacKey(key), target: e.target, static: e.static, lastSeen: e.lastSeen });
    return out;
  }
}
