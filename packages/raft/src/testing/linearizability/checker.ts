import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { InvalidHistoryError } from '../errors';
import { Prng } from '../prng';
import type { Model, Operation } from './model';

/** Options of {@link checkLinearizability}. */
export interface CheckOptions {
  /**
   * Search budget per partition, in search steps (one step tries one
   * operation at one point). Exceeding it gives `'unknown'` for that
   * partition. Default 1,000,000.
   */
  readonly budget?: number;
}

/** Why a partition is not linearizable: the furthest the search got, and where it got stuck. */
export interface IllegalExplanation<I, O> {
  /** The partition key (`''` when the model has no `partitionKey`). */
  readonly partition: string;
  /** The longest prefix the search could linearize, in linearization order. */
  readonly linearized: readonly Operation<I, O>[];
  /**
   * The operations that could have been linearized next at that point (called
   * before the earliest pending response) and none of which fit the model.
   */
  readonly candidates: readonly Operation<I, O>[];
  /** One line per fact above, using the model's `describe`. */
  readonly message: string;
}

/** The verdict of {@link checkLinearizability}. */
export type CheckResult<I, O> =
  | { readonly result: 'ok'; readonly partitions: number }
  | { readonly result: 'illegal'; readonly partitions: number; readonly explanation: IllegalExplanation<I, O> }
  | {
      readonly result: 'unknown';
      readonly partitions: number;
      /** Partition keys whose search ran out of budget. */
      readonly exhausted: readonly string[];
    };

interface Event {
  /** Operation index within the partition. */
  readonly id: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call: its return event. */
  match: Event | null;
  prev: Event | null;
  next: Event | null;
}

const DEFAULT_BUDGET = 1_000_000;
const optionsSchema = z.object({ budget: z.number().int().min(1).default(DEFAULT_BUDGET) });

/**
 * Checks a concurrent history against a sequential model (Wing & Gong's
 * algorithm with Lowe's memoization, as in Porcupine): a depth-first search
 * for an order of the operations that respects real time (an operation that
 * returned before another was called comes first) and in which every output
 * matches the model. States already reached with the same set of linearized
 * operations are not explored again. The history is first split by
 * `model.partitionKey`; the result is illegal if any partition is.
 *
 * An operation marked `unknown` returns at +∞: it may be linearized anywhere
 * after its call, including after every other operation (which is the same as
 * never having happened).
 *
 * Equal times count as concurrent (a call at the same time as another
 * operation's return may be ordered either way), the permissive choice.
 *
 * @throws InvalidHistoryError when an operation has a non-finite call time, no
 * return time while not unknown, or returns before it was called.
 * @throws InvalidOptionsError (from `@weft/interface`) for a `budget` that is not a positive integer.
 */
export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options?: CheckOptions,
): CheckResult<I, O> {
  const { budget } = parseOptions(optionsSchema, options, 'checkLinearizability');
  const parts = new Map<string, Operation<I, O>[]>();
  history.forEach((op, i) => {
    validate(op, i);
    const key = model.partitionKey ? model.partitionKey(op.input) : '';
    let list = parts.get(key);
    if (!list) parts.set(key, (list = []));
    list.push(op);
  });
  const exhausted: string[] = [];
  const keys = [...parts.keys()].sort();
  for (const key of keys) {
    const verdict = checkPartition(model, key, parts.get(key) as Operation<I, O>[], budget);
    if (verdict === 'budget') exhausted.push(key);
    else if (verdict !== 'ok') return { result: 'illegal', partitions: keys.length, explanation: verdict };
  }
  if (exhausted.length > 0) return { result: 'unknown', partitions: keys.length, exhausted };
  return { result: 'ok', partitions: keys.length };
}

function validate(op: Operation<unknown, unknown>, index: number): void {
  if (!Number.isFinite(op.call)) throw new InvalidHistoryError(index, `call time must be finite, got ${op.call}`);
  if (op.unknown) return;
  if (op.return === undefined || !Number.isFinite(op.return)) {
    throw new InvalidHistoryError(index, `return time must be finite unless the operation is unknown, got ${op.return}`);
  }
  if (op.return < op.call) {
    throw new InvalidHistoryError(index, `returns at ${op.return} before its call at ${op.call}`);
  }
}

