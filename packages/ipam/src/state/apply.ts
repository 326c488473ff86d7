import { InvalidAddressError } from '@weft/interface';
import type { z } from 'zod';
import { IpamError, InvalidCommandError } from '../errors';
import { commandSchema, type Command, type CommandResult } from './commands';
import { execute } from './execute';
import { firstIssue } from './schema-issues';
import type { IpamState } from './types';

/** An error as plain data, for a state machine's result. */
export interface ApplyError {
  /** The typed error's fixed name, e.g. `PoolExhaustedError`. */
  name: string;
  /** The typed error's stable code, e.g. `ERR_POOL_EXHAUSTED`. */
  code: string;
  /** The error's one-line message. */
  message: string;
}

/**
 * The error an operation refuses a command with: any {@link IpamError}, or the
 * shared `InvalidAddressError` for address text. Anything else is a bug.
 */
export function isRefusal(err: unknown): err is IpamError | InvalidAddressError {
  return err instanceof IpamError || err instanceof InvalidAddressError;
}

/** A refusal as plain data. */
export function toApplyError(err: IpamError | InvalidAddressError): ApplyError {
  return { name: err.name, code: err.code, message: err.message };
}

/** What {@link apply} returns: never throws for bad commands. */
export type ApplyOutcome = { ok: true; result: CommandResult } | { ok: false; error: ApplyError };

/**
 * Validates untrusted command input with `schema`.
 * @throws {InvalidCommandError} naming the first bad field.
 */
export function validateCommand<S extends z.ZodType>(schema: S, command: unknown): z.infer<S> {
  const r = schema.safeParse(command);
  if (!r.success) {
    const [field, message] = firstIssue(r.error);
    throw new InvalidCommandError(field, message, { cause: r.error });
  }
  return r.data;
}

/**
 * Validates an untrusted command with zod.
 * @throws {InvalidCommandError} naming the first bad field.
 */
export function parseCommand(command: unknown): Command {
  return validateCommand(commandSchema, command);
}

/**
 * The state-machine entry point: validates `command` (zod), applies it to
 * `state` in place and returns `{ ok: true, result }`, or `{ ok: false, error }`
 * for an invalid command or a refused operation (exhaustion, overlap, double
 * release, ...), in which case no address or pool was allocated or released.
 * Deterministic: the same command sequence from the same state gives the same
 * outcomes and a byte-identical snapshot on every replica. Errors other than
 * an {@link IpamError} or `InvalidAddressError` are bugs and are rethrown.
 */
export function apply(state: IpamState, command: unknown): ApplyOutcome {
  try {
    return { ok: true, result: execute(state, parseCommand(command)) };
  } catch (err) {
    if (isRefusal(err)) return { ok: false, error: toApplyError(err) };
    throw err;
  }
}
