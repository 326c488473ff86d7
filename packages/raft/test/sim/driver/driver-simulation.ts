import { cmp, kv, type StateMachine } from '@weft/interface';
import type { Message, NodeId } from '../../../src/core/types';
import { KvStore, RaftKv, type KvResult } from '../../../src/kv';
import { RaftNode, type NodeTimers } from '../../../src/node';
import { checkLinearizability, kvModel, Prng, type KvModelInput, type KvModelOutput, type Operation } from '../../../src/testing';
import type { Transport } from '../../../src/transport';
import { EventQueue } from '../event-queue';
import { SafetyViolation } from '../safety-monitor';
import { SimNetwork, type NetworkFaults } from '../sim-network';
import { SimDisk } from './sim-disk';

/** Parameters of one driver-level run (see {@link driverConfigForSeed}). */
export interface DriverSimConfig {
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  readonly keys: readonly string[];
  readonly chaosMs: number;
  readonly quietMs: number;
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly clientTimeoutMs: number;
  readonly nemesisMs: number;
  readonly fsyncMs: readonly [number, number];
  /** One `writeReady` per Ready, or the driver's separate writes (tearable by a crash). */
  readonly atomicReady: boolean;
  readonly snapshotThreshold: number;
  readonly snapshotTrailingEntries: number;
  readonly network: NetworkFaults;
  /** Disks acknowledge writes before they are durable (a deliberately broken mode). */
  readonly lyingDisks?: boolean;
}

export function driverConfigForSeed(seed: number, overrides: Partial<DriverSimConfig> = {}): DriverSimConfig {
  const p = new Prng(seed ^ 0xd51e);
  return {
    seed,
    nodes: 5,
    clients: 4,
    keys: ['x', 'y'],
    chaosMs: 1_500,
    quietMs: 800,
    electionTimeoutMs: 100,
    heartbeatIntervalMs: 10,
    requestTimeoutMs: 400,
    clientTimeoutMs: 450,
    nemesisMs: 80 + p.int(0, 170),
    fsyncMs: [0.2, 0.5 + p.next() * 4],
    atomicReady: p.chance(0.5),
    snapshotThreshold: p.chance(0.5) ? p.int(5, 30) : 10_000,
    snapshotTrailingEntries: p.int(0, 5),
    network: {
      drop: p.chance(0.3) ? 0 : p.next() * 0.08,
      duplicate: p.next() * 0.04,
      minDelayMs: 0.5,
      maxDelayMs: 1 + p.int(0, 8),
      longDelay: p.next() * 0.03,
      longDelayMaxMs: 50 + p.int(0, 150),
    },
    ...overrides,
  };
}

export interface DriverSimResult {
  readonly seed: number;
  readonly failure: string | null;
  readonly stats: { events: number; operations: number; unknown: number; crashes: number; leaders: number; writes: number };
  readonly trace: readonly string[];
}

/** Virtual setInterval/clearInterval for one node instance; all cancelled on crash. */
class VirtualTimers implements NodeTimers {
  private readonly live = new Set<{ cancelled: boolean }>();
  constructor(private readonly schedule: (delayMs: number, run: () => void) => void) {}
  setInterval(fn: () => void, ms: number): unknown {
    const h = { cancelled: false };
    this.live.add(h);
    const loop = (): void => {
      if (h.cancelled) return;
      fn();
      this.schedule(ms, loop);
    };
    this.schedule(ms, loop);
    return h;
  }
  clearInterval(handle: unknown): void {
    const h = handle as { cancelled: boolean };
    h.cancelled = true;
    this.live.delete(h);
  }
  cancelAll(): void {
    for (const h of this.live) h.cancelled = true;
    this.live.clear();
  }
}

/** A node instance's view of the simulated network; dead after a crash. */
class SimTransport implements Transport {
  handler: ((m: Message) => void) | null = null;
  alive = true;
  constructor(
    readonly localId: NodeId,
    private readonly network: SimNetwork,
  ) {}
  send(messages: readonly Message[]): void {
    if (!this.alive) return;
    for (const m of messages) this.network.send(m);
  }
  onMessage(handler: (m: Message) => void): void {
    this.handler = handler;
  }
  async close(): Promise<void> {
    this.alive = false;
  }
}

