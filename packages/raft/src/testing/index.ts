/**
 * @packageDocumentation
 * `@weft/raft/testing` — tools for testing code built on `@weft/raft`: a
 * seeded PRNG for replayable simulations and a linearizability checker
 * (Wing–Gong / Porcupine style) with a model of the KV store. Not part of the
 * main entry.
 */
export { Prng } from './prng';
export { RaftTestingError, InvalidHistoryError } from './errors';
export * from './linearizability';
