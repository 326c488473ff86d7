import {
  canonicalIp,
  formatSocketAddress,
  InvalidOptionsError,
  parseOptions,
  seededRandom,
  systemClock,
  UnderlayClosedError,
  type Clock,
  type Random,
  type SocketAddress,
  type Underlay,
} from '@weft/interface';
import { z } from 'zod';
import { clockSchema, ipLiteralSchema, portSchema } from '../option-schemas';

const probability = z.number().min(0).max(1);
const conditionsSchema = z.object({
  loss: probability.optional(),
  duplicate: probability.optional(),
  reorder: probability.optional(),
  latencyMs: z.number().min(0).optional(),
  jitterMs: z.number().min(0).optional(),
});

const networkOptionsSchema = conditionsSchema.extend({
  seed: z.number().int().default(1),
  random: z.custom<Random>((v) => typeof v === 'function', 'must be a function returning [0, 1)').optional(),
  clock: clockSchema.optional(),
  autoDeliver: z.boolean().default(true),
});

const attachSchema = z.object({ host: ipLiteralSchema.default('127.0.0.1'), port: portSchema.optional() });

/**
 * The map key of an address: `host:port` with an IPv6 host in canonical form,
 * so every spelling of one address reaches the same underlay. A host that is
 * not an IP literal (never attached) keeps its text and is simply unroutable.
 */
function addressKey(a: SocketAddress): string {
  if (!a.host.includes(':')) return `${a.host}:${a.port}`;
  try {
    return `[${canonicalIp(a.host)}]:${a.port}`;
  } catch {
    return `[${a.host}]:${a.port}`;
  }
}

/** Link conditions of a {@link MemoryNetwork}; every field may be changed at run time. */
export interface LinkConditions {
  /** Probability in [0, 1] that a datagram is dropped. Default 0. */
  loss?: number;
  /** Probability in [0, 1] that a datagram is delivered twice (the copy is a separate buffer). Default 0. */
  duplicate?: number;
  /** Probability in [0, 1] that a datagram is held back so later ones overtake it. Default 0. */
  reorder?: number;
  /** One-way delay in ms added to every datagram. Default 0. */
  latencyMs?: number;
  /** Extra random delay in ms, uniform in [0, jitterMs). Default 0. */
  jitterMs?: number;
}

/** Options of a {@link MemoryNetwork}. */
export interface MemoryNetworkOptions extends LinkConditions {
  /** Seed of the network's PRNG (default 1); the same seed gives the same loss/duplication/reordering decisions. */
  seed?: number;
  /** Replaces the seeded PRNG. */
  random?: Random;
  /** Clock used to schedule deliveries (default the process's monotonic clock). */
  clock?: Clock;
  /**
   * Deliver on timers (default true). With false nothing is delivered until
   * {@link MemoryNetwork.deliverDue} or {@link MemoryNetwork.flush} is called,
   * which makes a run fully deterministic together with a manual clock.
   */
  autoDeliver?: boolean;
}

/** Counters of a {@link MemoryNetwork}. */
export interface MemoryNetworkCounters {
  /** Datagrams handed to `send`. */
  sent: number;
  /** Datagrams handed to a receive handler. */
  delivered: number;
  /** Dropped by the loss setting. */
  lost: number;
  /** Extra copies made by the duplicate setting. */
  duplicated: number;
  /** Held back by the reorder setting. */
  reordered: number;
  /** Addressed to nobody (no underlay at that address, or it closed). */
  unroutable: number;
}

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly packet: Uint8Array;
  readonly from: SocketAddress;
  readonly to: string;
}

/**
 * An in-process datagram network: {@link MemoryUnderlay}s attached to it
 * exchange packets with seeded loss, duplication, reordering and latency.
 * Deliveries are ordered by (due time, send order), so a run is reproducible
 * given the seed, the clock and the order of sends.
 */
