import { NetworkKeys as RingKeys, type KeyRing } from '@weft/crypto';
import { asKeyTransition } from './key-plan';
import type { Encryption } from './spec-schemas';

/**
 * An encrypted network's `KeyRing` and the secrets installed in it: `@weft/crypto`'s
 * `NetworkKeys` (one copy of the key-ring logic, shared with the kernel
 * plane), with its `KeyPlanError` reported as this plane's `KeyTransitionError`.
 */
export class NetworkKeys {
  private constructor(
    private readonly keys: RingKeys,
    private readonly networkId: string,
  ) {}

  /** The ring the network's `EncryptedUnderlay` follows. */
  get ring(): KeyRing {
    return this.keys.ring;
  }

  /**
   * A ring in state `encryption`.
   * @throws KeyTransitionError when the generations cannot coexist in one ring (shared low 8 bits).
   */
  static create(networkId: string, encryption: Encryption): NetworkKeys {
    try {
      return new NetworkKeys(RingKeys.create(encryption), networkId);
    } catch (err) {
      throw asKeyTransition(err, networkId);
    }
  }

  /**
   * Brings the ring to `encryption` (same suite) with the fewest phases.
   * Checks everything first: on failure nothing changed.
   * @throws KeyTransitionError when no such order exists or a live generation's secret differs.
   */
  apply(encryption: Encryption): void {
    try {
      this.keys.apply(encryption);
    } catch (err) {
      throw asKeyTransition(err, this.networkId);
    }
  }

  /** What the ring holds now, in the seam's shape (ascending generations; secrets are fresh copies). */
  read(): Encryption {
    return this.keys.read();
  }

  /** Wipes the secret copies and disposes of the ring: the network is going away. */
  wipe(): void {
    this.keys.wipe();
  }
}
