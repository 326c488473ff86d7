/**
 * @packageDocumentation
 * `@weft/raft/level` — durable Raft storage in LevelDB. The only entry of
 * `@weft/raft` that loads `level` (and its native `classic-level` addon):
 * `import '@weft/raft'` stays free of native code for memory-only users.
 */
export { LevelStorage, type LevelStorageOptions } from './level-storage';
