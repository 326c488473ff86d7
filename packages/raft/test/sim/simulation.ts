import type { ConfChange, Message, NodeId } from '../../src/core/types';
import { checkLinearizability, kvModel, Prng, type KvModelInput, type KvModelOutput, type Operation } from '../../src/testing';
import { EventQueue } from './event-queue';
import { SafetyMonitor } from './safety-monitor';
import { SimClient, type ClientWorld } from './sim-client';
import { SimNetwork, type NetworkFaults } from './sim-network';
import { SimNode, type CrashStage, type NodeReply } from './sim-node';

/** Everything one simulated run depends on; {@link configForSeed} derives it from a seed. */
export interface SimConfig {
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  readonly keys: readonly string[];
  /** Virtual time with faults, ms. */
  readonly chaosMs: number;
  /** Virtual time after healing everything and restarting every node, ms (pending operations settle). */
  readonly quietMs: number;
  readonly tickMs: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** Core options (both on by default; turning them off must not break safety). */
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly opTimeoutMs: number;
  /** Mean virtual time between two fault actions, ms. */
  readonly nemesisMs: number;
  /** Snapshot + compact every this many applied entries (0: never). */
  readonly snapshotEvery: number;
  readonly keepEntries: number;
  readonly network: NetworkFaults;
  /** Client ↔ node one-way delay bounds, ms. */
  readonly clientDelayMs: readonly [number, number];
  /** Virtual time between two Log Matching scans, ms. */
  readonly logCheckMs: number;
  /** Whether the fault schedule also changes membership (learners, promotions, removals, joint replacements). */
  readonly membership: boolean;
  /** Probability that a crash happens inside the next Ready's handling rather than between events. */
  readonly midReadyCrash: number;
  /** The Ready stages a mid-Ready crash picks from. */
  readonly crashStages: readonly CrashStage[];
  /** Deliberately broken modes, to show the checks catch real bugs. */
  readonly unsafeLocalReads?: boolean;
  readonly unsafeSendBeforePersist?: boolean;
}

/** Default parameters for `seed`: fault rates and snapshot frequency vary per seed. */
export function configForSeed(seed: number, overrides: Partial<SimConfig> = {}): SimConfig {
  const p = new Prng(seed ^ 0x51ed);
  const base: SimConfig = {
    seed,
    nodes: 5,
    clients: 4,
    keys: ['x', 'y', 'z'],
    chaosMs: 1_500,
    quietMs: 600,
    tickMs: 10,
    electionTick: 10,
    heartbeatTick: 1,
    preVote: true,
    checkQuorum: true,
    opTimeoutMs: 500,
    nemesisMs: 80 + p.int(0, 170),
    snapshotEvery: p.chance(0.5) ? p.int(8, 40) : 0,
    membership: p.chance(0.35),
    midReadyCrash: 0.5,
    crashStages: ['before-persist', 'after-persist', 'after-send'],
    keepEntries: p.int(0, 5),
    network: {
      drop: p.chance(0.3) ? 0 : p.next() * 0.08,
      duplicate: p.next() * 0.04,
      minDelayMs: 1,
      maxDelayMs: 2 + p.int(0, 12),
      longDelay: p.next() * 0.03,
      longDelayMaxMs: 50 + p.int(0, 200),
    },
    clientDelayMs: [1, 3],
    logCheckMs: 200,
  };
  return { ...base, ...overrides };
}

/** What a run found. */
export interface SimResult {
  readonly seed: number;
  /** Empty when every check passed. */
  readonly failure: string | null;
  readonly stats: {
    readonly events: number;
    readonly operations: number;
    readonly unknown: number;
    readonly leaderElections: number;
    readonly applied: number;
    readonly crashes: number;
    readonly reconfigurations: number;
    /** Membership changes applied (the most any one node applied). */
    readonly confChangesApplied: number;
    readonly snapshotsTaken: number;
    readonly snapshotsInstalled: number;
    /** Snapshots a new member installed that were taken before it was added. */
    readonly snapshotsPredatingMembership: number;
    readonly messages: number;
    /** Fault actions by kind (heal, partition, isolate-leader, one-way-cut, crash, crash-<stage>, restart, transfer-leader, reconfigure, reconfigure-refused). */
    readonly faults: Readonly<Record<string, number>>;
  };
  /** The last trace lines (fault actions, leader changes, crashes). */
  readonly trace: readonly string[];
}

const TRACE_LINES = 40;

