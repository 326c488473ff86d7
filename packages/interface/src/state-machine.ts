/**
 * A replicated application: what a consensus log applies. `@weft/raft`'s
 * `RaftNode` calls `apply` for every committed entry, in log order, exactly
 * once per node lifetime (after a restart, from the last snapshot on);
 * `@weft/ipam`'s `IpamStateMachine` and `@weft/raft`'s `KvStore` implement it.
 */
export interface StateMachine<R = unknown> {
  /**
   * Applies a committed command and returns its result (resolved to the
   * proposer). Must be deterministic: the same command sequence gives the same
   * state and results on every replica. Must not throw for bad commands:
   * return an error result instead (a throw is a bug and stops the node).
   * @param command - the entry's data; owned by the log, do not mutate.
   * @param index - the entry's log index.
   */
  apply(command: Uint8Array, index: number): R;
  /** The whole state as bytes (taken after the last applied entry). */
  snapshot(): Uint8Array;
  /** Replaces the whole state with `data` from {@link StateMachine.snapshot}. */
  restore(data: Uint8Array): void;
}
