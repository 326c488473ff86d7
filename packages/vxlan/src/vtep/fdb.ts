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
  /** Clock reading (ms) when a learned entry was last confirmed; absent on static entries, which never age. */
  readonly lastSeen?: number;
}

const fdbSettingsSchema = z.object({ agingMs: z.number().positive(), maxLearned: z.number().int().min(0) });

/** A learned entry: where its MAC was last seen from, and when. */
interface LearnedEntry {
  readonly kind: 'learned';
  target: RemoteTarget;
  lastSeen: number;
}

/** What the table holds per MAC: a static entry is its target itself. */
type Slot = FdbTarget | LearnedEntry;

/** A static remote target in use and how many entries use it. */
interface SharedTarget {
  readonly target: RemoteTarget;
  refs: number;
}

/**
 * The forwarding database of one segment: MAC (as a 48-bit number key, see
 * `macKey`) → local port or remote VTEP. Learned entries expire `agingMs` after
 * they were last seen; expired entries are invisible to {@link Fdb.get} at once
 * and removed by {@link Fdb.sweep}.
 *
 * A segment of an overlay holds an entry for every remote endpoint of its
 * network, so entries are small: a static entry is stored as its target
 * alone, and static entries to one remote VTEP (every MAC behind one peer)
 * share one target object.
 */
export class Fdb {
  private readonly table = new Map<number, Slot>();
  private learnedCount = 0;
  /**
   * One-entry caches of `table.get` for {@link Fdb.get} and {@link Fdb.learn}
   * (-1: empty). A MAC key is a 48-bit number, hashed as a double by the Map:
   * frames of a flow repeat their MACs, and a key compare is far cheaper. Both
   * are emptied whenever an entry is added or removed; entries updated in place
   * stay valid.
   */
  private getKey = -1;
  private getSlot: Slot | undefined;
  private learnKey = -1;
  private learnSlot: Slot | undefined;
  /** Static remote targets in use, by {@link addressKey}. */
  private readonly shared = new Map<string, SharedTarget>();

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
   * Number of learned entries (expired ones included until swept). While it
   * is 0, {@link Fdb.get} does not depend on its `now` argument.
   */
  get learnedSize(): number {
    return this.learnedCount;
  }

  /**
   * The target for `key` at time `now` (ms), or undefined. Changes no entry: an
   * expired learned entry reads as absent. Allocation-free.
   */
  get(key: number, now: number): FdbTarget | undefined {
    let e: Slot | undefined;
    if (key === this.getKey) e = this.getSlot;
    else {
      e = this.table.get(key);
      this.getKey = key;
      this.getSlot = e;
    }
    if (e === undefined || e.kind !== 'learned') return e;
    return now - e.lastSeen > this.agingMs ? undefined : e.target;
  }

  /**
   * Installs a static entry for `mac`, replacing any entry. The target is
   * retained (not copied). A remote one is shared: while static entries to
   * its address (same host text and port) exist, a later `setStatic` to that
   * address keeps the first target object instead of the one it is given.
   * @throws InvalidAddressError when `mac` is malformed.
   */
  setStatic(mac: string, target: FdbTarget): void {
    const key = macKeyOf(mac);
    const old = this.table.get(key);
    const kept = target.kind === 'remote' ? this.share(target) : target;
    if (old !== undefined) this.forget(old);
    this.table.set(key, kept);
    this.uncache();
  }

  /** Removes the entry for `mac` (static or learned). Returns whether there was one. */
  delete(mac: string): boolean {
    return this.deleteKey(macKeyOf(mac));
  }

  /** Removes the entry for `key`. Returns whether there was one. */
  deleteKey(key: number): boolean {
    const old = this.table.get(key);
    if (old === undefined) return false;
    this.forget(old);
    this.table.delete(key);
    this.uncache();
    return true;
  }

  /**
   * Learns that `key` lives behind the remote VTEP `from` at time `now`.
   * Static entries win. Returns true when an entry was created or moved.
   * `from` is retained (not copied) when an entry is created or moved.
   */
  learn(key: number, from: SocketAddress, now: number): boolean {
    let e: Slot | undefined;
    if (key === this.learnKey) e = this.learnSlot;
    else {
      e = this.table.get(key);
      this.learnKey = key;
      this.learnSlot = e;
    }
    if (e !== undefined) {
      if (e.kind !== 'learned') return false;
      if (sameAddress(e.target.address, from)) {
        e.lastSeen = now;
        return false;
      }
      e.target = { kind: 'remote', address: from };
      e.lastSeen = now;
      return true;
    }
    // At the cap, make room from expired entries first (a sweep, only when full).
    if (this.learnedCount >= this.maxLearned && this.sweep(now) === 0) return false;
    this.table.set(key, { kind: 'learned', target: { kind: 'remote', address: from }, lastSeen: now });
    this.learnedCount++;
    this.uncache();
    return true;
  }

  /** Removes learned entries older than `agingMs` at `now`. Returns how many were removed. */
  sweep(now: number): number {
    let n = 0;
    for (const [key, e] of this.table) {
      if (e.kind === 'learned' && now - e.lastSeen > this.agingMs) {
        this.table.delete(key);
        this.learnedCount--;
        n++;
      }
    }
    if (n > 0) this.uncache();
    return n;
  }

  /** A snapshot of every entry (expired learned entries included until swept). */
  entries(): FdbEntry[] {
    const out: FdbEntry[] = [];
    for (const [key, e] of this.table) {
      const mac = formatMacKey(key);
      out.push(e.kind === 'learned' ? { mac, target: e.target, static: false, lastSeen: e.lastSeen } : { mac, target: e, static: true });
    }
    return out;
  }

  /** Empties the lookup caches: called on every change of the table's key set or slots. */
  private uncache(): void {
    this.getKey = -1;
    this.getSlot = undefined;
    this.learnKey = -1;
    this.learnSlot = undefined;
  }

  /** Accounts for an entry leaving the table (removed or replaced). */
  private forget(e: Slot): void {
    if (e.kind === 'learned') {
      this.learnedCount--;
      return;
    }
    if (e.kind !== 'remote') return;
    const key = addressKey(e.address);
    const s = this.shared.get(key);
    if (s !== undefined && s.target === e && --s.refs === 0) this.shared.delete(key);
  }

  /** The shared target for `target`'s address (`target` itself when there is none yet), counted as used once more. */
  private share(target: RemoteTarget): RemoteTarget {
    const key = addressKey(target.address);
    const s = this.shared.get(key);
    if (s !== undefined) {
      s.refs++;
      return s.target;
    }
    this.shared.set(key, { target, refs: 1 });
    return target;
  }
}

/**
 * The sharing key of a remote address: port and exact host text. Two
 * spellings of one IPv6 address get a target each (both forward to the same
 * place); canonicalising would cost a parse per entry for a case that does
 * not arise from a control plane, which spells a peer's address one way.
 */
function addressKey(a: SocketAddress): string {
  return `${a.port}/${a.host}`;
}
