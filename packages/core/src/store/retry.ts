import { isWeftError } from '@weft/interface';
import { ContentionError } from '../errors';

/** Back-off settings of {@link retryConflicts}. */
export interface RetrySettings {
  /** Attempts before giving up (default 50). */
  readonly attempts?: number;
  /** First pause in ms, doubled per attempt with jitter, at most 200 ms (default 2). */
  readonly baseMs?: number;
}

/** Thrown inside a {@link retryConflicts} body to ask for another attempt (a txn compare failed). */
export class Conflict {
  constructor(readonly reason: string) {}
}

/**
 * Runs an optimistic read-compute-txn body until it does not throw
 * {@link Conflict}, pausing with jittered exponential back-off between
 * attempts. `StoreUnavailableError` is retried too, whatever its outcome:
 * every body re-reads what it depends on and guards its txn with compares,
 * so re-sending after an unknown outcome can never apply a change twice
 * (a body that must recognise its own earlier success does so itself).
 * Other errors pass through.
 * @throws ContentionError naming the last conflict after the last attempt.
 */
export async function retryConflicts<T>(what: string, body: () => Promise<T>, settings: RetrySettings = {}): Promise<T> {
  const attempts = settings.attempts ?? 50;
  const base = settings.baseMs ?? 2;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    try {
      return await body();
    } catch (err) {
      if (err instanceof Conflict) last = err.reason;
      else if (isWeftError(err, 'StoreUnavailableError')) last = (err as Error).message;
      else throw err;
    }
    const pause = Math.min(200, base * 2 ** Math.min(i, 7)) * (0.5 + Math.random());
    await new Promise((r) => setTimeout(r, pause));
  }
  throw new ContentionError(what, attempts, last);
}
