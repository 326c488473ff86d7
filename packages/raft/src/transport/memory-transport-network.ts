import { MalformedPacketError, parseOptions, seededRandom, type Random } from '@weft/interface';
import { z } from 'zod';
import type { Message, NodeId } from '../core/types';
import { decodeMessage, encodeMessage } from './codec/message-codec';
import { TransportClosedError } from './errors';
import type { MessageHandler, Transport } from './transport';

/** Fault settings of a {@link MemoryTransportNetwork}; every probability is in [0, 1]. */
export interface MemoryTransportFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a delivered message is delivered a second time. */
  duplicateRate: number;
  /** Minimum extra delivery delay (ms). */
  minDelayMs: number;
  /** Maximum extra delivery delay (ms); random delays in [min, max] reorder messages. */
  maxDelayMs: number;
}

/** Counters of a {@link MemoryTransportNetwork}. */
export interface MemoryTransportNetworkStats {
  /** Messages handed to the network by `send`. */
  sent: number;
  /** Messages handed to a receiver's handler. */
  delivered: number;
  /** Lost to drop rate, partitions, cuts, or a closed/unknown receiver. */
  dropped: number;
  /** Messages delivered twice by the duplicate rate. */
  duplicated: number;
  /** Exceptions thrown by receive handlers (a bug in the receiver; counted, not rethrown). */
  handlerErrors: number;
  /** With `serialize`: messages the wire codec refused (dropped, as TcpTransport would). */
  malformed: number;
}

/** Timer functions a {@link MemoryTransportNetwork} uses; inject virtual ones for replayable runs. */
export interface MemoryTransportScheduler {
  /** Runs `fn` after `ms` milliseconds (0: on the next macrotask). Returns a handle for `cancel`. */
  schedule(fn: () => void, ms: number): unknown;
  /** Cancels a pending `schedule`; ignores handles that already ran. */
  cancel(handle: unknown): void;
}

/** Options of a {@link MemoryTransportNetwork}. */
export interface MemoryTransportNetworkOptions {
  /** Seed of the fault PRNG (`seededRandom` from `@weft/interface`; default 1); ignored when `random` is given. */
  readonly seed?: number;
  /** Source of randomness in [0, 1) for faults. */
  readonly random?: Random;
  /** Timers (default: setImmediate/setTimeout). */
  readonly scheduler?: MemoryTransportScheduler;
  /**
   * Pass every message through the binary wire codec (encode on send, decode
   * and validate on delivery), as TcpTransport does: slower, but receivers
   * never share objects with senders and every message is checked against the
   * codec's validation (default false).
   */
  readonly serialize?: boolean;
}

const isFunction = (v: unknown): boolean => typeof v === 'function';

const optionsSchema = z.object({
  seed: z.number().default(1),
  random: z.custom<Random>(isFunction, { message: 'must be a function returning a number in [0, 1)' }).optional(),
  scheduler: z
    .custom<MemoryTransportScheduler>(
      (v) => typeof v === 'object' && v !== null && isFunction((v as Record<string, unknown>).schedule) && isFunction((v as Record<string, unknown>).cancel),
      { message: 'must have schedule and cancel' },
    )
    .optional(),
  serialize: z.boolean().default(false),
});

const probability = z.number().min(0).max(1);
const faultFields = z.object({ dropRate: probability, duplicateRate: probability, minDelayMs: z.number().min(0), maxDelayMs: z.number().min(0) });
const someFaults = faultFields.partial();
const allFaults = faultFields.refine((f) => f.maxDelayMs >= f.minDelayMs, { path: ['maxDelayMs'], message: 'must be >= minDelayMs' });
const transportId = z.object({ id: z.string().min(1, 'must be a non-empty string') });
const transportArgs = transportId.extend({
  network: z.custom<MemoryTransportNetwork>((v) => v instanceof MemoryTransportNetwork, { message: 'must be a MemoryTransportNetwork' }),
});

