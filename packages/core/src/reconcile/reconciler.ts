import type { DataPlane, NetworkSpec, ProgrammedState, RemoteEndpointSpec } from '@weft/interface';
import { ProgrammedMirror } from './mirror';
import { planEndpoints, planReconcile, type DataPlaneOp, type EndpointWant } from './plan';

/** Counters of a {@link Reconciler}. */
export interface ReconcileStats {
  /** Passes run (each computes desired state once and applies the difference). */
  passes: number;
  /** Passes that read the data plane back first (start, after a watch resync, after a failed call). */
  fullResyncs: number;
  /** Data-plane calls made, every kind together. */
  calls: number;
  /** Data-plane calls by kind (`addRemoteEndpoint`, ...). */
  callsByKind: Record<string, number>;
  /** Calls that failed (the pass stops; a full resync is retried after a back-off). */
  failures: number;
}

/** Collaborators of a {@link Reconciler}. */
export interface ReconcilerDeps {
  readonly dataPlane: DataPlane;
  /** Computes the desired state from the current view of the records (pure, cheap); only the networks in `only` when given. */
  readonly desired: (only?: ReadonlySet<string>) => ProgrammedState;
  /** Called after a data-plane call failed (for logs and events). */
  readonly onError?: (error: unknown, op: DataPlaneOp) => void;
  /** Retry delay after a failure, ms (default 200, doubled per consecutive failure up to 5 s). */
  readonly retryMs?: number;
  /** Called after every pass that completed without a failure. */
  readonly onPass?: () => void;
  /**
   * What should be programmed for one endpoint of an active network (see
   * `desiredEndpoint`): lets a change to a few endpoint records be planned
   * without diffing the whole network. Absent: every change diffs its network.
   */
  readonly desiredEndpoint?: (networkId: string, endpointId: string) => EndpointWant;
}

/** What changed in one network since the last pass: some endpoint records, or anything. */
type NetworkScope = Set<string> | 'all';

interface Waiter {
  readonly check: () => boolean;
  readonly resolve: () => void;
}

/**
 * The control loop (STYLE #13): compute desired state from the records, diff
 * it with what is programmed, apply the difference — the same code on start,
 * after a resync and on every event. Passes never overlap; requests made
 * during a pass coalesce into one more pass. On events the diff is against a
 * mirror of what was programmed (no read-back); a full resync reads the data
 * plane back, so anything changed behind core's back is fixed too.
 */
