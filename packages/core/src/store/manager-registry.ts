import { cmp, kv as ops, type KeyValue, type SocketAddress, type StoreWatch, type TxnInput, type TxnResult } from '@weft/interface';
import { TcpTransport, type KvStore, type RaftNode, type Transport } from '@weft/raft';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { encodeRecord, parseRecord } from '../records/codec';
import type { ManagerAddress } from './raft-store';

/** A manager as `RaftStore.managerList()` reports it: its registry record and what this replica sees of it. */
export interface ManagerInfo extends ManagerAddress {
  /** A voter in the Raft configuration this replica has applied (false while it is still being added, or a learner catching up). */
  readonly voter: boolean;
  /** The Raft leader as this replica knows it. */
  readonly leader: boolean;
  /**
   * Heard from within the quorum window (two election timeouts and three
   * heartbeats) as the leader judges it; this replica itself always is. On a
   * follower: itself, the leader if heard from, and the view the current
   * leader last published (at bootstrap, and whenever a follower's
   * `removeManager` asked for a fresh one), so it can be stale there.
   */
  readonly reachable: boolean;
}

/** Options of `RaftStore.addManager`. */
export interface AddManagerOptions {
  /** Give up waiting for the new manager to become a voter after this long, ms (default: the store's `requestTimeoutMs`). The record stays: the leader keeps adding it once it is reachable. */
  readonly timeoutMs?: number;
}

/** Options of `RaftStore.removeManager`. */
export interface RemoveManagerOptions {
  /** Skip the quorum guard (for a manager that is dead for good). The last manager is refused anyway. */
  readonly force?: boolean;
  /** Give up waiting for the voter to be removed after this long, ms (default: the store's `requestTimeoutMs`). */
  readonly timeoutMs?: number;
}

const address = z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) });
/** `<registryPrefix><id>`: one manager of the desired Raft membership. */
export const managerRecordSchema = z.object({ id: z.string().min(1).regex(/^[^/]+$/, 'must not contain "/"'), raft: address, store: address });
/**
 * `<registryPrefix>` itself: the managers the leader hears from, written when
 * the registry is seeded and then only when a follower asks (`nonce` echoes
 * its request): no write in the background.
 */
const healthSchema = z.object({ leader: z.string(), term: z.number().int().min(0), reachable: z.array(z.string()), nonce: z.string().optional() });
/** `<registryPrefix>/health-request` (no manager id contains "/"): a follower's request for a fresh {@link healthSchema} record. */
const healthRequestSchema = z.object({ nonce: z.string().min(1) });
type Health = z.infer<typeof healthSchema>;

/** A learner within this many entries of the leader's commit index is promoted to voter. */
const CATCH_UP_LAG = 32;

/** What the registry needs from its replica (injected by `RaftStore`). */
export interface RegistryDeps {
  readonly id: string;
  readonly prefix: string;
  readonly node: RaftNode;
  /** The local replica's state machine: synchronous, non-linearizable reads and watches. */
  readonly local: KvStore;
  /** The Raft transport (peers' addresses are kept when it is a `TcpTransport`). */
  readonly transport: Transport;
  /** When each peer was last heard from (performance.now() ms). */
  readonly heard: ReadonlyMap<string, number>;
  readonly windowMs: number;
  readonly tickMs: number;
  /** The managers of the static `managers` option (the view until the registry is seeded). */
  readonly initial: readonly ManagerAddress[];
  /** Writes through the store (proposed here when leading, else forwarded). */
  readonly write: (request: TxnInput) => Promise<TxnResult>;
  /** Called once when this replica, a member before, sees itself out of the configuration. */
  readonly onRemoved: () => void;
}

/** Counters of the membership reconciler. */
export interface RegistryStats {
  /** Passes run (every replica). */
  passes: number;
  /** Conf changes proposed by this replica as leader: learners added, learners promoted, members removed. */
  learnersAdded: number;
  votersAdded: number;
  removed: number;
  /** Leadership transfers started because this leader's own record was deleted. */
  transfers: number;
  /** Conf changes or registry writes that failed (retried on the next pass). */
  failures: number;
}

