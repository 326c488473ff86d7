/**
 * One client operation of a concurrent history, as observed by the client.
 *
 * Times are in any monotonic unit the caller likes (virtual ms, a global event
 * counter): only their order matters. An operation whose outcome the client
 * never learned (timeout, crash) is `unknown`: it may have taken effect at
 * any point after `call`, or never; its `return` and `output` are ignored.
 */
export interface Operation<I, O> {
  /** Who issued it (only used in explanations). */
  readonly clientId: string | number;
  readonly input: I;
  /** Invocation time. Must be finite. */
  readonly call: number;
  /** Response time (≥ `call`); required unless `unknown`. */
  readonly return?: number;
  /** What the client received; ignored when `unknown`. */
  readonly output?: O;
  /** The client does not know whether or how the operation took effect. */
  readonly unknown?: boolean;
}

/** Result of one model step: whether the output is legal in `state`, and the state after. */
export type StepResult<S> = readonly [ok: boolean, state: S];

/**
 * A sequential specification the checker compares histories against
 * (the object's behaviour when operations run one at a time).
 *
 * States must be treated as immutable values: `step` returns a new state
 * rather than mutating the given one.
 */
export interface Model<S, I, O> {
  /** The initial state. */
  init(): S;
  /**
   * Applies `input` to `state`. When `unknown` is false, returns `[false, _]`
   * if `output` is not what the sequential object would answer. When `unknown`
   * is true the output was never observed: apply the operation's effect and
   * return `[true, next]` (an unknown operation that "never happened" is
   * covered by the checker linearizing it after everything else).
   */
  step(state: S, input: I, output: O | undefined, unknown: boolean): StepResult<S>;
  /** A string that is equal for equal states (used to memoize the search). */
  hash(state: S): string;
  /**
   * Independent partitions: operations with different keys never interact,
   * so each key's sub-history is checked on its own (P-compositionality).
   * Omit to check the history as one object.
   */
  partitionKey?(input: I): string;
  /** Human-readable form of an operation for explanations. */
  describe?(input: I, output: O | undefined, unknown: boolean): string;
}
