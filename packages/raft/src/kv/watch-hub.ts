import { WatchCompactedError } from './errors';
import { selects } from './sorted-keys';
import type { KeySelector, WatchEvent } from './types';

/** Options of `KvStore.watch`. */
export interface WatchOptions {
  /**
   * Deliver events from this revision on (replayed from the store's bounded
   * history before `watch` returns). Default: only changes after the current
   * revision.
   */
  readonly fromRevision?: number;
  /**
   * Called once if the watch ends abnormally: the listener threw (the error is
   * passed), or a snapshot restore replaced the state (a WatchCompactedError).
   * The watch is cancelled before the call.
   */
  readonly onError?: (error: unknown) => void;
}

/** A registered watch. */
export interface Watch {
  readonly id: number;
  /** Stops delivery; idempotent. */
  cancel(): void;
  /** Whether it is still delivering. */
  readonly active: boolean;
}

interface Watcher {
  readonly id: number;
  readonly selector: KeySelector;
  readonly listener: (events: readonly WatchEvent[]) => void;
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
   * Registers a watch, replaying history from `options.fromRevision`.
   * @throws WatchCompactedError when `fromRevision ≤ compactRevision`.
   * @throws RangeError when `fromRevision` is not a positive safe integer.
   */
  add(
    selector: KeySelector,
    currentRevision: number,
    listener: (events: readonly WatchEvent[]) => void,
    options: WatchOptions,
  ): Watch {
    const from = options.fromRevision ?? currentRevision + 1;
    if (!Number.isSafeInteger(from) || from < 1) {
      throw new RangeError(`kv: watch fromRevision must be a positive integer, got ${String(options.fromRevision)}`);
    }
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
      id: w.id,
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
