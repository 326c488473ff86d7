import { parseOptions } from '@weft/interface';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { KeyAgreementError } from '../errors';
import { hkdfSha256 } from '../keys/hkdf';
import { anyBytesSchema, bytesSchema, invalidArgument } from '../options';

/** The public half of an `Identity`, safe to publish. */
export interface PublicIdentity {
  /** Ed25519 public key, 32 bytes. */
  readonly signingKey: Uint8Array;
  /** X25519 public key, 32 bytes. */
  readonly agreementKey: Uint8Array;
}

/** Ed25519 signature length, bytes. */
export const SIGNATURE_LENGTH = 64;
/** Length of the secret `sharedSecret` returns, bytes. */
export const SHARED_SECRET_LENGTH = 32;

const encoder = new TextEncoder();
const X25519_FROM_SEED_SALT = encoder.encode('weft/crypto/v1 identity');
const SHARED_SECRET_SALT = encoder.encode('weft/crypto/v1 shared-secret');

const key32 = bytesSchema(32);
const seedSchema = z.object({ seed: key32 });
const keysSchema = z.object({ signingSeed: key32, agreementSecretKey: key32 });
const generateSchema = z.object({
  random: z.custom<(length: number) => Uint8Array>((v) => typeof v === 'function', { message: 'must be a function (length) => Uint8Array' }),
});
const messageSchema = z.object({ message: anyBytesSchema });
const peerKeySchema = z.object({ peerAgreementKey: key32 });
const sharedSecretSchema = z.object({ peerAgreementKey: key32, context: z.string() });

/**
 * A node's long-term identity: an Ed25519 signing key pair and an X25519
 * key-agreement key pair (tweetnacl). Core uses it for join tokens and for
 * authenticating control messages.
 */
export class Identity {
  private readonly signSecret: Uint8Array;
  private readonly boxSecret: Uint8Array;
  /** The public keys. */
  readonly publicIdentity: PublicIdentity;

  private constructor(signingSeed: Uint8Array, agreementSecretKey: Uint8Array) {
    const sign = nacl.sign.keyPair.fromSeed(signingSeed);
    const box = nacl.box.keyPair.fromSecretKey(agreementSecretKey);
    this.signSecret = sign.secretKey;
    this.boxSecret = box.secretKey;
    this.publicIdentity = { signingKey: sign.publicKey, agreementKey: box.publicKey };
  }

  /**
   * A new identity from `random` (default tweetnacl's CSPRNG, which uses
   * `crypto.getRandomValues`); inject a seeded source only in tests.
   * @throws InvalidOptionsError (`field` `random`) when `random` is not a function or does not return 32 bytes.
   */
  static generate(random: (length: number) => Uint8Array = nacl.randomBytes): Identity {
    parseOptions(generateSchema, { random }, 'Identity.generate');
    const seed = random(32);
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw invalidArgument('Identity.generate', 'random', 'must return a Uint8Array of 32 bytes for random(32)', seed);
    }
    return Identity.fromSeed(seed);
  }

  /**
   * Deterministic identity from one 32-byte seed: Ed25519 from the seed, the
   * X25519 secret from HKDF-SHA256(seed). Keep the seed secret.
   * @throws InvalidOptionsError (`field` `seed`) when `seed` is not 32 bytes.
   */
  static fromSeed(seed: Uint8Array): Identity {
    parseOptions(seedSchema, { seed }, 'Identity.fromSeed');
    const x = hkdfSha256(seed, X25519_FROM_SEED_SALT, encoder.encode('x25519'), 32);
    return new Identity(seed, x);
  }

  /**
   * Identity from explicit keys: an Ed25519 seed (32 bytes) and an X25519
   * secret key (32 bytes). Both copied by tweetnacl.
   * @throws InvalidOptionsError whose `field` names the key of the wrong length.
   */
  static fromKeys(keys: { signingSeed: Uint8Array; agreementSecretKey: Uint8Array }): Identity {
    const k = parseOptions(keysSchema, keys, 'Identity.fromKeys');
    return new Identity(k.signingSeed, k.agreementSecretKey);
  }

  /**
   * Ed25519 detached signature (64 bytes, new buffer) of `message`.
   * @throws InvalidOptionsError (`field` `message`) when `message` is not a Uint8Array.
   */
  sign(message: Uint8Array): Uint8Array {
    parseOptions(messageSchema, { message }, 'Identity.sign');
    return nacl.sign.detached(message, this.signSecret);
  }

  /**
   * Whether `signature` is a valid Ed25519 signature of `message` by
   * `signingKey`. Returns false (never throws) for wrong lengths.
   */
  static verify(message: Uint8Array, signature: Uint8Array, signingKey: Uint8Array): boolean {
    if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(signingKey instanceof Uint8Array)) return false;
    if (signature.length !== SIGNATURE_LENGTH || signingKey.length !== 32) return false;
    return nacl.sign.detached.verify(message, signature, signingKey);
  }

  /**
   * Raw X25519 output with `peerAgreementKey` (32 bytes).
   * @throws KeyAgreementError for a low-order peer key.
   * @throws InvalidOptionsError (`field` `peerAgreementKey`) when the key is not 32 bytes.
   */
  agree(peerAgreementKey: Uint8Array): Uint8Array {
    parseOptions(peerKeySchema, { peerAgreementKey }, 'Identity.agree');
    const raw = nacl.scalarMult(this.boxSecret, peerAgreementKey);
    if (raw.every((b) => b === 0)) throw new KeyAgreementError('X25519 produced an all-zero secret: the peer key is a low-order point');
    return raw;
  }

  /**
   * A 32-byte secret both sides derive alike: HKDF-SHA256 over the X25519
   * output, salted with a label, with info = `context` ‖ the two agreement
   * public keys in byte order (so it binds both parties and the purpose).
   * @throws KeyAgreementError for a low-order peer key.
   * @throws InvalidOptionsError (`field` `peerAgreementKey` or `context`) when the key is not 32 bytes or the context not a string.
   */
  sharedSecret(peerAgreementKey: Uint8Array, context: string): Uint8Array {
    parseOptions(sharedSecretSchema, { peerAgreementKey, context }, 'Identity.sharedSecret');
    const raw = this.agree(peerAgreementKey);
    const mine = this.publicIdentity.agreementKey;
    const [a, b] = Buffer.compare(mine, peerAgreementKey) <= 0 ? [mine, peerAgreementKey] : [peerAgreementKey, mine];
    const ctx = encoder.encode(context);
    const info = new Uint8Array(ctx.length + 1 + 64);
    info.set(ctx, 0);
    info.set(a, ctx.length + 1);
    info.set(b, ctx.length + 33);
    return hkdfSha256(raw, SHARED_SECRET_SALT, info, SHARED_SECRET_LENGTH);
  }
}