const sameAddress = (a: SocketAddress | undefined, b: SocketAddress | undefined): boolean => a !== undefined && b !== undefined && a.host === b.host && a.port === b.port;

/**
 * The managers registry of one replica and, on the leader, the membership
 * reconciler (desired state + reconcile loop). The desired membership is the
 * registry in the replicated store; every pass (on each registry change and
 * every tick) reads it from the local replica and (1) keeps this replica's
 * view of the managers and its transport's peer addresses equal to it, and
 * (2) on the leader, applies at most one difference to the Raft
 * configuration: seed the registry from the static managers (once), hand
 * leadership off when its own record is gone, remove a member without a
 * record, add a record's manager as learner, promote a caught-up learner.
 * One conf change at a time: the next pass waits until it is applied.
 */
export class ManagerRegistry {
  readonly stats: RegistryStats = { passes: 0, learnersAdded: 0, votersAdded: 0, removed: 0, transfers: 0, failures: 0 };
  private records = new Map<string, ManagerAddress>();
  /** Addresses of the managers this replica talks to: the records, plus members whose removal is still pending. */
  private addresses = new Map<string, ManagerAddress>();
  private health: Health | undefined;
  /** The newest health request seen in the registry (the leader answers it once). */
  private request: string | undefined;
  private seeded = false;
  private readonly peered = new Set<string>();
  private watch: StoreWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  /** The last error of a membership step (for diagnostics; steps are retried every tick). */
  lastFailure: unknown;
  private stopped = false;
  private wasMember = false;
  private removedSeen = false;

  constructor(private readonly d: RegistryDeps) {
    for (const m of d.initial) this.addresses.set(m.id, m);
    for (const m of d.initial) if (m.id !== d.id) this.peered.add(m.id);
  }

  /** Starts watching the registry and ticking. */
  start(): void {
    // Watch listeners run inside the replica's apply: the pass runs just after it.
    this.watch = this.d.local.watch({ prefix: this.d.prefix }, () => queueMicrotask(() => this.pass()), { onError: () => undefined });
    this.timer = setInterval(() => this.pass(), this.d.tickMs);
    this.timer.unref?.();
    this.pass();
  }

  /** Stops the watch and the timer (a conf change in flight settles on its own). */
  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True once the registry holds the cluster's managers (before, the static `managers` option is the view). */
  get isSeeded(): boolean {
    return this.seeded;
  }

  /** The registry records (the desired managers), as this replica has applied them. */
  desired(): ManagerAddress[] {
    return [...this.records.values()];
  }

  /** The address of a manager this replica knows (registry, static option, or a member being removed). */
  addressOf(id: string): ManagerAddress | undefined {
    return this.addresses.get(id);
  }

  /** Voters and learners of the Raft configuration applied here. */
  members(): { voters: readonly string[]; learners: readonly string[] } {
    const c = this.d.node.status().confState;
    return { voters: c.voters, learners: [...c.learners, ...c.learnersNext] };
  }

  /** Whether `id` was heard from within the window (this replica itself: always). */
  heardRecently(id: string, now = performance.now()): boolean {
    if (id === this.d.id) return true;
    const t = this.d.heard.get(id);
    return t !== undefined && now - t <= this.d.windowMs;
  }

  /**
   * The managers reachable as the leader judges them: on the leader, those
   * heard from within the window; on a follower, the view the current leader
   * last published (plus itself and the leader); undefined when no leader is known.
   */
  reachable(): Set<string> | undefined {
    const node = this.d.node;
    const { voters, learners } = this.members();
    if (node.isLeader) return new Set([...voters, ...learners].filter((id) => this.heardRecently(id)));
    const leader = node.leader;
    if (leader === null) return undefined;
    const out = new Set<string>([this.d.id]);
    if (this.heardRecently(leader)) out.add(leader);
    if (this.health !== undefined && this.health.leader === leader) for (const id of this.health.reachable) out.add(id);
    return out;
  }

