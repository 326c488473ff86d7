import { KeyRing } from '@weft/crypto';
import { KeyTransitionError } from './errors';
import { planKeySteps, type KeyStep } from './key-plan';
import type { Encryption } from './spec-schemas';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * An encrypted network's `KeyRing` and the secrets this plane installed in
 * it (copies, wiped when retired), so the keys can be read back: the ring
 * says which generations are live and which one sends; the copies give their
 * bytes (a `KeyRing` does not hand its secrets out).
 */
export class NetworkKeys {
  private readonly secrets = new Map<number, Uint8Array>();

  private constructor(
    /** The ring the network's `EncryptedUnderlay` follows. */
    readonly ring: KeyRing,
    private readonly networkId: string,
    first: Uint8Array,
    firstGeneration: number,
  ) {
    this.secrets.set(firstGeneration, Uint8Array.from(first));
  }

  /**
   * A ring in state `encryption`: built with its oldest generation, then the
   * others installed and the send generation activated.
   * @throws KeyTransitionError when the generations cannot coexist in one ring (shared low 8 bits).
   */
  static create(networkId: string, encryption: Encryption): NetworkKeys {
    const first = encryption.keys[0]!;
    const steps = planKeySteps({ generations: [first.generation], send: first.generation }, toState(encryption), networkId);
    const ring = new KeyRing({ secret: first.secret, generation: first.generation, suite: encryption.suite });
    const keys = new NetworkKeys(ring, networkId, first.secret, first.generation);
    keys.run(steps, encryption);
    return keys;
  }

  /**
   * Brings the ring to `encryption` (same suite) with the fewest phases, in
   * an order the ring accepts (see `planKeySteps`). Checks everything first:
   * on failure nothing changed.
   * @throws KeyTransitionError when no such order exists or a live generation's secret differs.
   */
  apply(encryption: Encryption): void {
    for (const k of encryption.keys) {
      const mine = this.secrets.get(k.generation);
      if (mine !== undefined && !sameBytes(mine, k.secret)) {
        throw new KeyTransitionError(this.networkId, `generation ${k.generation} is installed with another secret; remove and re-add the network to replace it`);
      }
    }
    const steps = planKeySteps({ generations: this.ring.receiveGenerations, send: this.ring.sendGeneration }, toState(encryption), this.networkId);
    this.run(steps, encryption);
  }

  /** What the ring holds now, in the seam's shape (ascending generations; secrets are fresh copies). */
  read(): Encryption {
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

  private run(steps: readonly KeyStep[], encryption: Encryption): void {
    // The plan was checked against the ring's rules: a throw here is a bug, and it surfaces as is.
    for (const step of steps) {
      if (step.phase === 'install') {
        const secret = encryption.keys.find((k) => k.generation === step.generation)!.secret;
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

function toState(e: Encryption): { generations: number[]; send: number } {
  return { generations: e.keys.map((k) => k.generation), send: e.sendGeneration };
}
