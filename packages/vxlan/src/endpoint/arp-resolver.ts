import { formatIpv4, formatMac, parseOptions, type Clock } from '@weft/interface';
import { z } from 'zod';
import { clockSchema } from '../option-schemas';

/** One neighbour-cache entry. */
export interface CachedNeighbour {
  ip: string;
  mac: string;
  /** Clock reading (ms) when it expires. */
  expiresAt: number;
}

/** Settings of an {@link ArpResolver}, from the endpoint's options. */
export interface ArpResolverSettings {
  clock: Clock;
  arpTimeoutMs: number;
  arpRetries: number;
  neighbourTtlMs: number;
  maxPendingPerHost: number;
}

const settingsSchema = z.object({
  clock: clockSchema,
  arpTimeoutMs: z.number().positive(),
  arpRetries: z.number().int().min(0),
  neighbourTtlMs: z.number().positive(),
  maxPendingPerHost: z.number().int().min(1),
});

const callbacksSchema = z.object({
  sendRequest: z.custom<(ip: number) => void>((f) => typeof f === 'function', 'must be a function'),
  onQueueFull: z.custom<() => void>((f) => typeof f === 'function', 'must be a function'),
});

interface CacheEntry {
  mac: Uint8Array;
  expiresAt: number;
}

interface Pending {
  waiters: Array<(mac: Uint8Array | undefined) => void>;
  tries: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * An endpoint's neighbour cache (IPv4 → MAC, entries live `neighbourTtlMs`)
 * and its outstanding ARP resolutions: callers wait (bounded per host) while
 * requests are retried every `arpTimeoutMs`, `arpRetries` times.
 * The resolver decides when to ask; the endpoint builds and sends the request.
 */
export class ArpResolver {
  private readonly cache = new Map<number, CacheEntry>();
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private readonly s: ArpResolverSettings;
  private readonly sendRequest: (ip: number) => void;
  private readonly onQueueFull: () => void;

  /**
   * @param settings - timing and bounds (ms, counts), as `EndpointOptions` names them.
   * @param sendRequest - transmits an ARP request for the address (unsigned 32-bit).
   * @param onQueueFull - called when a waiter is refused because the host's queue is full.
   * @throws InvalidOptionsError naming the offending setting or callback.
   */
  constructor(settings: ArpResolverSettings, sendRequest: (ip: number) => void, onQueueFull: () => void) {
    this.s = parseOptions(settingsSchema, settings, 'ArpResolver');
    const c = parseOptions(callbacksSchema, { sendRequest, onQueueFull }, 'ArpResolver');
    this.sendRequest = c.sendRequest;
    this.onQueueFull = c.onQueueFull;
  }

  /** The cached, unexpired MAC of `ip`, or undefined. Allocation-free. */
  lookup(ip: number): Uint8Array | undefined {
    const hit = this.cache.get(ip);
    if (hit === undefined) return undefined;
    if (hit.expiresAt > this.s.clock.now()) return hit.mac;
    this.cache.delete(ip);
    return undefined;
  }

  /** True when `ip` has a cache entry (expired or not). */
  has(ip: number): boolean {
    return this.cache.has(ip);
  }

  /** Records `ip` → `mac` (the array is kept) and wakes everyone waiting for it. */
  learn(ip: number, mac: Uint8Array): void {
    if (ip === 0 || this.closed) return;
    this.cache.set(ip, { mac, expiresAt: this.s.clock.now() + this.s.neighbourTtlMs });
    const p = this.pending.get(ip);
    if (p !== undefined) {
      this.pending.delete(ip);
      if (p.timer !== undefined) clearTimeout(p.timer);
      for (const w of p.waiters) w(mac);
    }
  }

  /**
   * Calls `then` with the MAC of `ip`: synchronously on a cache hit, later when
   * ARP answers, or with undefined when it never does, the queue is full or the resolver closes.
   */
  resolve(ip: number, then: (mac: Uint8Array | undefined) => void): void {
    if (this.closed) return then(undefined);
    const hit = this.lookup(ip);
    if (hit !== undefined) return then(hit);
    let p = this.pending.get(ip);
    if (p !== undefined) {
      if (p.waiters.length >= this.s.maxPendingPerHost) {
        this.onQueueFull();
        return then(undefined);
      }
      p.waiters.push(then);
      return;
    }
    p = { waiters: [then], tries: 0, timer: undefined };
    this.pending.set(ip, p);
    this.ask(ip, p);
  }

  /** Unexpired cache entries. */
  entries(): CachedNeighbour[] {
    const now = this.s.clock.now();
    const out: CachedNeighbour[] = [];
    for (const [ip, e] of this.cache) if (e.expiresAt > now) out.push({ ip: formatIpv4(ip), mac: formatMac(e.mac), expiresAt: e.expiresAt });
    return out;
  }

  /** Cancels every timer and fails every waiter (with undefined). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [ip, p] of this.pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      this.pending.delete(ip);
      for (const w of p.waiters) w(undefined);
    }
  }

  private ask(ip: number, p: Pending): void {
    p.tries++;
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (this.pending.get(ip) !== p) return;
      if (p.tries <= this.s.arpRetries) return this.ask(ip, p);
      this.pending.delete(ip);
      for (const w of p.waiters) w(undefined);
    }, this.s.arpTimeoutMs);
    this.sendRequest(ip);
  }
}
