/**
 * Testing tools shipped with @weft/raft: a seeded PRNG for replayable
 * simulations and a linearizability checker (Wing–Gong / Porcupine style).
 */
export { Prng, seededRandom } from './prng';
export { RaftTestingError, InvalidHistoryError } from './errors';
export * from './linearizability';