/** Builds the doubly linked list of call/return events, sorted by time, calls first on ties. */
function buildEvents(ops: readonly Operation<unknown, unknown>[]): Event {
  const events: Event[] = [];
  ops.forEach((op, id) => {
    const ret: Event = { id, isCall: false, time: op.unknown ? Infinity : (op.return as number), match: null, prev: null, next: null };
    const call: Event = { id, isCall: true, time: op.call, match: ret, prev: null, next: null };
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Event = { id: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

function lift(call: Event): void {
  const ret = call.match as Event;
  (call.prev as Event).next = call.next;
  if (call.next) call.next.prev = call.prev;
  (ret.prev as Event).next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Event): void {
  const ret = call.match as Event;
  (ret.prev as Event).next = ret;
  if (ret.next) ret.next.prev = ret;
  (call.prev as Event).next = call;
  if (call.next) call.next.prev = call;
}

/** Zobrist keys so the linearized set's hash is updated in O(1) per step. */
function zobrist(n: number): Uint32Array {
  const prng = new Prng(0x5eed);
  const keys = new Uint32Array(n * 2);
  for (let i = 0; i < keys.length; i++) keys[i] = prng.nextUint32();
  return keys;
}

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  ops: readonly Operation<I, O>[],
  budget: number,
): 'ok' | 'budget' | IllegalExplanation<I, O> {
  const n = ops.length;
  if (n === 0) return 'ok';
  const head = buildEvents(ops);
  const zk = zobrist(n);
  const bits = new Uint32Array((n + 31) >>> 5);
  let h1 = 0;
  let h2 = 0;
  // cache: "h1:h2:stateHash" → bitsets seen with that hash (exact compare on collision)
  const cache = new Map<string, Uint32Array[]>();
  const stack: { call: Event; state: S }[] = [];
  let state = model.init();
  let entry = head.next as Event;
  let steps = 0;
  let best: { order: number[]; candidates: number[] } = { order: [], candidates: [] };

  const flip = (id: number): void => {
    bits[id >>> 5] = (bits[id >>> 5] as number) ^ (1 << (id & 31));
    h1 = (h1 ^ (zk[2 * id] as number)) >>> 0;
    h2 = (h2 ^ (zk[2 * id + 1] as number)) >>> 0;
  };
  const remember = (s: S): boolean => {
    const k = `${h1}:${h2}:${model.hash(s)}`;
    const seen = cache.get(k);
    if (seen) {
      for (const b of seen) if (sameBits(b, bits)) return false;
      seen.push(bits.slice());
    } else cache.set(k, [bits.slice()]);
    return true;
  };

  while (head.next !== null) {
    if (++steps > budget) return 'budget';
    if (entry.isCall) {
      const op = ops[entry.id] as Operation<I, O>;
      const unknown = op.unknown === true;
      const [ok, next] = model.step(state, op.input, unknown ? undefined : op.output, unknown);
      if (ok) {
        flip(entry.id);
        if (remember(next)) {
          stack.push({ call: entry, state });
          state = next;
          lift(entry);
          entry = head.next as Event;
          continue;
        }
        flip(entry.id);
      }
      entry = entry.next as Event;
    } else {
      // A return: every operation still in the list before it was a candidate and none fit.
      if (stack.length >= best.order.length) {
        const candidates: number[] = [];
        for (let e: Event | null = head.next; e && e !== entry; e = e.next) if (e.isCall) candidates.push(e.id);
        best = { order: stack.map((f) => f.call.id), candidates };
      }
      const frame = stack.pop();
      if (!frame) return explain(model, key, ops, best);
      state = frame.state;
      flip(frame.call.id);
      unlift(frame.call);
      entry = frame.call.next as Event;
    }
  }
  return 'ok';
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function explain<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  ops: readonly Operation<I, O>[],
  best: { order: number[]; candidates: number[] },
): IllegalExplanation<I, O> {
  const show = (id: number): string => {
    const op = ops[id] as Operation<I, O>;
    const what = model.describe
      ? model.describe(op.input, op.output, op.unknown === true)
      : `${JSON.stringify(op.input)} -> ${op.unknown ? '?' : JSON.stringify(op.output)}`;
    const end = op.unknown ? '?' : String(op.return);
    return `client ${op.clientId} ${what} [${op.call}, ${end}]`;
  };
  const linearized = best.order.map((id) => ops[id] as Operation<I, O>);
  const candidates = best.candidates.map((id) => ops[id] as Operation<I, O>);
  const tail = best.order.slice(-8);
  const lines = [
    `partition ${JSON.stringify(key)}: not linearizable`,
    `  longest linearizable prefix: ${best.order.length} operation(s)${tail.length < best.order.length ? ', last 8' : ''}:`,
    ...tail.map((id) => `    ${show(id)}`),
    '  none of these can come next:',
    ...best.candidates.map((id) => `    ${show(id)}`),
  ];
  return { partition: key, linearized, candidates, message: lines.join('\n') };
}
