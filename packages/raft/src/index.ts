/**
 * @packageDocumentation
 * @weft/raft — Raft consensus with a pure synchronous core (`RawNode`), a
 * driver (`RaftNode`) with pluggable storage and transports, and a replicated
 * key-value store (`KvStore`, and `RaftKv`: `@weft/interface`'s `Store` over
 * a node).
 *
 * This entry loads no native code. LevelDB storage is `@weft/raft/level`;
 * the PRNG and the linearizability checker are `@weft/raft/testing`.
 */
export type * from './core/types';
export { RaftError } from './errors';
export * from './core';
export * from './storage';
export * from './transport';
export * from './node';
export * from './kv';
// Shared contracts a raft user needs, re-exported from @weft/interface (the one definition).
export {
  InvalidOptionsError,
  MalformedPacketError,
  WatchCompactedError,
  StoreClosedError,
  kv,
  cmp,
  utf8,
  textOf,
  jsonOf,
} from '@weft/interface';
export type {
  StateMachine,
  Random,
  SocketAddress,
  Store,
  StoreWatch,
  KeyValue,
  KeySelector,
  Compare,
  CompareResult,
  RangeRequest,
  PutRequest,
  DeleteRequest,
  TxnOp,
  TxnRequest,
  StoreRequest,
  RangeResult,
  PutResult,
  DeleteResult,
  TxnOpResult,
  TxnResult,
  WatchEvent,
  WatchOptions,
  WatchListener,
  ValueInput,
  ReadOptions,
  RangeOptions,
  TxnInput,
} from '@weft/interface';
