import { KeyPlanError } from '../errors';

/** Which generations a `KeyRing` holds and sends with. */
export interface KeyState {
  /** Generations accepted for receiving (any order, no repeats). */
  readonly generations: readonly number[];
  /** The generation used for sending (one of `generations`). */
  readonly send: number;
}

/** One call on a `KeyRing`, in the order the plan lists them. */
export interface KeyStep {
  readonly phase: 'install' | 'activate' | 'retire';
  readonly generation: number;
}

const ascending = (a: number, b: number): number => a - b;

/**
 * The `KeyRing` calls that take it from `from` to `to`, in an order the ring
 * accepts (it only installs generations newer than every installed one and
 * differing from them in the low 8 bits, only activates a newer generation,
 * only retires generations older than the send generation):
 * 1. retire what `to` drops and is already older than the send generation
 *    (this also frees SPI bytes for what comes next);
 * 2. install what `to` adds, ascending;
 * 3. activate `to.send` when it changed;
 * 4. retire the rest of what `to` drops.
 * A node that missed rotations therefore goes from {1} send 1 to {3} send 3 as
 * install 3, activate 3, retire 1. Pure: reads its arguments only.
 * @throws KeyPlanError when no such order exists (an older send generation, a
 * generation older than an installed one, a kept generation newer than the
 * send generation dropped, two live generations sharing their low 8 bits);
 * the message says which.
 */
export function planKeySteps(from: KeyState, to: KeyState): KeyStep[] {
  const fail = (reason: string): never => {
    throw new KeyPlanError(reason);
  };
  const target = new Set(to.generations);
  if (!target.has(to.send)) fail(`send generation ${to.send} is not among the generations ${[...target].sort(ascending).join(', ')}`);
  const live = new Set(from.generations);
  let send = from.send;
  const steps: KeyStep[] = [];
  const retire = (g: number): void => {
    live.delete(g);
    steps.push({ phase: 'retire', generation: g });
  };
  for (const g of [...live].sort(ascending)) if (!target.has(g) && g < send) retire(g);
  for (const g of [...target].sort(ascending)) {
    if (live.has(g)) continue;
    const newest = Math.max(...live);
    if (g <= newest) fail(`cannot install generation ${g}: generation ${newest} is installed and a key ring only installs newer ones`);
    const twin = [...live].find((l) => (l & 0xff) === (g & 0xff));
    if (twin !== undefined) fail(`cannot install generation ${g}: live generation ${twin} has the same low 8 bits (SPI byte) and cannot be retired first`);
    live.add(g);
    steps.push({ phase: 'install', generation: g });
  }
  if (to.send !== send) {
    if (to.send < send) fail(`cannot go back from send generation ${send} to ${to.send}`);
    send = to.send;
    steps.push({ phase: 'activate', generation: send });
  }
  for (const g of [...live].sort(ascending)) {
    if (target.has(g)) continue;
    if (g >= send) fail(`cannot drop generation ${g}: it is not older than the send generation ${send}`);
    retire(g);
  }
  return steps;
}
