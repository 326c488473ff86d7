import type { ConfChange } from '../core/types';

/**
 * One proposal or membership change, from the call until it settles. The
 * same object is queued for the next batch and then, once appended, tracked
 * by its log index (one allocation per request on the hot path).
 */
export interface PendingProposal {
  readonly kind: 'normal' | 'conf';
  /** The command (normal) — undefined for conf changes. */
  readonly data: Uint8Array | undefined;
  /** The change (conf) — undefined for normal proposals. */
  readonly change: ConfChange | undefined;
  /** The tick count after which it times out. */
  readonly deadline: number;
  /** Term the entry was appended in (set when appended); a different term at the same index means it was overwritten. */
  term: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

/** A linearizable read waiting for its read index, then for the apply loop to reach it. */
export interface PendingRead {
  /** Filled when the core answers with a ReadState. */
  index: number | undefined;
  readonly context: Uint8Array;
  readonly deadline: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}
