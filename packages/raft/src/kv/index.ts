/**
 * The replicated key-value store: `KvStore` (the state machine), the command
 * codec, and `RaftKv` (`@weft/interface`'s `Store` over a Raft node). The
 * request and result types and the `kv`/`cmp` builders are `@weft/interface`'s.
 */
export { KvStore } from './kv-store';
export type { KvStoreOptions } from './kv-store';
export { encodeKvRequest, decodeKvRequest } from './command-codec';
export { KvError, KvCommandError, InvalidKvRequestError } from './errors';
export type { KvResult, KvErrorResult } from './types';
export { RaftKv } from './raft-kv';
export type { KvReplica } from './raft-kv';
