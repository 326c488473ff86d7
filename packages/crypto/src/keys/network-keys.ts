import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { KeyPlanError } from '../errors';
import { generationSchema, secretSchema, suiteNameSchema } from '../options';
import type { SuiteName } from '../suite';
import { planKeySteps, type KeyStep } from './key-plan';
import { KeyRing } from './key-ring';

/** A network's keys as the control plane gives them: the suite, every live generation's secret, the send generation. */
export interface NetworkKeySet {
  readonly suite: SuiteName;
  /** Every generation accepted for receiving (any order, no repeats). */
  readonly keys: readonly { readonly generation: number; readonly secret: Uint8Array }[];
  /** The generation used for sending (one of `keys`). */
  readonly sendGeneration: number;
}

const keySetSchema = z
  .object({
    suite: suiteNameSchema,
    keys: z.array(z.object({ generation: generationSchema, secret: secretSchema })).min(1),
    sendGeneration: generationSchema,
  })
  .refine((e) => new Set(e.keys.map((k) => k.generation)).size === e.keys.length, { path: ['keys'], message: 'must not repeat a generation' })
  .refine((e) => e.keys.some((k) => k.generation === e.sendGeneration), { path: ['sendGeneration'], message: 'must be one of the generations in keys' });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function stateOf(e: NetworkKeySet): { generations: number[]; send: number } {
  return { generations: e.keys.map((k) => k.generation), send: e.sendGeneration };
}

/**
 * An encrypted network's `KeyRing` and the secrets installed in it (copies,
 * wiped when retired), so the keys can be read back: the ring says which
 * generations are live and which one sends; the copies give their bytes (a
 * `KeyRing` does not hand its secrets out). Every data plane that seals a
 * network's traffic keeps one, and brings it to the control plane's keys with
 * {@link NetworkKeys.apply}, which runs the ring's three phases in an order
 * it accepts ({@link planKeySteps}).
 */
export class NetworkKeys {
  private readonly secrets = new Map<number, Uint8Array>();

  private constructor(
    /** The ring the network's `EncryptedUnderlay` follows. */
    readonly ring: KeyRing,
    first: Uint8Array,
    firstGeneration: number,
  ) {
    this.secrets.set(firstGeneration, Uint8Array.from(first));
  }

  /**
   * A ring in state `keys`: built with its oldest generation, then the
   * others installed and the send generation activated.
   * @throws InvalidOptionsError naming the bad field of `keys`.
   * @throws KeyPlanError when the generations cannot coexist in one ring (shared low 8 bits).
   */
  static create(keys: NetworkKeySet): NetworkKeys {
    const e = parseOptions(keySetSchema, keys, 'NetworkKeys.create') as NetworkKeySet;
    const first = [...e.keys].sort((a, b) => a.generation - b.generation)[0]!;
    const steps = planKeySteps({ generations: [first.generation], send: first.generation }, stateOf(e));
    const ring = new KeyRing({ secret: first.secret, generation: first.generation, suite: e.suite });
    const out = new NetworkKeys(ring, first.secret, first.generation);
    out.run(steps, e);
    return out;
  }

  /**
   * Brings the ring to `keys` (same suite) with the fewest phases, in an
   * order the ring accepts (see {@link planKeySteps}). Checks everything
   * first: on failure nothing changed.
   * @throws InvalidOptionsError naming the bad field of `keys`.
   * @throws KeyPlanError when no such order exists, the suite differs, or a live generation's secret differs.
   */
  apply(keys: NetworkKeySet): void {
    const e = parseOptions(keySetSchema, keys, 'NetworkKeys.apply') as NetworkKeySet;
    if (e.suite !== this.ring.suite) throw new KeyPlanError(`the suite is ${this.ring.suite}; ${e.suite} needs a new ring`);
    for (const k of e.keys) {
      const mine = this.secrets.get(k.generation);
      if (mine !== undefined && !sameBytes(mine, k.secret)) {
        throw new KeyPlanError(`generation ${k.generation} is installed with another secret; remove and re-add the network to replace it`);
      }
    }
    this.run(planKeySteps({ generations: this.ring.receiveGenerations, send: this.ring.sendGeneration }, stateOf(e)), e);
  }

  /** What the ring holds now (ascending generations; secrets are fresh copies). */
  read(): NetworkKeySet {
    return {
      suite: this.ring.suite,
      keys: this.ring.receiveGenerations.map((generation) => ({ generation, secret: Uint8Array.from(this.secrets.get(generation) ?? []) })),
      sendGeneration: this.ring.sendGeneration,
    };
  }

  /** Wipes the secret copies and disposes of the ring (its own copies zero-filled): the network is going away. */
  wipe(): void {
    for (const s of this.secrets.values()) s.fill(0);
    this.secrets.clear();
    this.ring.dispose();
  }

  private run(steps: readonly KeyStep[], keys: NetworkKeySet): void {
    // The plan was checked against the ring's rules: a throw here is a bug, and it surfaces as is.
    for (const step of steps) {
      if (step.phase === 'install') {
        const secret = keys.keys.find((k) => k.generation === step.generation)!.secret;
        this.ring.install(step.generation, secret);
        this.secrets.set(step.generation, Uint8Array.from(secret));
      } else if (step.phase === 'activate') {
        this.ring.activate(step.generation);
      } else {
        this.ring.retire(step.generation);
        this.secrets.get(step.generation)?.fill(0);
        this.secrets.delete(step.generation);
      }
    }
  }
}
