import type { StateMachine } from '@weft/interface';
import { InvalidCommandError, InvalidSnapshotError } from './errors';
import { apply, toApplyError, type ApplyOutcome } from './state/apply';
import { newState, type IpamOptions } from './state/options';
import type { IpamState } from './state/types';
import { encodeSnapshot } from './snapshot/encode';
import { decodeSnapshot } from './snapshot/decode';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The allocator as a replicated state machine over bytes: `@weft/interface`'s
 * `StateMachine`, which `@weft/raft`'s `RaftNode` applies. Commands are UTF-8
 * JSON of a `Command`, results are {@link ApplyOutcome}s, snapshots are the
 * UTF-8 bytes of `encodeSnapshot`. `apply` never throws for a bad command:
 * undecodable bytes give `{ ok: false, error: { name: 'InvalidCommandError', code: 'ERR_INVALID_COMMAND', ... } }`.
 *
 * Commands must carry their own `now` (stamped by the proposer) when time-based
 * quarantine is on: replicas never read a clock.
 */
export class IpamStateMachine implements StateMachine<ApplyOutcome> {
  #state: IpamState;

  /**
   * @param options - default pools and quarantine; see {@link IpamOptions}. Every replica must be given the same.
   * @throws {InvalidOptionsError} (from `@weft/interface`) whose `field` names the first bad option.
   */
  constructor(options?: IpamOptions) {
    this.#state = newState(options, 'IpamStateMachine');
  }

  /** The live state (owned by this object). */
  get state(): IpamState {
    return this.#state;
  }

  /**
   * Applies one committed command.
   * @param command - UTF-8 JSON bytes; not retained.
   * @param _index - the log index (unused: the state counts its own commands).
   */
  apply(command: Uint8Array, _index?: number): ApplyOutcome {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(command));
    } catch (err) {
      return { ok: false, error: toApplyError(new InvalidCommandError('', `not UTF-8 JSON: ${(err as Error).message}`, { cause: err })) };
    }
    return apply(this.#state, parsed);
  }

  /** The state as snapshot bytes (a fresh buffer owned by the caller). */
  snapshot(): Uint8Array {
    return encoder.encode(encodeSnapshot(this.#state));
  }

  /**
   * Replaces the state with a snapshot's.
   * @throws {InvalidSnapshotError} when the bytes are malformed; the state is then unchanged.
   */
  restore(data: Uint8Array): void {
    let text: string;
    try {
      text = decoder.decode(data);
    } catch (err) {
      throw new InvalidSnapshotError('not UTF-8', { cause: err });
    }
    this.#state = decodeSnapshot(text);
  }
}

/** UTF-8 JSON bytes of a command, for proposing to a log. */
export function encodeCommand(command: object): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}