  /**
   * Why removing `id` must be refused (undefined: allowed): it is the last
   * manager; or (unless `force`) the voters left would not have a reachable
   * majority, or no leader is known to judge it.
   */
  refusal(id: string, force: boolean): string | undefined {
    const { voters } = this.members();
    const remaining = voters.filter((v) => v !== id);
    const otherRecords = [...this.records.keys()].filter((r) => r !== id);
    if (remaining.length === 0 || (this.seeded && otherRecords.length === 0)) return 'it is the last manager';
    // A learner (still catching up, or never started) does not count towards the quorum.
    if (force || !voters.includes(id)) return undefined;
    const reachable = this.reachable();
    if (reachable === undefined) return 'no leader is known, so nobody can tell which managers are reachable';
    const up = remaining.filter((v) => reachable.has(v)).length;
    const need = Math.floor(remaining.length / 2) + 1;
    if (up < need) return `only ${up} of the ${remaining.length} remaining managers are reachable (a majority needs ${need}); pass force for a manager that is gone for good`;
    return undefined;
  }

  /** One pass: sync the view and the transport from the registry; on the leader, start the next membership step. */
  pass(): void {
    if (this.stopped) return;
    this.stats.passes++;
    this.readRegistry();
    this.syncPeers();
    const { voters, learners } = this.members();
    const inConf = voters.includes(this.d.id) || learners.includes(this.d.id);
    // A removed member may never apply its own removal (the leader stops replicating to it): its record
    // gone from the registry and no word from a leader within the window mean the same.
    const leader = this.d.node.leader;
    const cutOff = this.seeded && !this.records.has(this.d.id) && !this.d.node.isLeader && (leader === null || !this.heardRecently(leader));
    if (inConf && !cutOff) this.wasMember = true;
    else if (this.wasMember && !this.removedSeen) {
      this.removedSeen = true;
      this.d.onRemoved();
    }
    if (this.d.node.isLeader && this.busy === undefined && !this.removedSeen) {
      const step = this.leaderStep();
      if (step !== undefined) {
        this.busy = step.then(
          () => {
            this.busy = undefined;
            // The next step at once (a macrotask: a step that settles at once cannot starve the event loop).
            if (!this.stopped) setImmediate(() => this.pass());
          },
          (err: unknown) => {
            // Retried on the next tick.
            this.busy = undefined;
            this.stats.failures++;
            this.lastFailure = err;
          },
        );
      }
    }
  }

  private readRegistry(): void {
    const prefix = this.d.prefix;
    const records = new Map<string, ManagerAddress>();
    let seeded = false;
    let health: Health | undefined;
    let request: string | undefined;
    for (const kv of this.d.local.range({ prefix }).kvs) {
      if (kv.key === prefix) {
        seeded = true;
        health = parseRecord(healthSchema, kv);
        continue;
      }
      if (kv.key === this.requestKey) {
        request = parseRecord(healthRequestSchema, kv)?.nonce;
        continue;
      }
      const rec = parseRecord(managerRecordSchema, kv as KeyValue);
      if (rec !== undefined && rec.id === kv.key.slice(prefix.length)) records.set(rec.id, rec);
    }
    this.seeded = seeded;
    this.health = health;
    this.request = request;
    if (!seeded) return;
    this.records = records;
    const { voters, learners } = this.members();
    const next = new Map(records);
    for (const id of [...voters, ...learners]) {
      const known = this.addresses.get(id);
      if (!next.has(id) && known !== undefined) next.set(id, known);
    }
    // This replica keeps its own address (it serves, and may still be a member).
    const self = this.addresses.get(this.d.id);
    if (!next.has(this.d.id) && self !== undefined) next.set(this.d.id, self);
    this.addresses = next;
  }

  private syncPeers(): void {
    const t = this.d.transport;
    if (!(t instanceof TcpTransport)) return;
    for (const m of this.addresses.values()) {
      if (m.id === this.d.id) continue;
      if (!sameAddress(t.addressOf(m.id), m.raft)) t.setPeer(m.id, m.raft);
      this.peered.add(m.id);
    }
    for (const id of [...this.peered]) {
      if (this.addresses.has(id)) continue;
      t.removePeer(id);
      this.peered.delete(id);
    }
  }

