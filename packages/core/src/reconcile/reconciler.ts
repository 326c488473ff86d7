import type { DataPlane, NetworkSpec, ProgrammedState } from '@weft/interface';
import { ProgrammedMirror } from './mirror';
import { planReconcile, type DataPlaneOp } from './plan';

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
}

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
  /** What the next pass diffs: the networks whose records changed since the last pass began, or all of them. */
  private scope: Set<string> | 'all' = 'all';
  private wantFull = true;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  private closed = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  /**
   * Schedules a pass (a full resync when `full`); resolves when the state requested is reconciled or a call failed.
   * With `network`, only that network's records changed: the pass diffs only the networks named since the last one
   * (a request without `network` makes it diff them all).
   */
  request(full = false, network?: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (network === undefined || full) this.scope = 'all';
    else if (this.scope !== 'all') this.scope.add(network);
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
        this.scope = new Set();
        await this.pass(scope);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async pass(scope: Set<string> | 'all'): Promise<void> {
    this.stats.passes += 1;
    // Diff only the networks whose records changed, unless anything may have (a full resync reads everything back).
    let only = scope === 'all' ? undefined : scope;
    if (this.wantFull) {
      this.wantFull = false;
      only = undefined;
      this.stats.fullResyncs += 1;
      this.mirror.reset(await this.deps.dataPlane.programmed());
    }
    const ops = planReconcile(this.deps.desired(only), this.mirror.state(only));
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
