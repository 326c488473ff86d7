/**
 * @packageDocumentation
 * @weft/raft — Raft consensus with a pure synchronous core (`RawNode`), a
 * driver (`RaftNode`) with pluggable storage and transports, and a replicated
 * key-value store (`KvStore`).
 */
export type * from './core/types';
export type { StateMachine } from './state-machine';
export * from './core';
export * from './storage';
export * from './transport';
export * from './node';
export * from './kv';
export * from './testing';