  /** The next step of the leader's reconciler, or undefined when the configuration already matches the registry. */
  private leaderStep(): Promise<unknown> | undefined {
    const node = this.d.node;
    const self = this.d.id;
    const st = node.status();
    const conf = st.confState;
    if (!this.seeded) return this.seed(conf.voters, conf.learners);
    if (this.request !== undefined && this.health?.nonce !== this.request) return this.publishHealth(st.term, this.request);
    if (conf.votersOutgoing.length > 0) return undefined; // joint configuration: it leaves on its own
    const members = [...conf.voters, ...conf.learners, ...conf.learnersNext];
    if (!this.records.has(self)) {
      const progress = node.progress() ?? {};
      const target = conf.voters
        .filter((v) => v !== self && this.records.has(v) && this.heardRecently(v))
        .sort((a, b) => (progress[b]?.match ?? 0) - (progress[a]?.match ?? 0))[0];
      if (target === undefined) return undefined;
      this.stats.transfers++;
      return node.transferLeadership(target);
    }
    const stale = members.find((id) => id !== self && !this.records.has(id));
    if (stale !== undefined) {
      this.stats.removed++;
      return node.removeNode(stale);
    }
    const missing = [...this.records.keys()].find((id) => !members.includes(id));
    if (missing !== undefined) {
      this.stats.learnersAdded++;
      return node.addLearner(missing);
    }
    const progress = node.progress() ?? {};
    const ready = conf.learners.find((id) => {
      const p = progress[id];
      return p !== undefined && p.match > 0 && st.commitIndex - p.match <= CATCH_UP_LAG;
    });
    if (ready !== undefined) {
      this.stats.votersAdded++;
      return node.addVoter(ready);
    }
    return undefined;
  }

  /**
   * Writes the registry of a cluster that has none: a record for each static
   * manager that is a member and has none yet (never overwriting one an
   * `addManager` wrote meanwhile), then the seeded marker. Idempotent.
   */
  private async seed(voters: readonly string[], learners: readonly string[]): Promise<void> {
    const members = new Set([...voters, ...learners]);
    for (const m of this.d.initial) {
      if (!members.has(m.id)) continue;
      const key = `${this.d.prefix}${m.id}`;
      await this.d.write({ compare: [cmp.missing(key)], success: [ops.put(key, encodeRecord({ id: m.id, raft: m.raft, store: m.store }))] });
    }
    const health: Health = { leader: this.d.id, term: this.d.node.status().term, reachable: [...members].filter((id) => this.heardRecently(id)).sort() };
    await this.d.write({ compare: [cmp.missing(this.d.prefix)], success: [ops.put(this.d.prefix, encodeRecord(health))] });
  }

  /** Answers a follower's health request: the managers this leader heard from within the window. */
  private publishHealth(term: number, nonce: string): Promise<unknown> | undefined {
    const r = this.reachable();
    if (r === undefined) return undefined;
    return this.d.write({ success: [ops.put(this.d.prefix, encodeRecord({ leader: this.d.id, term, reachable: [...r].sort(), nonce } satisfies Health))] });
  }

  private get requestKey(): string {
    return `${this.d.prefix}/health-request`;
  }

  /**
   * On a follower: asks the leader to publish which managers it hears from
   * (two writes) and waits until this replica has applied the answer, at most
   * `timeoutMs`; on timeout the last published view stays (the quorum guard
   * then counts only what it knows, so it errs towards refusing). No-op on
   * the leader, or when no leader is known.
   */
  async refreshReachability(timeoutMs: number): Promise<void> {
    const node = this.d.node;
    if (node.isLeader || node.leader === null || this.stopped) return;
    const nonce = randomUUID();
    await this.d.write({ success: [ops.put(this.requestKey, encodeRecord({ nonce }))] });
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && !this.stopped) {
      this.readRegistry();
      if (this.health?.nonce === nonce) return;
      await new Promise((r) => setTimeout(r, this.d.tickMs));
    }
  }
}