/** One deterministic run: same config, same events, same result. */
export class Simulation implements ClientWorld {
  private readonly queue = new EventQueue();
  private time = 0;
  private stamps = 0;
  private reqIds = 0;
  private events = 0;
  private crashes = 0;
  private reconfigurations = 0;
  /** Fault actions taken, by kind. */
  private readonly faults: Record<string, number> = {};
  private readonly prng: Prng;
  private readonly monitor = new SafetyMonitor();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly nodeIds: NodeId[];
  private readonly network: SimNetwork;
  private readonly clients: SimClient[] = [];
  private readonly traceLines: string[] = [];
  running = true;

  constructor(readonly config: SimConfig) {
    this.prng = new Prng(config.seed);
    this.nodeIds = Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
    this.network = new SimNetwork(this.prng.fork(), config.network, (d, run) => this.schedule(d, run), (m) => this.deliver(m));
    const founders = [...this.nodeIds];
    for (const id of founders) this.addNode(id, founders);
    for (let c = 0; c < config.clients; c++) {
      this.clients.push(
        new SimClient(c, this, this.prng.fork(), { keys: config.keys, opTimeoutMs: config.opTimeoutMs, thinkMs: 10, retryMs: 15 }),
      );
    }
  }

  /** Creates a node; `peers` bootstraps it (original members), `[]` makes it wait for the leader (a joining node). */
  private addNode(id: NodeId, peers: readonly NodeId[]): SimNode {
    const cfg = this.config;
    const node = new SimNode(
      {
        id,
        peers,
        electionTick: cfg.electionTick,
        heartbeatTick: cfg.heartbeatTick,
        preVote: cfg.preVote,
        checkQuorum: cfg.checkQuorum,
        snapshotEvery: cfg.snapshotEvery,
        keepEntries: cfg.keepEntries,
        unsafeLocalReads: cfg.unsafeLocalReads,
        unsafeSendBeforePersist: cfg.unsafeSendBeforePersist,
      },
      this.prng.fork(),
      this.monitor,
      (m) => this.network.send(m),
      (line) => this.trace(line),
    );
    this.nodes.set(id, node);
    if (!this.nodeIds.includes(id)) this.nodeIds.push(id);
    this.startTicking(node);
    return node;
  }

  stamp(): number {
    return ++this.stamps;
  }

  nextRequestId(): number {
    return ++this.reqIds;
  }

  schedule(delayMs: number, run: () => void): void {
    this.queue.push(this.time + delayMs, run);
  }

