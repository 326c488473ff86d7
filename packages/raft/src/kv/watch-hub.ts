import { WatchCompactedError, type KeySelector, type StoreWatch, type WatchEvent, type WatchListener, type WatchOptions } from '@weft/interface';
import { selects } from './sorted-keys';

interface Watcher {
  readonly id: number;
  readonly selector: KeySelector;
  readonly listener: WatchListener;
  readonly onError: ((error: unknown) => void) | undefined;
  active: boolean;
}

/**
 * Keeps the last `limit` events and the watchers. Events of one revision are
 * delivered to a watcher as one batch, in the order the writes happened.
 */
export class WatchHub {
  private history: WatchEvent[] = [];
  /** Index of the oldest kept event in `history` (a ring that is trimmed lazily). */
  private start = 0;
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 1;
  /** Events of revisions ≤ this are no longer (completely) in the history. */
  compactRevision = 0;

  constructor(private readonly limit: number) {}

  /** Records the events of one write revision and delivers them. */
  publish(events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) this.history.push(e);
    this.trim();
    for (const w of [...this.watchers.values()]) this.deliver(w, events);
  }

  private trim(): void {
    const excess = this.history.length - this.start - this.limit;
    if (excess <= 0) return;
    for (let i = 0; i < excess; i++) {
      const dropped = this.history[this.start + i] as WatchEvent;
      if (dropped.revision > this.compactRevision) this.compactRevision = dropped.revision;
    }
    this.start += excess;
    // drop events of a revision that is now only partly kept
    while (this.start < this.history.length && (this.history[this.start] as WatchEvent).revision <= this.compactRevision) this.start++;
    if (this.start > 1024 && this.start * 2 > this.history.length) {
      this.history = this.history.slice(this.start);
      this.start = 0;
    }
  }

  private deliver(w: Watcher, events: readonly WatchEvent[]): void {
    if (!w.active) return;
    const mine = events.filter((e) => selects(w.selector, e.kv.key));
    if (mine.length === 0) return;
    try {
      w.listener(mine);
    } catch (err) {
      this.fail(w, err);
    }
  }

  private fail(w: Watcher, err: unknown): void {
    w.active = false;
    this.watchers.delete(w.id);
    w.onError?.(err);
  }

  /**
   * Registers a watch, replaying history from `options.fromRevision` (validated by the caller).
   * @throws WatchCompactedError when `fromRevision ≤ compactRevision`.
   */
  add(selector: KeySelector, currentRevision: number, listener: WatchListener, options: WatchOptions): StoreWatch {
    const from = options.fromRevision ?? currentRevision + 1;
    if (from <= this.compactRevision) throw new WatchCompactedError(from, this.compactRevision);
    const w: Watcher = { id: this.nextId++, selector, listener, onError: options.onError, active: true };
    this.watchers.set(w.id, w);
    // replay, one batch per revision
    let batch: WatchEvent[] = [];
    for (let i = this.start; i < this.history.length && w.active; i++) {
      const e = this.history[i] as WatchEvent;
      if (e.revision < from) continue;
      if (batch.length > 0 && (batch[0] as WatchEvent).revision !== e.revision) {
        this.deliver(w, batch);
        batch = [];
      }
      batch.push(e);
    }
    if (batch.length > 0) this.deliver(w, batch);
    const hub = this;
    return {
      cancel(): void {
        w.active = false;
        hub.watchers.delete(w.id);
      },
      get active(): boolean {
        return w.active;
      },
    };
  }

  /** After a restore: the history is gone; every watcher ends with a WatchCompactedError. */
  reset(revision: number): void {
    this.history = [];
    this.start = 0;
    this.compactRevision = revision;
    for (const w of [...this.watchers.values()]) this.fail(w, new WatchCompactedError(revision, revision));
  }
}