export class MemoryNetwork {
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly autoDeliver: boolean;
  private conditions: Required<LinkConditions>;
  private readonly nodes = new Map<string, MemoryUnderlay>();
  private queue: InFlight[] = [];
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private nextPort = 49152;
  private readonly stats: MemoryNetworkCounters = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, unroutable: 0 };

  /** @throws InvalidOptionsError when an option is out of range (names the field). */
  constructor(options: MemoryNetworkOptions = {}) {
    const opts = parseOptions(networkOptionsSchema, options, 'MemoryNetwork');
    this.random = opts.random ?? seededRandom(opts.seed);
    this.clock = opts.clock ?? systemClock;
    this.autoDeliver = opts.autoDeliver;
    this.conditions = { loss: 0, duplicate: 0, reorder: 0, latencyMs: 0, jitterMs: 0 };
    this.setConditions(opts);
  }

  /** Changes link conditions for datagrams sent from now on. @throws InvalidOptionsError on a bad value. */
  setConditions(conditions: LinkConditions): void {
    const c = parseOptions(conditionsSchema, conditions, 'MemoryNetwork.setConditions');
    this.conditions = {
      loss: c.loss ?? this.conditions.loss,
      duplicate: c.duplicate ?? this.conditions.duplicate,
      reorder: c.reorder ?? this.conditions.reorder,
      latencyMs: c.latencyMs ?? this.conditions.latencyMs,
      jitterMs: c.jitterMs ?? this.conditions.jitterMs,
    };
  }

  /** Totals since construction (a fresh copy). */
  get counters(): MemoryNetworkCounters {
    return { ...this.stats };
  }

  /** Datagrams sent but not yet delivered. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Attaches a new underlay at `address` (default host `127.0.0.1`, a fresh port from 49152 up).
   * Two spellings of one IPv6 address (`::1`, `0::1`) name the same attachment point.
   * @throws InvalidOptionsError when the host is not an IP literal, the port is out of range, or the address is taken.
   */
  attach(address: Partial<SocketAddress> = {}): MemoryUnderlay {
    const a = parseOptions(attachSchema, address, 'MemoryNetwork.attach');
    const host = a.host;
    let port = a.port;
    if (port === undefined) {
      while (this.nodes.has(addressKey({ host, port: this.nextPort }))) this.nextPort++;
      port = this.nextPort++;
    }
    const local = { host, port };
    const key = addressKey(local);
    if (this.nodes.has(key)) {
      throw new InvalidOptionsError('port', `MemoryNetwork.attach: option "port" is taken: ${formatSocketAddress(local)} is already attached`);
    }
    const node = new MemoryUnderlay(this, local);
    this.nodes.set(key, node);
    return node;
  }

  /**
   * Delivers every datagram whose due time has come (by the clock), in order,
   * including ones that become due as a result. Returns how many were delivered.
   */
  deliverDue(): number {
    const now = this.clock.now();
    let n = 0;
    while (this.queue.length > 0 && (this.queue[0] as InFlight).at <= now) {
      this.deliver(this.queue.shift() as InFlight);
      n++;
    }
    this.schedule();
    return n;
  }

  /**
   * Delivers everything in flight regardless of due time, in order, including
   * datagrams sent by the handlers while flushing, up to `limit` deliveries
   * (default 100 000). Returns how many were delivered.
   */
  flush(limit = 100_000): number {
    let n = 0;
    while (this.queue.length > 0 && n < limit) {
      this.deliver(this.queue.shift() as InFlight);
      n++;
    }
    this.schedule();
    return n;
  }

  /** @internal Called by {@link MemoryUnderlay.send}. */
  transmit(packet: Uint8Array, from: SocketAddress, to: SocketAddress): void {
    this.stats.sent++;
    const c = this.conditions;
    if (c.loss > 0 && this.random() < c.loss) {
      this.stats.lost++;
      return;
    }
    const key = addressKey(to);
    const copies = c.duplicate > 0 && this.random() < c.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = c.latencyMs + (c.jitterMs > 0 ? this.random() * c.jitterMs : 0);
      if (c.reorder > 0 && this.random() < c.reorder) {
        this.stats.reordered++;
        delay += 1 + c.latencyMs + c.jitterMs;
      }
      this.enqueue({ at: this.clock.now() + delay, seq: this.seq++, packet: i === 0 ? packet : packet.slice(), from, to: key });
    }
    this.schedule();
  }

  /** @internal Called by {@link MemoryUnderlay.close}. */
  detach(node: MemoryUnderlay): void {
    const key = addressKey(node.local);
    if (this.nodes.get(key) === node) this.nodes.delete(key);
    if (this.nodes.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
    }
  }

  private enqueue(item: InFlight): void {
    const q = this.queue;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = q[mid] as InFlight;
      if (m.at < item.at || (m.at === item.at && m.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, item);
  }

  private deliver(item: InFlight): void {
    const node = this.nodes.get(item.to);
    if (node === undefined || !node.receive(item.packet, item.from)) {
      this.stats.unroutable++;
      return;
    }
    this.stats.delivered++;
  }

  private schedule(): void {
    if (!this.autoDeliver || this.queue.length === 0 || this.nodes.size === 0) return;
    const at = (this.queue[0] as InFlight).at;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.deliverDue();
    }, Math.max(0, at - this.clock.now()));
  }
}

/**
 * An {@link Underlay} attached to a {@link MemoryNetwork}; create it with
 * `network.attach(address)`.
 */
export class MemoryUnderlay implements Underlay {
  private handler: ((packet: Uint8Array, from: SocketAddress) => void) | undefined;
  private closed = false;
  private handlerErrorCount = 0;

  /** @internal Use {@link MemoryNetwork.attach}. */
  constructor(
    private readonly network: MemoryNetwork,
    readonly local: SocketAddress,
  ) {}

  /** Exceptions thrown by the receive handler (caught and counted). */
  get handlerErrors(): number {
    return this.handlerErrorCount;
  }

  /**
   * Sends one datagram through the network. Ownership of `packet` passes to the network.
   * @throws UnderlayClosedError after `close()`.
   */
  send(packet: Uint8Array, to: SocketAddress): void {
    if (this.closed) throw new UnderlayClosedError(`memory ${formatSocketAddress(this.local)}`);
    this.network.transmit(packet, this.local, to);
  }

  /** Installs the single receive handler (replacing any previous one); the handler owns `packet`. */
  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.handler = handler;
  }

  /** @internal Hands a datagram to the handler; false when closed. */
  receive(packet: Uint8Array, from: SocketAddress): boolean {
    if (this.closed) return false;
    const handler = this.handler;
    if (handler === undefined) return true;
    try {
      handler(packet, from);
    } catch {
      this.handlerErrorCount++;
    }
    return true;
  }

  /** Detaches from the network. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.handler = undefined;
      this.network.detach(this);
    }
    return Promise.resolve();
  }
}