  private count(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  private trace(line: string): void {
    this.traceLines.push(`t=${this.time.toFixed(1)} ${line}`);
    if (this.traceLines.length > TRACE_LINES * 4) this.traceLines.splice(0, this.traceLines.length - TRACE_LINES);
  }

  private startTicking(node: SimNode): void {
    const loop = (): void => {
      node.tick();
      this.schedule(this.config.tickMs, loop);
    };
    this.schedule(this.prng.next() * this.config.tickMs, loop);
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (!to) return;
    const arrived = to.up;
    to.receive(m);
    if (m.type === 'MsgSnap') this.nodes.get(m.from)?.reportSnapshot(m.to, arrived);
  }

  private clientDelay(): number {
    const [lo, hi] = this.config.clientDelayMs;
    return lo + this.prng.next() * (hi - lo);
  }

  request(node: NodeId, kind: 'write' | 'read', reqId: number, payload: unknown, reply: (r: NodeReply) => void): void {
    const back = (r: NodeReply): void => this.schedule(this.clientDelay(), () => reply(r));
    this.schedule(this.clientDelay(), () => {
      const n = this.nodes.get(node);
      if (!n) return back({ kind: 'unavailable' });
      if (kind === 'write') n.write(reqId, payload as Uint8Array, back);
      else n.read(reqId, payload as Parameters<SimNode['read']>[1], back);
    });
  }

  // ------------------------------------------------------------------ faults

  private leaderId(): NodeId | undefined {
    for (const n of this.nodes.values()) if (n.up && n.role === 'leader') return n.id;
    return undefined;
  }

  private nemesis(): void {
    const p = this.prng;
    const ids = this.nodeIds;
    const down = ids.filter((id) => !(this.nodes.get(id) as SimNode).up);
    const r = p.next();
    if (r < 0.2) {
      this.network.heal();
      this.count('heal');
      this.trace('heal');
    } else if (r < 0.32) {
      const shuffled = p.shuffle([...ids]);
      const k = p.int(1, Math.floor(ids.length / 2));
      this.network.heal();
      this.network.partition(shuffled.slice(0, k), shuffled.slice(k));
      this.count('partition');
      this.trace(`partition ${shuffled.slice(0, k).join(',')} | ${shuffled.slice(k).join(',')}`);
    } else if (r < 0.42) {
      const leader = this.leaderId();
      if (leader) {
        this.network.heal();
        this.network.partition([leader], ids.filter((x) => x !== leader));
        this.count('isolate-leader');
        this.trace(`isolate leader ${leader}`);
      }
    } else if (r < 0.54) {
      const n = p.int(1, 4);
      const cuts: string[] = [];
      for (let i = 0; i < n; i++) {
        const from = p.pick(ids);
        const to = p.pick(ids.filter((x) => x !== from));
        this.network.cutOneWay(from, to);
        cuts.push(`${from}>${to}`);
      }
      this.count('one-way-cut');
      this.trace(`one-way cut ${cuts.join(' ')}`);
    } else if (r < 0.68) {
      if (down.length < 2) this.crash(p.pick(ids.filter((x) => !down.includes(x))), p);
    } else if (r < 0.78) {
      const leader = this.leaderId();
      if (leader && down.length < 2) this.crash(leader, p);
    } else if (r < 0.84) {
      const leader = this.leaderId();
      const conf = leader ? (this.nodes.get(leader) as SimNode).membership() : null;
      const targets = conf ? conf.voters.filter((v) => v !== leader) : [];
      if (leader && targets.length > 0) {
        const to = p.pick(targets);
        this.count('transfer-leader');
        this.trace(`transfer leadership ${leader} -> ${to}`);
        (this.nodes.get(leader) as SimNode).transferLeader(to);
      }
    } else if (down.length > 0) {
      const id = p.pick(down);
      (this.nodes.get(id) as SimNode).restart();
      this.count('restart');
      this.trace(`restart ${id}`);
    }
  }

  /** Asks the leader for a membership change: promote a learner, remove a voter, add a learner, or a joint replacement. */
  private reconfigure(p: Prng): void {
    const leaderId = this.leaderId();
    if (!leaderId) return;
    const leader = this.nodes.get(leaderId) as SimNode;
    const conf = leader.membership();
    if (!conf || conf.votersOutgoing.length > 0) return;
    const fresh = `n${this.nodeIds.length + 1}`;
    const canGrow = this.nodeIds.length < 8;
    const r = p.next();
    let cc: ConfChange;
    if (conf.learners.length > 0 && r < 0.4) {
      cc = { changes: [{ type: 'add-voter', nodeId: p.pick(conf.learners) }] };
    } else if (conf.voters.length > 3 && r < 0.6) {
      cc = { changes: [{ type: 'remove-node', nodeId: p.pick(conf.voters) }] };
    } else if (canGrow && r < 0.8) {
      cc = { changes: [{ type: 'add-learner', nodeId: fresh }] };
    } else if (canGrow) {
      cc = { changes: [{ type: 'add-voter', nodeId: fresh }, { type: 'remove-node', nodeId: p.pick(conf.voters) }], transition: 'joint' };
    } else return;
    const joining = cc.changes.find((c) => c.nodeId === fresh);
    if (joining && !this.nodes.has(fresh)) this.addNode(fresh, []);
    const refused = leader.proposeConfChange(cc);
    const what = cc.changes.map((c) => `${c.type} ${c.nodeId}`).join(' + ') + (cc.transition ? ` (${cc.transition})` : '');
    this.reconfigurations++;
    this.count(refused ? 'reconfigure-refused' : 'reconfigure');
    this.trace(`${leaderId} proposes ${what}${refused ? `: refused (${refused})` : ''}`);
  }

  private crash(id: NodeId, p: Prng): void {
    const node = this.nodes.get(id) as SimNode;
    this.crashes++;
    if (!p.chance(this.config.midReadyCrash)) {
      node.crash();
      this.count('crash');
      this.trace(`crash ${id}`);
    } else {
      const stage = p.pick(this.config.crashStages);
      node.crashDuringNextReady(stage);
      this.trace(`crash ${id} at its next Ready (${stage})`);
    }
  }

  // ------------------------------------------------------------------ run

  /** Runs to the end and checks everything; never throws for a found bug (it is in `failure`). */
  run(): SimResult {
    const cfg = this.config;
    let failure: string | null = null;
    try {
      const scheduleNemesis = (): void => {
        this.schedule(cfg.nemesisMs * (0.5 + this.prng.next()), () => {
          if (this.time >= cfg.chaosMs) return;
          this.nemesis();
          scheduleNemesis();
      const scheduleReconfigure = (): void => {
        this.schedule(100 + this.prng.next() * 200, () => {
          if (this.time >= cfg.chaosMs) return;
          this.reconfigure(this.prng);
          scheduleReconfigure();
        });
      };
      if (cfg.membership) scheduleReconfigure();
        });
      };
      scheduleNemesis();
      const logCheck = (): void => {
        this.monitor.checkLogMatching(this.storages());
        if (this.time < cfg.chaosMs + cfg.quietMs) this.schedule(cfg.logCheckMs, logCheck);
      };
      this.schedule(cfg.logCheckMs, logCheck);
      this.schedule(cfg.chaosMs, () => {
        this.network.heal();
        for (const n of this.nodes.values()) if (!n.up) n.restart();
        this.trace('end of faults: heal, restart all');
      });
      this.schedule(cfg.chaosMs + cfg.quietMs - cfg.opTimeoutMs, () => (this.running = false));
      const end = cfg.chaosMs + cfg.quietMs;
      for (;;) {
        const ev = this.queue.pop();
        if (!ev || ev.at > end) break;
        this.time = ev.at;
        this.events++;
        ev.run();
      }
      this.monitor.checkLogMatching(this.storages());
      this.checkReplicasAgree();
      failure = this.checkHistory();
    } catch (e) {
      failure = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    let snapshotsTaken = 0;
    let snapshotsInstalled = 0;
    let confChangesApplied = 0;
    let snapshotsPredatingMembership = 0;
    const faults = { ...this.faults };
    for (const n of this.nodes.values()) {
      snapshotsTaken += n.snapshotsTaken;
      snapshotsInstalled += n.snapshotsInstalled;
      confChangesApplied = Math.max(confChangesApplied, n.confChangesApplied);
      snapshotsPredatingMembership += n.snapshotsPredatingMembership;
      for (const [stage, k] of Object.entries(n.midReadyCrashes)) if (k > 0) faults[`crash-${stage}`] = (faults[`crash-${stage}`] ?? 0) + k;
    }
    const history = this.history();
    return {
      seed: cfg.seed,
      failure,
      stats: {
        events: this.events,
        operations: history.length,
        unknown: history.filter((o) => o.unknown).length,
        leaderElections: this.monitor.leaderElections,
        applied: this.monitor.appliedEntries,
        crashes: this.crashes,
        reconfigurations: this.reconfigurations,
        confChangesApplied,
        snapshotsTaken,
        snapshotsInstalled,
        snapshotsPredatingMembership,
        messages: this.network.stats.sent,
        faults,
      },
      trace: this.traceLines.slice(-TRACE_LINES),
    };
  }

  private storages(): Map<NodeId, SimNode['storage']> {
    return new Map([...this.nodes].map(([id, n]) => [id, n.storage]));
  }

  /** Replicas that applied the same index hold byte-identical KV snapshots. */
  private checkReplicasAgree(): void {
    const byIndex = new Map<number, { id: NodeId; snap: Buffer }>();
    for (const n of this.nodes.values()) {
      if (!n.up) continue;
      const snap = Buffer.from(n.kv.snapshot());
      const other = byIndex.get(n.appliedIndex);
      if (other && !other.snap.equals(snap)) {
        throw new Error(`State Machine Safety: ${other.id} and ${n.id} both applied index ${n.appliedIndex} but their KV states differ`);
      }
      byIndex.set(n.appliedIndex, { id: n.id, snap });
    }
  }

  history(): Operation<KvModelInput, KvModelOutput>[] {
    return this.clients.flatMap((c) => c.history);
  }

  private checkHistory(): string | null {
    const verdict = checkLinearizability(kvModel, this.history(), { budget: 2_000_000 });
    if (verdict.result === 'ok') return null;
    if (verdict.result === 'unknown') return `linearizability check ran out of budget on keys ${verdict.exhausted.join(', ')}`;
    return `Linearizability: ${verdict.explanation.message}`;
  }
}

/** Runs one seed with its default config (plus overrides). */
export function runSeed(seed: number, overrides: Partial<SimConfig> = {}): SimResult {
  return new Simulation(configForSeed(seed, overrides)).run();
}

/** The one-line reproduction printed for a failing seed. */
export function reproLine(seed: number): string {
  return `WEFT_SIM_SEED=${seed} npx jest packages/raft/test/sim`;
}