const realScheduler: MemoryTransportScheduler = {
  schedule: (fn, ms) => (ms <= 0 ? { immediate: setImmediate(fn) } : { timeout: setTimeout(fn, ms) }),
  cancel: (h) => {
    const handle = h as { immediate?: NodeJS.Immediate; timeout?: NodeJS.Timeout };
    if (handle.immediate) clearImmediate(handle.immediate);
    if (handle.timeout) clearTimeout(handle.timeout);
  },
};

/**
 * An in-process network of Raft transports for tests and benchmarks (not to
 * be confused with `@weft/vxlan`'s `MemoryNetwork` of underlays). Messages are delivered
 * asynchronously (never inside `send`), in batches. Faults are seeded and
 * replayable: partitions (`partition`), one-way cuts (`cut`), isolation, drop,
 * duplication and random delay (which reorders). Messages are passed by
 * reference, not copied: Raft messages are immutable once sent.
 */
export class MemoryTransportNetwork {
  private readonly transports = new Map<NodeId, MemoryTransport>();
  private readonly cuts = new Set<string>();
  private groupOf = new Map<NodeId, number>();
  private faults: MemoryTransportFaults = { dropRate: 0, duplicateRate: 0, minDelayMs: 0, maxDelayMs: 0 };
  private readonly random: Random;
  private readonly scheduler: MemoryTransportScheduler;
  private readonly timers = new Set<unknown>();
  private batch: Message[] = [];
  private batchHandle: unknown = undefined;
  private closed = false;
  private readonly counters: MemoryTransportNetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, handlerErrors: 0, malformed: 0 };
  private readonly serialize: boolean;

  /**
   * @param options - see {@link MemoryTransportNetworkOptions}; all optional.
   * @throws InvalidOptionsError (from `@weft/interface`) naming a bad option.
   */
  constructor(options?: MemoryTransportNetworkOptions) {
    const o = parseOptions(optionsSchema, options, 'MemoryTransportNetwork');
    this.random = o.random ?? seededRandom(o.seed);
    this.scheduler = o.scheduler ?? realScheduler;
    this.serialize = o.serialize;
  }

  /**
   * Creates (or returns the open) transport of node `id`.
   * @throws InvalidOptionsError for an empty id; TransportClosedError after {@link close}.
   */
  transport(id: NodeId): MemoryTransport {
    parseOptions(transportId, { id }, 'MemoryTransportNetwork.transport');
    if (this.closed) throw new TransportClosedError('memory transport network: closed');
    let t = this.transports.get(id);
    if (t === undefined || t.isClosed) {
      t = new MemoryTransport(id, this);
      this.transports.set(id, t);
    }
    return t;
  }

  /**
   * Replaces the fault settings (fields not given keep their value).
   * @throws InvalidOptionsError (from `@weft/interface`) naming a bad field; the settings are then unchanged.
   */
  setFaults(faults: Partial<MemoryTransportFaults>): void {
    const given = parseOptions(someFaults, faults, 'MemoryTransportNetwork.setFaults');
    this.faults = parseOptions(allFaults, { ...this.faults, ...given }, 'MemoryTransportNetwork.setFaults');
  }

  /** Splits the nodes into groups that cannot reach each other; nodes not listed form one more group. */
  partition(...groups: NodeId[][]): void {
    this.groupOf = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.groupOf.set(id, i + 1)));
  }

  /** Cuts `id` off from everyone, both directions. */
  isolate(id: NodeId): void {
    this.partition([id]);
  }

  /** Drops every message from `from` to `to` (one direction only). */
  cut(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}\u0000${to}`);
  }

  /** Undoes one {@link cut}. */
  uncut(from: NodeId, to: NodeId): void {
    this.cuts.delete(`${from}\u0000${to}`);
  }

  /** Removes every partition and cut (faults set with `setFaults` stay). */
  heal(): void {
    this.groupOf = new Map();
    this.cuts.clear();
  }

  /** A copy of the counters. */
  stats(): MemoryTransportNetworkStats {
    return { ...this.counters };
  }

  /** Whether a message from `from` to `to` passes partitions and cuts now. */
  canReach(from: NodeId, to: NodeId): boolean {
    if (this.groupOf.size === 0 && this.cuts.size === 0) return true;
    if ((this.groupOf.get(from) ?? 0) !== (this.groupOf.get(to) ?? 0)) return false;
    return !this.cuts.has(`${from}\u0000${to}`);
  }

  /** Cancels pending deliveries and closes every transport. */
  async close(): Promise<void> {
    this.closed = true;
    for (const h of this.timers) this.scheduler.cancel(h);
    this.timers.clear();
    if (this.batchHandle !== undefined) this.scheduler.cancel(this.batchHandle);
    this.batch = [];
    await Promise.all([...this.transports.values()].map((t) => t.close()));
  }

  /** @internal called by MemoryTransport.send */
  enqueue(input: readonly Message[]): void {
    if (this.closed) return;
    const messages = this.serialize ? input.map((m) => this.roundTrip(m)).filter((m): m is Message => m !== undefined) : input;
    const f = this.faults;
    const faulty = f.dropRate > 0 || f.duplicateRate > 0 || f.maxDelayMs > 0;
    for (const m of messages) {
      this.counters.sent++;
      if (!faulty) {
        this.batch.push(m);
        continue;
      }
      if (f.dropRate > 0 && this.random() < f.dropRate) {
        this.counters.dropped++;
        continue;
      }
      const copies = f.duplicateRate > 0 && this.random() < f.duplicateRate ? 2 : 1;
      if (copies === 2) this.counters.duplicated++;
      for (let c = 0; c < copies; c++) {
        const delay = f.maxDelayMs > 0 ? f.minDelayMs + this.random() * (f.maxDelayMs - f.minDelayMs) : 0;
        if (delay <= 0) this.batch.push(m);
        else {
          const h = this.scheduler.schedule(() => {
            this.timers.delete(h);
            this.deliver(m);
          }, delay);
          this.timers.add(h);
        }
      }
    }
    if (this.batch.length > 0 && this.batchHandle === undefined) {
      this.batchHandle = this.scheduler.schedule(() => this.flush(), 0);
    }
  }

  /** Encodes and decodes `m` with the wire codec; undefined (counted) when the codec refuses it. */
  private roundTrip(m: Message): Message | undefined {
    try {
      return decodeMessage(encodeMessage(m).buf);
    } catch (err) {
      if (!(err instanceof MalformedPacketError)) throw err;
      this.counters.malformed++;
      return undefined;
    }
  }

  private flush(): void {
    this.batchHandle = undefined;
    const batch = this.batch;
    this.batch = [];
    for (const m of batch) this.deliver(m);
  }

  private deliver(m: Message): void {
    // Partitions are checked at delivery time, so a partition also catches messages in flight.
    const target = this.transports.get(m.to);
    if (this.closed || target === undefined || target.isClosed || !this.canReach(m.from, m.to)) {
      this.counters.dropped++;
      return;
    }
    this.counters.delivered++;
    try {
      target.receive(m);
    } catch {
      this.counters.handlerErrors++;
    }
  }
}

/** One node's endpoint on a {@link MemoryTransportNetwork}; create it with `network.transport(id)`. */
export class MemoryTransport implements Transport {
  private handler: MessageHandler | undefined;
  private closed = false;

  /**
   * Use `network.transport(id)` instead.
   * @throws InvalidOptionsError (from `@weft/interface`) for an empty id or a `network` that is not a MemoryTransportNetwork.
   */
  constructor(
    /** The node this transport sends from and receives for. */
    readonly localId: NodeId,
    private readonly network: MemoryTransportNetwork,
  ) {
    parseOptions(transportArgs, { id: localId, network }, 'MemoryTransport');
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Hands `messages` to the network (delivered later, never inside this call); dropped after close. */
  send(messages: readonly Message[]): void {
    if (!this.closed && messages.length > 0) this.network.enqueue(messages);
  }

  /** Sets the handler for messages addressed to {@link localId}. */
  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** @internal */
  receive(m: Message): void {
    if (!this.closed) this.handler?.(m);
  }

  /** Stops sending and receiving; messages in flight to this node are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
  }
}