interface Instance {
  node: RaftNode<KvResult>;
  store: KvStore;
  kv: RaftKv;
  timers: VirtualTimers;
  transport: SimTransport;
}

const text = new TextDecoder();
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The real `RaftNode` driver (with its persistence ordering, apply loop,
 * ReadIndex barrier and request bookkeeping) under the same kind of faults as
 * the core simulation: virtual timers, a simulated disk whose unsynced writes
 * a crash loses, the simulated network, and `RaftKv` clients whose history is
 * checked for linearizability. Deterministic: between two events every
 * microtask is drained (the driver schedules only microtasks and the injected
 * timers).
 */
export class DriverSimulation {
  private readonly queue = new EventQueue();
  private time = 0;
  private stamps = 0;
  private events = 0;
  private crashes = 0;
  private readonly prng: Prng;
  private readonly ids: NodeId[];
  private readonly disks = new Map<NodeId, SimDisk>();
  private readonly live = new Map<NodeId, Instance>();
  private readonly network: SimNetwork;
  private readonly history: Operation<KvModelInput, KvModelOutput>[] = [];
  private readonly leaders = new Map<number, NodeId>();
  /** Index → command bytes applied there (any node). */
  private readonly applied = new Map<number, string>();
  private readonly traceLines: string[] = [];
  private running = true;
  private violation: string | null = null;

  constructor(readonly config: DriverSimConfig) {
    this.prng = new Prng(config.seed);
    this.ids = Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
    this.network = new SimNetwork(this.prng.fork(), config.network, (d, run) => this.schedule(d, run), (m) => {
      const inst = this.live.get(m.to);
      if (inst?.transport.alive) inst.transport.handler?.(m);
    });
    for (const id of this.ids) {
      const [lo, hi] = config.fsyncMs;
      const diskPrng = this.prng.fork();
      const latency = (): number => lo + diskPrng.next() * (hi - lo);
      this.disks.set(id, new SimDisk(() => this.time, (d, run) => this.schedule(d, run), latency, config.lyingDisks === true));
    }
  }

  private schedule(delayMs: number, run: () => void): void {
    this.queue.push(this.time + delayMs, run);
  }

  private trace(line: string): void {
    this.traceLines.push(`t=${this.time.toFixed(1)} ${line}`);
    if (this.traceLines.length > 200) this.traceLines.splice(0, 160);
  }

  private fail(message: string): void {
    this.violation ??= message;
  }

  private async startNode(id: NodeId): Promise<void> {
    const cfg = this.config;
    const timers = new VirtualTimers((d, run) => this.schedule(d, run));
    const transport = new SimTransport(id, this.network);
    const inner = new KvStore({ historyLimit: 16 });
    let lastApplied = 0;
    // Checks State Machine Safety on the way in: same bytes at the same index everywhere, indexes increasing.
    const store: StateMachine<KvResult> = {
      apply: (command, index) => {
        if (index <= lastApplied) this.fail(`State Machine Safety: ${id} applied index ${index} after ${lastApplied}`);
        lastApplied = index;
        const key = Buffer.from(command).toString('base64');
        const seen = this.applied.get(index);
        if (seen === undefined) this.applied.set(index, key);
        else if (seen !== key) this.fail(`State Machine Safety: ${id} applied a different command at index ${index}`);
        return inner.apply(command, index);
      },
      restore: (data) => {
        lastApplied = 0; // the snapshot's index is not passed; the next apply is above it
        inner.restore(data);
      },
      snapshot: () => inner.snapshot(),
    };
    const disk = this.disks.get(id) as SimDisk;
    const node = await RaftNode.create<KvResult>({
      id,
      peers: this.ids,
      stateMachine: store,
      transport,
      stores: disk.stores(cfg.atomicReady),
      electionTimeoutMs: cfg.electionTimeoutMs,
      heartbeatIntervalMs: cfg.heartbeatIntervalMs,
      requestTimeoutMs: cfg.requestTimeoutMs,
      snapshotThreshold: cfg.snapshotThreshold,
      snapshotTrailingEntries: cfg.snapshotTrailingEntries,
      random: this.prng.fork().asFunction(),
      timers,
    });
    node.on('role-change', (role) => {
      if (role !== 'leader' || !transport.alive) return;
      const term = node.status().term;
      const prev = this.leaders.get(term);
      if (prev !== undefined && prev !== id) this.fail(`Election Safety: ${prev} and ${id} are both leader in term ${term}`);
      this.leaders.set(term, id);
      this.trace(`${id} leader of term ${term}`);
    });
    node.on('failed', (err) => this.fail(`${id} failed: ${err.name}: ${err.message}`));
    node.start();
    this.live.set(id, { node, store: inner, kv: new RaftKv(node, inner), timers, transport });
  }

