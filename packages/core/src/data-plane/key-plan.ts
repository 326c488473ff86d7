import { KeyPlanError, planKeySteps as planRingSteps, type KeyState, type KeyStep } from '@weft/crypto';
import { KeyTransitionError } from './errors';

export type { KeyState, KeyStep };

/**
 * `@weft/crypto`'s `planKeySteps` (the `KeyRing` calls from `from` to `to`, in
 * an order the ring accepts), with its `KeyPlanError` reported as this
 * plane's {@link KeyTransitionError} for `networkId`. Pure.
 * @throws KeyTransitionError when no such order exists; the message says why.
 */
export function planKeySteps(from: KeyState, to: KeyState, networkId = ''): KeyStep[] {
  try {
    return planRingSteps(from, to);
  } catch (err) {
    throw asKeyTransition(err, networkId);
  }
}

/** `KeyPlanError` → {@link KeyTransitionError} (with the original as `cause`); anything else as is. */
export function asKeyTransition(err: unknown, networkId: string): unknown {
  return err instanceof KeyPlanError ? new KeyTransitionError(networkId, err.reason, { cause: err }) : err;
}
