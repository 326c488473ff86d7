/** Base class of the errors thrown by @weft/raft's testing tools (checker, simulation helpers). */
export class RaftTestingError extends Error {
  override name = 'RaftTestingError';
}

/**
 * A history handed to the linearizability checker is malformed: an operation
 * without a return time while not marked unknown, a return before its call, a
 * non-finite time. `index` is the operation's position in the input array.
 */
export class InvalidHistoryError extends RaftTestingError {
  override name = 'InvalidHistoryError';
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(`linearizability: operation #${index}: ${message}`);
  }
}
