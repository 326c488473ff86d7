export type * from './types';
export type { Store, StoreWatch, WatchListener, WatchOptions, ReadOptions, RangeOptions, TxnInput, ValueInput } from './store';
export { StoreError, WatchCompactedError, StoreUnavailableError, QuorumLostError, StoreClosedError } from './errors';
export { utf8, valueBytes, textOf, jsonBytes, jsonOf } from './values';
export { kv, cmp } from './builders';
