import { parseOptions, type Store, type StoreWatch } from '@weft/interface';
import { z } from 'zod';
import { KeyLayout } from '../../records/keys';
import { deniedRecordSchema, parseKv } from './records';

/** Options of {@link DenyList.open}. */
export interface DenyListOptions {
  /** The cluster's store (a manager's: workers may not read the deny list). */
  readonly store: Store;
  /** Root of the cluster's keys (default `weft/`). */
  readonly keyPrefix?: string;
  /**
   * Called after serials were added or removed (not for the initial read):
   * re-check live connections there (`StoreServer.recheckPeers()`,
   * `TcpTransport.recheckPeers()`). Errors it throws are ignored.
   */
  readonly onChange?: () => void;
  /** Called once if the watch ends abnormally (store closed, history compacted); `has` then answers from the last state seen. */
  readonly onError?: (error: unknown) => void;
}

const fn = <T>(message: string) => z.custom<T>((v) => typeof v === 'function', { message });
const optionsSchema = z
  .object({
    store: z.custom<Store>((v) => typeof v === 'object' && v !== null && typeof (v as Store).watch === 'function', { message: 'must be a Store' }),
    keyPrefix: z.string().regex(/^[A-Za-z0-9_.-]*\/$/, 'must be letters, digits, "_", "." or "-" ending in "/"').default('weft/'),
    onChange: fn<() => void>('must be a function').optional(),
    onError: fn<(error: unknown) => void>('must be a function').optional(),
  })
  .strict();

/**
 * The certificate deny list (`denied-serials/<serial>` in the store), kept in
 * memory from a read and a watch, for the TLS layer to consult synchronously:
 * pass `denied: (serial) => list.has(serial)` to `controlTlsFor` /
 * `transportTlsFor`. A serial is listed when its certificate is re-issued
 * (renewal, role change) or its node removed; the entry says until when the
 * certificate would have been valid, so {@link pruneDeniedSerials} can drop it after.
 */
export class DenyList {
  private readonly serials = new Map<string, number>();
  private watch: StoreWatch | undefined;

  private constructor(private readonly prefix: string) {}

  /**
   * Reads the list and watches it from the read's revision on.
   * @throws InvalidOptionsError (rejects) naming a bad option.
   * @throws StoreUnavailableError (rejects) when the store cannot be read.
   */
  static async open(options: DenyListOptions): Promise<DenyList> {
    const o = parseOptions(optionsSchema, options, 'DenyList.open');
    const prefix = new KeyLayout(o.keyPrefix).deniedSerials();
    const list = new DenyList(prefix);
    const r = await o.store.range({ prefix });
    for (const kv of r.kvs) list.apply(kv.key, parseKv(deniedRecordSchema, kv)?.notAfterMs ?? 0);
    list.watch = await o.store.watch(
      { prefix },
      (events) => {
        for (const e of events) {
          if (e.type === 'delete') list.serials.delete(e.kv.key.slice(prefix.length));
          else list.apply(e.kv.key, parseKv(deniedRecordSchema, e.kv)?.notAfterMs ?? 0);
        }
        try {
          o.onChange?.();
        } catch {
          // the callback's problem
        }
      },
      { fromRevision: r.revision + 1, ...(o.onError !== undefined ? { onError: o.onError } : {}) },
    );
    return list;
  }

  private apply(key: string, notAfterMs: number): void {
    const serial = key.slice(this.prefix.length);
    if (serial.length > 0) this.serials.set(serial, notAfterMs);
  }

  /** Whether `serial` (lowercase hex) is deny-listed, as of the last event seen. */
  has(serial: string): boolean {
    return this.serials.has(serial);
  }

  /** How many serials are listed. */
  get size(): number {
    return this.serials.size;
  }

  /** Whether the watch still delivers (false after `close()` or a watch error). */
  get active(): boolean {
    return this.watch?.active === true;
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.watch?.cancel();
  }
}

/**
 * Deletes the deny-list entries whose certificates have expired (`notAfter`
 * before `now`): an expired certificate is refused by its dates anyway.
 * @returns how many entries were deleted.
 * @throws InvalidOptionsError (rejects) naming a bad option.
 */
export async function pruneDeniedSerials(store: Store, options: { readonly keyPrefix?: string; readonly now?: () => number } = {}): Promise<number> {
  const o = parseOptions(
    z.object({ store: optionsSchema.shape.store, keyPrefix: optionsSchema.shape.keyPrefix, now: fn<() => number>('must be a function returning ms since the Unix epoch').optional() }).strict(),
    { ...(options as object), store },
    'pruneDeniedSerials',
  );
  const prefix = new KeyLayout(o.keyPrefix).deniedSerials();
  const at = (o.now ?? Date.now)();
  let deleted = 0;
  for (const kv of (await o.store.range({ prefix })).kvs) {
    const rec = parseKv(deniedRecordSchema, kv);
    if (rec === undefined || rec.notAfterMs >= at) continue;
    const r = await o.store.txn({ compare: [{ key: kv.key, target: 'modRevision', result: 'equal', value: kv.modRevision }], success: [{ op: 'delete', keys: { key: kv.key } }], failure: [] });
    if (r.succeeded) deleted++;
  }
  return deleted;
}
