import { isWeftError, type KeyValue, type Store, type StoreWatch, type WatchEvent } from '@weft/interface';

/** What a {@link WatchedPrefix} tells its owner. */
export interface PrefixChange {
  /** True when the whole prefix was (re-)read: the first load, or a resync after the watch could not resume. */
  readonly resync: boolean;
  /** Keys that changed (empty on a resync, where anything may have). */
  readonly keys: readonly string[];
}

/** Counters of a {@link WatchedPrefix}. */
export interface WatchedPrefixStats {
  /** Full reads of the prefix (1 + resyncs). */
  loads: number;
  /** Records that did not parse and were ignored. */
  malformed: number;
  /** Watch events applied. */
  events: number;
}

/**
 * A local, always-current copy of every record under one key prefix: read
 * the prefix once, then watch from the read's revision + 1, so no change is
 * lost or applied twice. When the watch cannot resume (its revision was
 * compacted, or it failed), the prefix is read again and the owner is told
 * to resync — the same "list, then watch" pattern as a Kubernetes informer.
 * Records go through `parse`; one that does not parse is skipped and counted.
 */
export class WatchedPrefix<T> {
  readonly items = new Map<string, T>();
  readonly stats: WatchedPrefixStats = { loads: 0, malformed: 0, events: 0 };
  private watch: StoreWatch | undefined;
  private stopped = false;
  private restarting: Promise<void> | undefined;
  /** Revision of the last load or event applied. */
  revision = 0;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly parse: (kv: KeyValue) => T | undefined,
    private readonly onChange: (change: PrefixChange) => void,
    private readonly onError: (error: unknown) => void = () => {},
    /**
     * The value's own copy of its key (after the prefix), e.g. a record's id
     * under `<prefix><id>`. When it equals the key, the value is filed under
     * it: the map then keeps no slice of the store's key string, which would
     * hold the whole key (prefix included) in memory for as long as the entry lives.
     */
    private readonly keyIn?: (value: T) => string,
  ) {}

  /** Loads the prefix and starts watching. Resolves once the copy is current as of the load. */
  async start(): Promise<void> {
    await this.load();
  }

  /** Stops watching; the copy stays as it was. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    this.watch = undefined;
  }

  private keyOf(kv: KeyValue): string {
    return kv.key.slice(this.prefix.length);
  }

  private put(kv: KeyValue): void {
    let value: T | undefined;
    try {
      value = this.parse(kv);
    } catch {
      value = undefined;
    }
    const key = this.keyOf(kv);
    if (value === undefined) {
      this.stats.malformed += 1;
      this.items.delete(key);
      return;
    }
    const own = this.keyIn?.(value);
    this.items.set(own === key ? own : key, value);
  }

  private async load(): Promise<void> {
    while (!this.stopped) {
      try {
        const r = await this.store.range({ prefix: this.prefix });
        if (this.stopped) return;
        this.items.clear();
        for (const kv of r.kvs) this.put(kv);
        this.revision = r.revision;
        this.stats.loads += 1;
        this.watch?.cancel();
        this.watch = await this.store.watch({ prefix: this.prefix }, (events) => this.apply(events), {
          fromRevision: r.revision + 1,
          onError: (err) => this.restart(err),
        });
        if (this.stopped) {
          this.watch.cancel();
          return;
        }
        this.onChange({ resync: true, keys: [] });
        return;
      } catch (err) {
        if (this.stopped) return;
        this.onError(err);
        // Compacted between the read and the watch, or the store is unavailable: read again after a pause.
        if (!isWeftError(err)) throw err;
        await new Promise((r) => setTimeout(r, 100).unref?.());
      }
    }
  }

  private apply(events: readonly WatchEvent[]): void {
    if (this.stopped) return;
    const keys: string[] = [];
    for (const e of events) {
      if (e.type === 'put') this.put(e.kv);
      else this.items.delete(this.keyOf(e.kv));
      keys.push(this.keyOf(e.kv));
      this.stats.events += 1;
      if (e.revision > this.revision) this.revision = e.revision;
    }
    if (keys.length > 0) this.onChange({ resync: false, keys });
  }

  private restart(err: unknown): void {
    if (this.stopped) return;
    this.onError(err);
    this.watch = undefined;
    if (this.restarting === undefined) {
      this.restarting = this.load()
        .catch((e: unknown) => this.onError(e))
        .finally(() => {
          this.restarting = undefined;
        });
    }
  }
}
