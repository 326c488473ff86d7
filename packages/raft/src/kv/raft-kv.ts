import { encodeKvRequest } from './command-codec';
import { KvError } from './errors';
import type { KvStore } from './kv-store';
import { kv, type ValueInput } from './request-builders';
import type {
  Compare,
  KeySelector,
  KeyValue,
  KvDeleteResult,
  KvOp,
  KvPutResult,
  KvRangeResult,
  KvResult,
  KvTxnResult,
  WatchEvent,
} from './types';
import type { Watch, WatchOptions } from './watch-hub';

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

/** Read options. */
export interface KvReadOptions {
  /** Read the local replica without the ReadIndex barrier (may be stale; etcd's "serializable"). Default false. */
  readonly serializable?: boolean;
}

/**
 * An async key-value client over a Raft node and its local {@link KvStore}:
 * writes go through the log (`propose`), reads wait for the ReadIndex barrier
 * then read the local store, so both are linearizable. Errors of the node
 * (not leader, stopped) propagate unchanged.
 */
export class RaftKv {
  constructor(
    private readonly node: KvReplica,
    /** The state machine the node applies to. */
    readonly store: KvStore,
  ) {}

  private async write<T extends KvResult['op']>(request: Parameters<typeof encodeKvRequest>[0], expected: T): Promise<Extract<KvResult, { op: T }>> {
    const result = (await this.node.propose(encodeKvRequest(request))) as KvResult;
    if (result?.op === 'error') throw new KvError(`kv: the store rejected the command: ${result.error.message}`);
    if (result?.op !== expected) throw new KvError(`kv: expected a ${expected} result, got ${JSON.stringify(result?.op)}`);
    return result as Extract<KvResult, { op: T }>;
  }

  private async barrier(options: KvReadOptions): Promise<void> {
    if (!options.serializable) await this.node.read();
  }

  /** The key's current key-value, or undefined. */
  async get(key: string, options: KvReadOptions = {}): Promise<KeyValue | undefined> {
    await this.barrier(options);
    return this.store.get(key);
  }

  /** The key-values a selector covers, in key order (`limit` 0 or omitted: all). */
  async range(keys: KeySelector, options: KvReadOptions & { limit?: number } = {}): Promise<KvRangeResult> {
    await this.barrier(options);
    return this.store.range(kv.range(keys, options.limit ? { limit: options.limit } : {}));
  }

  /** Every key under `prefix`, in key order. */
  prefix(prefix: string, options: KvReadOptions & { limit?: number } = {}): Promise<KvRangeResult> {
    return this.range({ prefix }, options);
  }

  /** Sets a key (text values become UTF-8). */
  put(key: string, value: ValueInput, options: { prevKv?: boolean } = {}): Promise<KvPutResult> {
    return this.write(kv.put(key, value, options), 'put');
  }

  /** Deletes a key (string) or a selection. */
  delete(keys: string | KeySelector, options: { prevKv?: boolean } = {}): Promise<KvDeleteResult> {
    return this.write(kv.delete(keys, options), 'delete');
  }

  /** An atomic compare → then/else through the log. */
  txn(parts: { compare?: readonly Compare[]; success?: readonly KvOp[]; failure?: readonly KvOp[] }): Promise<KvTxnResult> {
    return this.write(kv.txn(parts), 'txn');
  }

  /** Watches the local replica (see `KvStore.watch`). */
  watch(prefix: string | KeySelector, options: WatchOptions, listener: (events: readonly WatchEvent[]) => void): Watch {
    return this.store.watch(prefix, options, listener);
  }
}
