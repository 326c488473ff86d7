import type { CoreContext } from './context';
import { encodeRecord } from '../records/codec';

/**
 * Rewrites `heartbeats/<nodeId>` every `intervalMs`, so managers can tell a
 * live node from a dead one by whether the key's revision moves — no clock
 * is compared across machines. Failures (no quorum) are reported and retried
 * at the next tick; the data plane does not depend on them.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Beats once now, then every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      if (this.inFlight === undefined) void this.beat();
    }, this.intervalMs);
    this.timer.unref?.();
  }

  private beat(): Promise<void> {
    this.seq += 1;
    this.inFlight = this.ctx.store
      .put(this.ctx.keys.heartbeat(this.ctx.nodeId), encodeRecord({ nodeId: this.ctx.nodeId, seq: this.seq }))
      .then(
        () => undefined,
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** Stops beating; waits for a beat in flight. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