export class Reconciler {
  readonly stats: ReconcileStats = { passes: 0, fullResyncs: 0, calls: 0, callsByKind: {}, failures: 0 };
  private readonly mirror = new ProgrammedMirror();
  private readonly handles = new Map<string, unknown>();
  private readonly waiters = new Set<Waiter>();
  private dirty = false;
  /** What the next pass diffs: per network, the endpoint records that changed (or the whole network) since the last pass began; or everything. */
  private scope: Map<string, NetworkScope> | 'all' = 'all';
  private wantFull = true;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  private closed = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  /**
   * Schedules a pass (a full resync when `full`); resolves when the state requested is reconciled or a call failed.
   * With `network`, only that network's records changed — with `endpoints`, only those endpoint records of it —
   * so the pass plans just what was named since the last one (a request without `network` makes it diff everything).
   */
  request(full = false, network?: string, endpoints?: readonly string[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (network === undefined || full) this.scope = 'all';
    else if (this.scope !== 'all') {
      const cur = this.scope.get(network);
      if (endpoints === undefined || endpoints.length === 0 || cur === 'all') this.scope.set(network, 'all');
      else {
        const set = cur ?? new Set<string>();
        for (const e of endpoints) set.add(e);
        this.scope.set(network, set);
      }
    }
    this.dirty = true;
    if (full) this.wantFull = true;
    if (this.running === undefined) this.running = this.loop();
    return this.running;
  }

  /** What core has programmed (its mirror, in read-back shape). */
  programmed(): ProgrammedState {
    return this.mirror.state();
  }

  /** The network specs core has programmed (keys included), without their endpoints: cheap enough to read after every pass. */
  programmedSpecs(): NetworkSpec[] {
    return this.mirror.specs();
  }

  /** The handle `addLocalEndpoint` returned for a local endpoint (the userspace `Endpoint`), if programmed. */
  handle(endpointId: string): unknown {
    return this.handles.get(endpointId);
  }

  /** True when the local endpoint is programmed. */
  hasLocal(networkId: string, endpointId: string): boolean {
    return this.mirror.hasLocal(networkId, endpointId);
  }

  /** Resolves once `check()` holds after some pass (checked at once, then after every applied call). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const w: Waiter = { check, resolve: () => resolve() };
      this.waiters.add(w);
    });
  }

  /** Stops scheduling passes; waits for a pass in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    await this.running;
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.closed) {
        this.dirty = false;
        const scope = this.scope;
        this.scope = new Map();
        await this.pass(scope);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async pass(scope: Map<string, NetworkScope> | 'all'): Promise<void> {
    this.stats.passes += 1;
    let ops: DataPlaneOp[];
    if (this.wantFull || scope === 'all') {
      if (this.wantFull) {
        this.wantFull = false;
        this.stats.fullResyncs += 1;
        this.mirror.reset(await this.deps.dataPlane.programmed());
      }
      ops = planReconcile(this.deps.desired(), this.mirror.state());
    } else {
      ops = this.planScoped(scope);
    }
    for (const op of ops) {
      if (this.closed) return;
      try {
        await this.call(op);
      } catch (err) {
        this.stats.failures += 1;
        this.consecutiveFailures += 1;
        this.deps.onError?.(err, op);
        this.scheduleRetry();
        return;
      }
      this.stats.calls += 1;
      this.stats.callsByKind[op.op] = (this.stats.callsByKind[op.op] ?? 0) + 1;
      this.mirror.apply(op);
      this.notify();
    }
    this.consecutiveFailures = 0;
    this.notify();
    this.deps.onPass?.();
  }

  /**
   * Plans only what changed: endpoint records one by one where that is
   * enough, whole networks otherwise (their keys or spec changed, a local
   * endpoint is involved, the network is not programmed yet).
   */
  private planScoped(scope: Map<string, NetworkScope>): DataPlaneOp[] {
    const whole = new Set<string>();
    const ops: DataPlaneOp[] = [];
    const want = this.deps.desiredEndpoint;
    for (const [networkId, s] of scope) {
      const targeted = s === 'all' || want === undefined ? undefined : planEndpoints(networkId, s, (id) => want(networkId, id), this.mirror);
      if (targeted === undefined) whole.add(networkId);
      else ops.push(...targeted);
    }
    if (whole.size > 0) ops.unshift(...planReconcile(this.deps.desired(whole), this.mirror.state(whole)));
    return ops;
  }

  private scheduleRetry(): void {
    this.wantFull = true;
    if (this.retryTimer !== undefined || this.closed) return;
    const base = this.deps.retryMs ?? 200;
    const delay = Math.min(5000, base * 2 ** Math.min(10, this.consecutiveFailures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.request(true);
    }, delay);
    this.retryTimer.unref?.();
  }

  private notify(): void {
    for (const w of [...this.waiters]) {
      if (w.check()) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private async call(op: DataPlaneOp): Promise<void> {
    const dp = this.deps.dataPlane;
    switch (op.op) {
      case 'removeNetwork': {
        const net = this.mirror.state().networks.find((n) => n.spec.id === op.networkId);
        await dp.removeNetwork(op.networkId);
        for (const l of net?.local ?? []) this.handles.delete(l.id);
        return;
      }
      case 'ensureNetwork':
        return dp.ensureNetwork(op.spec);
      case 'setNetworkKeys':
        return dp.setNetworkKeys(op.networkId, op.encryption);
      case 'removeRemoteEndpoint':
        return dp.removeRemoteEndpoint(op.networkId, op.endpointId);
      case 'removeLocalEndpoint':
        await dp.removeLocalEndpoint(op.networkId, op.endpointId);
        this.handles.delete(op.endpointId);
        return;
      case 'addLocalEndpoint': {
        const att = await dp.addLocalEndpoint(op.networkId, op.endpoint);
        this.handles.set(op.endpoint.id, att.handle);
        return;
      }
      case 'addRemoteEndpoint':
        return dp.addRemoteEndpoint(op.networkId, op.endpoint);
      case 'setServiceVip':
        return dp.setServiceVip(op.networkId, op.vip);
      case 'setDnsAddress':
        return dp.setDnsAddress(op.networkId, op.address);
    }
  }
}
