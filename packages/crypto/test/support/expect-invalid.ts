import { InvalidOptionsError } from '../../src';

/**
 * Runs `fn` and checks it threw the shared `InvalidOptionsError` with this
 * `field`, a one-line message, and (when given) a message matching `message`.
 */
export function expectInvalidOption(fn: () => unknown, field: string, message?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidOptionsError);
  const e = err as InvalidOptionsError;
  expect(e.code).toBe('ERR_INVALID_OPTIONS');
  expect(e.field).toBe(field);
  expect(e.message).not.toContain('\n');
  if (message) expect(e.message).toMatch(message);
}
