import type { Model } from './model';

/**
 * An operation on one key of a key-value register map. Values are strings;
 * `null` means "absent".
 * - `get` outputs the value (or null);
 * - `put` and `delete` output nothing (`undefined`);
 * - `cas` sets `value` only if the current value equals `expected`
 *   (`expected: null` means "only if absent") and outputs whether it did.
 */
export type KvModelInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/** `get`: the value or null; `cas`: whether it swapped; `put`/`delete`: undefined. */
export type KvModelOutput = string | null | boolean | undefined;

/** The state of one key: its value, or null when absent. */
export type KvModelState = string | null;

/**
 * The sequential specification of a key-value store with get/put/delete/cas,
 * partitioned by key (each key is an independent register).
 */
export const kvModel: Model<KvModelState, KvModelInput, KvModelOutput> = {
  init: () => null,
  step(state, input, output, unknown) {
    switch (input.op) {
      case 'get':
        return [unknown || output === state, state];
      case 'put':
        return [true, input.value];
      case 'delete':
        return [true, null];
      case 'cas': {
        const swapped = state === input.expected;
        if (!unknown && output !== swapped) return [false, state];
        return [true, swapped ? input.value : state];
      }
    }
  },
  hash: (state) => (state === null ? '\u0000' : `=${state}`),
  partitionKey: (input) => input.key,
  describe(input, output, unknown) {
    const out = unknown ? '?' : JSON.stringify(output ?? null);
    switch (input.op) {
      case 'get':
        return `get(${input.key}) -> ${out}`;
      case 'put':
        return `put(${input.key}, ${JSON.stringify(input.value)})${unknown ? ' -> ?' : ''}`;
      case 'delete':
        return `delete(${input.key})${unknown ? ' -> ?' : ''}`;
      case 'cas':
        return `cas(${input.key}, ${JSON.stringify(input.expected)} => ${JSON.stringify(input.value)}) -> ${out}`;
    }
  },
};
