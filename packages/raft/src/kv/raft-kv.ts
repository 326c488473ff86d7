import {
  jsonOf,
  kv,
  parseOptions,
  StoreClosedError,
  textOf,
  type DeleteResult,
  type KeySelector,
  type KeyValue,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type ReadOptions,
  type Store,
  type StoreRequest,
  type StoreWatch,
  type TxnInput,
  type TxnResult,
  type ValueInput,
  type WatchListener,
  type WatchOptions,
} from '@weft/interface';
import { z } from 'zod';
import { encodeKvRequest } from './command-codec';
import { KvError } from './errors';
import { KvStore } from './kv-store';
import type { KvResult } from './types';

/**
 * What {@link RaftKv} needs from a Raft node whose state machine is the given
 * `KvStore`. `RaftNode` satisfies it.
 */
export interface KvReplica {
  /**
   * Replicates `command` and resolves with the state machine's result once it
   * is committed and applied locally; rejects when not leader (e.g. `NotLeaderError`).
   */
  propose(command: Uint8Array): Promise<unknown>;
  /**
   * A linearizable read barrier: resolves once the local state machine has
   * applied every write committed before the call (ReadIndex).
   */
  read(): Promise<void>;
}

const hasFunctions = (names: readonly string[]) => (v: unknown): boolean =>
  typeof v === 'object' && v !== null && names.every((k) => typeof (v as Record<string, unknown>)[k] === 'function');

const argsSchema = z.object({
  node: z.custom<KvReplica>(hasFunctions(['propose', 'read']), { message: 'must have propose() and read() (a RaftNode)' }),
  store: z.custom<KvStore>((v) => v instanceof KvStore, { message: 'must be the KvStore the node applies to' }),
});

/**
 * `@weft/interface`'s {@link Store} over a Raft node and its local
 * {@link KvStore}: writes go through the log (`propose`), reads wait for the
 * ReadIndex barrier then read the local store, so both are linearizable (pass
 * `{ serializable: true }` to read the local replica as it is). Watches are
 * served by the local replica. Works on any member; writes need the leader.
 *
 * Errors of the node propagate unchanged — they are `@weft/raft`'s, not the
 * `Store` contract's `StoreUnavailableError`: `NotLeaderError` (nothing
 * appended; retry at `leaderId`), `ProposalLostError` (never committed; safe to
 * retry), `RequestTimeoutError` (outcome unknown), `NodeClosedError`,
 * `NodeFailedError`. `@weft/core` adapts them to the contract. After
 * {@link close}, requests reject with `StoreClosedError`.
 */
export class RaftKv implements Store {
  private readonly node: KvReplica;
  /** The state machine the node applies to. */
  readonly store: KvStore;
  private readonly watches = new Set<StoreWatch>();
  private closed = false;

  /**
   * @param node - the Raft node (a `RaftNode` whose state machine is `store`).
   * @param store - the node's state machine.
   * @throws InvalidOptionsError (from `@weft/interface`) when `node` or `store` is not one.
   */
  constructor(node: KvReplica, store: KvStore) {
    const args = parseOptions(argsSchema, { node, store }, 'RaftKv');
    this.node = args.node;
    this.store = args.store;
  }

  private check(): void {
    if (this.closed) throw new StoreClosedError('RaftKv: closed');
  }

  private async write<T extends KvResult['op']>(request: StoreRequest, expected: T): Promise<Extract<KvResult, { op: T }>> {
    this.check();
    const result = (await this.node.propose(encodeKvRequest(request))) as KvResult;
    if (result?.op === 'error') throw new KvError(`kv: the store rejected the command: ${result.error.message}`);
    if (result?.op !== expected) throw new KvError(`kv: expected a ${expected} result, got ${JSON.stringify(result?.op)}`);
    return result as Extract<KvResult, { op: T }>;
  }

  private async barrier(options: ReadOptions | undefined): Promise<void> {
    this.check();
    if (!options?.serializable) await this.node.read();
  }

  /** The key's current key-value, or undefined. */
  async get(key: string, options?: ReadOptions): Promise<KeyValue | undefined> {
    await this.barrier(options);
    return this.store.get(key);
  }

  /**
   * The key's value as UTF-8 text, or undefined when the key does not exist.
   * @throws MalformedPacketError (from `@weft/interface`, layer `utf8`) when the value is not UTF-8.
   */
  async getText(key: string, options?: ReadOptions): Promise<string | undefined> {
    const found = await this.get(key, options);
    return found === undefined ? undefined : textOf(found);
  }

  /**
   * The key's value parsed as UTF-8 JSON, or undefined when the key does not
   * exist. `T` is not checked: validate what came from shared state.
   * @throws MalformedPacketError (from `@weft/interface`, layer `json`) when the value is not JSON.
   */
  async getJson<T = unknown>(key: string, options?: ReadOptions): Promise<T | undefined> {
    const found = await this.get(key, options);
    return found === undefined ? undefined : jsonOf<T>(found);
  }

  /** The key-values a selector covers, in key order (`limit` 0 or omitted: all). */
  async range(keys: KeySelector, options?: RangeOptions): Promise<RangeResult> {
    await this.barrier(options);
    return this.store.range(kv.range(keys, options?.limit ? { limit: options.limit } : {}));
  }

  /** Every key under `prefix`, in key order. */
  prefix(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    return this.range({ prefix }, options);
  }

  /** Sets a key (text values become UTF-8). Resolves once committed and applied on this node. */
  put(key: string, value: ValueInput, options?: { readonly prevKv?: boolean }): Promise<PutResult> {
    return this.write(kv.put(key, value, { prevKv: options?.prevKv === true }), 'put');
  }

  /** Sets a key to `value` as UTF-8 JSON (`JSON.stringify`). */
  putJson(key: string, value: unknown, options?: { readonly prevKv?: boolean }): Promise<PutResult> {
    return this.write(kv.putJson(key, value, { prevKv: options?.prevKv === true }), 'put');
  }

  /** Deletes a key (string) or every key a selector covers. */
  delete(keys: string | KeySelector, options?: { readonly prevKv?: boolean }): Promise<DeleteResult> {
    return this.write(kv.delete(keys, { prevKv: options?.prevKv === true }), 'delete');
  }

  /** An atomic compare → then/else through the log (build it with `kv` and `cmp`). */
  txn(request: TxnInput): Promise<TxnResult> {
    return this.write(kv.txn(request), 'txn');
  }

  /**
   * Watches every key under `keys` (a string is a prefix; or a selector) on
   * the local replica; see `KvStore.watch`. Resolves once established: without
   * `fromRevision`, every change applied here after the call is delivered (a
   * lagging follower delivers the changes it has yet to apply too).
   * @throws WatchCompactedError (rejects) when `fromRevision` is no longer in the local history.
   * @throws InvalidOptionsError (rejects) for a bad selector, listener or `fromRevision`.
   */
  async watch(keys: string | KeySelector, listener: WatchListener, options?: WatchOptions): Promise<StoreWatch> {
    this.check();
    const inner = this.store.watch(keys, listener, options);
    const watches = this.watches;
    for (const w of watches) if (!w.active) watches.delete(w); // ended through onError
    watches.add(inner);
    return {
      cancel(): void {
        inner.cancel();
        watches.delete(inner);
      },
      get active(): boolean {
        return inner.active;
      },
    };
  }

  /**
   * Cancels the watches made through this client (their `onError` is not
   * called); later requests reject with `StoreClosedError`. Does not close
   * the node: it belongs to whoever created it (`node.close()`). Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watches) w.cancel();
    this.watches.clear();
  }
}