  private crash(id: NodeId): void {
    const inst = this.live.get(id);
    if (!inst) return;
    this.crashes++;
    inst.timers.cancelAll();
    inst.transport.alive = false;
    this.live.delete(id);
    (this.disks.get(id) as SimDisk).crash();
    this.trace(`crash ${id}`);
  }

  private nemesis(): Promise<void> | undefined {
    const p = this.prng;
    const down = this.ids.filter((id) => !this.live.has(id));
    const r = p.next();
    if (r < 0.25) {
      this.network.heal();
      this.trace('heal');
    } else if (r < 0.4) {
      const s = p.shuffle([...this.ids]);
      const k = p.int(1, 2);
      this.network.heal();
      this.network.partition(s.slice(0, k), s.slice(k));
      this.trace(`partition ${s.slice(0, k).join(',')} | ${s.slice(k).join(',')}`);
    } else if (r < 0.55) {
      const from = p.pick(this.ids);
      const to = p.pick(this.ids.filter((x) => x !== from));
      this.network.cutOneWay(from, to);
      this.trace(`one-way cut ${from}>${to}`);
    } else if (r < 0.8) {
      if (down.length < 2) {
        const leader = [...this.live.values()].find((i) => i.node.isLeader);
        const victim = leader && p.chance(0.5) ? leader.node.id : p.pick(this.ids.filter((x) => !down.includes(x)));
        this.crash(victim);
      }
    } else if (down.length > 0) {
      const id = p.pick(down);
      this.trace(`restart ${id}`);
      return this.startNode(id);
    }
    return undefined;
  }

  private client(clientId: number): void {
    const p = this.prng.fork();
    let seq = 0;
    let target = p.pick(this.ids);
    const lastSeen = new Map<string, string | null>();
    const next = (): void => {
      if (!this.running) return;
      const key = p.pick(this.config.keys);
      const value = `${clientId}.${seq++}`;
      const r = p.next();
      const input: KvModelInput =
        r < 0.4 ? { op: 'get', key } : r < 0.7 ? { op: 'put', key, value } : { op: 'cas', key, expected: lastSeen.get(key) ?? null, value };
      const call = ++this.stamps;
      let done = false;
      const settle = (outcome: { output: KvModelOutput } | 'unknown' | 'not-applied'): void => {
        if (done) return;
        done = true;
        if (outcome === 'unknown') {
          if (input.op !== 'get') this.history.push({ clientId, input, call, unknown: true });
        } else if (outcome !== 'not-applied') {
          this.history.push({ clientId, input, call, return: ++this.stamps, output: outcome.output });
          if (input.op === 'get') lastSeen.set(key, outcome.output as string | null);
          else if (input.op === 'put' || outcome.output === true) lastSeen.set(key, value);
        }
        this.schedule(p.next() * 5, next);
      };
      this.schedule(this.config.clientTimeoutMs, () => {
        if (!done) target = p.pick(this.ids);
        settle('unknown');
      });
      const attempt = (): void => {
        if (done) return;
        const inst = this.live.get(target);
        if (!inst) {
          target = p.pick(this.ids);
          this.schedule(5 + p.next() * 10, attempt);
          return;
        }
        const op =
          input.op === 'get'
            ? inst.kv.get(key).then((kvv) => ({ output: kvv ? text.decode(kvv.value) : null }))
            : input.op === 'put'
              ? inst.kv.put(key, value).then(() => ({ output: undefined }))
              : inst.kv
                  .txn({
                    compare: [input.expected === null ? cmp.version(key, 'equal', 0) : cmp.value(key, 'equal', input.expected)],
                    success: [kv.put(key, value)],
                  })
                  .then((t) => ({ output: t.succeeded }));
        op.then(
          (out) => settle(out),
          (err: Error) => {
            if (done) return;
            if (err.name === 'NotLeaderError') {
              // not appended: safe to retry elsewhere
              const hint = (err as Error & { leaderId?: string | null }).leaderId;
              target = hint && hint !== target ? hint : p.pick(this.ids);
              this.schedule(5 + p.next() * 10, attempt);
            } else if (err.name === 'ProposalLostError') {
              // the driver promises the entry was overwritten: it never takes effect
              settle('not-applied');
            } else settle('unknown');
          },
        );
      };
      attempt();
    };
    this.schedule(p.next() * 10, next);
  }

