/**
 * The replicated key-value store: `KvStore` (the state machine), the command
 * codec and builders, and `RaftKv` (a client over a Raft node).
 */
export { KvStore } from './kv-store';
export type { KvStoreOptions } from './kv-store';
export type { Watch, WatchOptions } from './watch-hub';
export { encodeKvRequest, decodeKvRequest } from './command-codec';
export { kv, cmp } from './request-builders';
export type { ValueInput } from './request-builders';
export { utf8 } from './bytes';
export { KvError, KvCommandError, InvalidKvRequestError, WatchCompactedError } from './errors';
export type * from './types';
export { RaftKv } from './raft-kv';
export type { KvReplica, KvReadOptions } from './raft-kv';
