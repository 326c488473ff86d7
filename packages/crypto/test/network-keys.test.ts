/**
 * `NetworkKeys` (the key-ring logic every data plane shares): a ring built
 * in any valid state, brought through rotations with the fewest phases in
 * an order the ring accepts, refusing what it cannot get to with
 * `KeyPlanError` (nothing changed), read back with copies of the secrets.
 */
import { KeyPlanError, NetworkKeys, planKeySteps, type NetworkKeySet } from '../src';
import { isWeftError } from '@weft/interface';

const secret = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const set = (gens: number[], send: number): NetworkKeySet => ({ suite: 'aes-256-gcm', keys: gens.map((g) => ({ generation: g, secret: secret(g) })), sendGeneration: send });

describe('NetworkKeys', () => {
  it('builds, rotates and reads back; a node that missed rotations jumps', () => {
    const k = NetworkKeys.create(set([1, 2], 1));
    expect(k.ring.receiveGenerations).toEqual([1, 2]);
    expect(k.ring.sendGeneration).toBe(1);
    k.apply(set([3], 3)); // missed 2 → send 2 → retire 1 → ...: install 3, activate 3, retire 1 and 2
    expect(k.read()).toEqual(set([3], 3));
    expect(planKeySteps({ generations: [1], send: 1 }, { generations: [3], send: 3 })).toEqual([
      { phase: 'install', generation: 3 },
      { phase: 'activate', generation: 3 },
      { phase: 'retire', generation: 1 },
    ]);
    k.wipe();
  });

  it('refuses what the ring cannot get to, changing nothing', () => {
    const k = NetworkKeys.create(set([1, 2], 2));
    const refused = (e: NetworkKeySet): unknown => {
      try {
        k.apply(e);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    for (const bad of [set([1, 2], 1), { ...set([2], 2), keys: [{ generation: 2, secret: secret(9) }] }, set([2, 258], 2), { ...set([2], 2), suite: 'xsalsa20-poly1305' as const }]) {
      const err = refused(bad);
      expect(err).toBeInstanceOf(KeyPlanError);
      expect(isWeftError(err, 'ERR_KEY_PLAN')).toBe(true);
    }
    expect(k.read()).toEqual(set([1, 2], 2));
    expect(() => NetworkKeys.create({ ...set([1], 1), sendGeneration: 4 })).toThrow(/sendGeneration/);
    k.wipe();
  });
});