  async run(): Promise<DriverSimResult> {
    const cfg = this.config;
    let failure: string | null = null;
    try {
      for (const id of this.ids) await this.startNode(id);
      for (let c = 0; c < cfg.clients; c++) this.client(c);
      let pendingStart: Promise<void> | undefined;
      const scheduleNemesis = (): void => {
        this.schedule(cfg.nemesisMs * (0.5 + this.prng.next()), () => {
          if (this.time >= cfg.chaosMs) return;
          pendingStart = this.nemesis() ?? undefined;
          scheduleNemesis();
        });
      };
      scheduleNemesis();
      this.schedule(cfg.chaosMs, () => {
        this.network.heal();
        this.trace('end of faults');
        pendingStart = (async () => {
          for (const id of this.ids) if (!this.live.has(id)) await this.startNode(id);
        })();
      });
      this.schedule(cfg.chaosMs + cfg.quietMs - cfg.clientTimeoutMs, () => (this.running = false));
      const end = cfg.chaosMs + cfg.quietMs;
      for (;;) {
        const ev = this.queue.pop();
        if (!ev || ev.at > end) break;
        this.time = ev.at;
        this.events++;
        ev.run();
        if (pendingStart) {
          await pendingStart;
          pendingStart = undefined;
        }
        await drain();
        for (const [id, disk] of this.disks) if (disk.lateFailure) this.fail(`${id}: a write the disk had acknowledged failed: ${disk.lateFailure.message}`);
        if (this.violation) throw new SafetyViolation(this.violation);
      }
      const verdict = checkLinearizability(kvModel, this.history, { budget: 2_000_000 });
      if (verdict.result === 'illegal') failure = `Linearizability: ${verdict.explanation.message}`;
      else if (verdict.result === 'unknown') failure = `linearizability check ran out of budget on ${verdict.exhausted.join(', ')}`;
    } catch (e) {
      failure = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    } finally {
      // Stop everything without awaiting close(): a node closing with a write in
      // flight would wait for a virtual fsync that no longer runs.
      for (const inst of this.live.values()) {
        inst.timers.cancelAll();
        inst.transport.alive = false;
      }
      for (const disk of this.disks.values()) disk.crash();
      await drain();
    }
    let writes = 0;
    for (const d of this.disks.values()) writes += d.writes;
    return {
      seed: cfg.seed,
      failure,
      stats: {
        events: this.events,
        operations: this.history.length,
        unknown: this.history.filter((o) => o.unknown).length,
        crashes: this.crashes,
        leaders: this.leaders.size,
        writes,
      },
      trace: this.traceLines.slice(-40),
    };
  }
}

export function driverReproLine(seed: number): string {
  return `WEFT_SIM_SEED=${seed} npx jest packages/raft/test/sim/driver`;
}
