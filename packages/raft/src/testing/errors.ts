import { RaftError } from '../errors';

/** Base class of the errors thrown by `@weft/raft/testing` (checker, PRNG); thrown itself for a misused `Prng` (`int`, `pick`). */
export class RaftTestingError extends RaftError {
  override name = 'RaftTestingError';
  override readonly code: string = 'ERR_RAFT_TESTING';
}

/**
 * A history handed to the linearizability checker is malformed: an operation
 * without a return time while not marked unknown, a return before its call, a
 * non-finite time. `index` is the operation's position in the input array.
 */
export class InvalidHistoryError extends RaftTestingError {
  override name = 'InvalidHistoryError';
  override readonly code = 'ERR_RAFT_INVALID_HISTORY';
  constructor(
    /** Position of the operation in the history array. */
    readonly index: number,
    message: string,
  ) {
    super(`linearizability: operation #${index}: ${message}`);
  }
}
