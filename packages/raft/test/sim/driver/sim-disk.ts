import type { Entry, HardState, Snapshot } from '../../../src/core/types';
import { memoryStores, type RaftStores, type ReadyWrite } from '../../../src/storage';

/**
 * Durable memory stores behind a simulated disk: every write becomes durable
 * (is applied to the inner stores) only when its virtual fsync completes, in
 * order. A crash drops the writes still in flight: their promises never
 * settle and their data never reaches the inner stores, exactly what a power
 * loss does to unsynced data. Reads see only durable data.
 */
export class SimDisk {
  readonly inner: RaftStores = memoryStores();
  private pending: { run: () => Promise<void>; resolve: () => void }[] = [];
  private busyUntil = 0;
  private epoch = 0;
  writes = 0;

  constructor(
    private readonly now: () => number,
    private readonly schedule: (delayMs: number, run: () => void) => void,
    private readonly latencyMs: () => number,
    /** A broken disk that acknowledges writes before they are durable (to show the simulation catches it). */
    private readonly lying = false,
  ) {}

  /** A write that failed after a lying disk had already acknowledged it. */
  lateFailure: Error | null = null;

  private write(run: () => Promise<void>): Promise<void> {
    this.writes++;
    const epoch = this.epoch;
    return new Promise<void>((resolve, reject) => {
      const job = { run, resolve };
      this.pending.push(job);
      const at = Math.max(this.now(), this.busyUntil) + this.latencyMs();
      this.busyUntil = at;
      this.schedule(at - this.now(), () => {
        if (epoch !== this.epoch) return; // lost in a crash
        const i = this.pending.indexOf(job);
        if (i >= 0) this.pending.splice(i, 1);
        run().then(
          () => {
            if (!this.lying) resolve();
          },
          (err: Error) => {
            if (this.lying) this.lateFailure ??= err;
            else reject(err);
          },
        );
      });
      if (this.lying) resolve();
    });
  }

  /** Power loss: in-flight writes are lost. */
  crash(): void {
    this.epoch++;
    this.pending = [];
    this.busyUntil = 0;
  }

  /**
   * The stores a RaftNode instance uses. With `atomicReady`, a Ready is one
   * write (`writeReady`); without, the driver's separate writes can be torn by
   * a crash between them.
   */
  stores(atomicReady: boolean): RaftStores {
    const { log, stable, snapshots } = this.inner;
    const stores: RaftStores = {
      log: {
        firstIndex: () => log.firstIndex(),
        lastIndex: () => log.lastIndex(),
        getEntries: (lo, hi) => log.getEntries(lo, hi),
        storeEntries: (entries: readonly Entry[]) => this.write(() => log.storeEntries(entries)),
        deleteRange: (lo, hi) => this.write(() => log.deleteRange(lo, hi)),
      },
      stable: {
        getHardState: () => stable.getHardState(),
        setHardState: (hs: HardState) => this.write(() => stable.setHardState(hs)),
        get: (k) => stable.get(k),
        set: (k, v) => this.write(() => stable.set(k, v)),
      },
      snapshots: {
        save: (s: Snapshot) => this.write(() => snapshots.save(s)),
        latest: () => snapshots.latest(),
      },
    };
    if (!atomicReady) return stores;
    return {
      ...stores,
      writeReady: (w: ReadyWrite) =>
        this.write(async () => {
          if (w.snapshot) {
            await snapshots.save(w.snapshot);
            const last = await log.lastIndex();
            if (last > 0) await log.deleteRange(await log.firstIndex(), last + 1);
          }
          if (w.entries.length > 0) await log.storeEntries(w.entries);
          if (w.hardState) await stable.setHardState(w.hardState);
        }),
    };
  }
}
