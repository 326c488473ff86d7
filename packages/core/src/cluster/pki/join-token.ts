import { timingSafeEqual } from 'node:crypto';
import { InvalidOptionsError, parseOptions } from '@weft/interface';
import { z } from 'zod';
import { CorruptStateError } from '../../errors';
import { base32Decode, base32Encode, base32Length } from './base32';
import { ClusterCa } from './cluster-ca';
import { sha256 } from './digest';
import { InvalidJoinTokenError, JoinTokenCaMismatchError, JoinTokenRejectedError } from './errors';
import { caDigestOf } from './node-certificate';
import { generateTokenSchema, roleSchema } from './options';
import { NODE_ROLES, type NodeRole } from './profile';

/*
 * Join tokens, Swarm's SWMTKN model: `WEFT-1-<digest>-<secret>`.
 *
 * - `<digest>` pins the cluster CA: base32 of SHA-256 of the CA certificate's
 *   DER (52 characters). A joining node compares it with the CA certificate
 *   the manager presents before trusting that CA for anything.
 * - `<secret>` authenticates the joiner to the manager: 128 random bits as 26
 *   base32 characters. The store keeps only its SHA-256 (a uniformly random
 *   128-bit secret cannot be guessed from its hash, so neither a salt nor a
 *   slow password hash would add anything), compared in constant time.
 * - A token is per role: the manager and the worker token are different
 *   secrets with different records, and the role a joiner gets is the role of
 *   the record its secret matches. A worker token therefore cannot obtain a
 *   manager certificate by construction — there is no "requested role" to
 *   check against, and `ClusterCa.issue` is given the role that matched.
 * - Rotating a role's token = generating a new record for the role and
 *   replacing the stored one: the old secret then matches nothing.
 */

/** Every join token starts with this (format version 1). */
export const JOIN_TOKEN_PREFIX = 'WEFT-1-';
const DIGEST_BYTES = 32;
const SECRET_BYTES = 16;
/** Length of the `<secret>` part: 26 base32 characters (128 bits; the last character's 2 low bits are zero). */
export const JOIN_TOKEN_SECRET_LENGTH = base32Length(SECRET_BYTES);
/** Length of the `<digest>` part: 52 base32 characters (SHA-256; the last character's 4 low bits are zero). */
export const JOIN_TOKEN_DIGEST_LENGTH = base32Length(DIGEST_BYTES);
const TOKEN_LENGTH = JOIN_TOKEN_PREFIX.length + JOIN_TOKEN_DIGEST_LENGTH + 1 + JOIN_TOKEN_SECRET_LENGTH;

/** What the store keeps for a role's current join token: never the secret itself. */
export interface JoinTokenRecord {
  /** The role the token grants. */
  readonly role: NodeRole;
  /** SHA-256 of the token's `<secret>` text (its 26 ASCII characters), base64url without padding (43 characters). */
  readonly secretHash: string;
  /** When the token was generated (ms since the Unix epoch). */
  readonly createdAtMs: number;
}

/** The current token record of each role (a role without a record admits nobody). */
export interface JoinTokenRecords {
  readonly manager?: JoinTokenRecord;
  readonly worker?: JoinTokenRecord;
}

/** A freshly generated token: `token` goes to the operator (once), `record` to the store. */
export interface GeneratedJoinToken {
  readonly token: string;
  readonly record: JoinTokenRecord;
}

/** The parts of a join token. */
export interface ParsedJoinToken {
  /** Format version (1). */
  readonly version: 1;
  /** The pinned CA digest (52 base32 characters). */
  readonly caDigest: string;
  /** The secret (26 base32 characters). */
  readonly secret: string;
}

/** Options of {@link JoinTokens.generate}. */
export interface GenerateJoinTokenOptions {
  /** Wall clock for `createdAtMs` (ms since the Unix epoch). Default: the CA's clock. */
  readonly now?: () => number;
  /** Random bytes for the secret. Default: the CA's random source (node:crypto unless injected). */
  readonly randomBytes?: (length: number) => Uint8Array;
}

const recordSchema = z.object({
  role: roleSchema,
  secretHash: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  createdAtMs: z.number().int().min(0),
});
const recordsSchema = z.object({ manager: recordSchema.optional(), worker: recordSchema.optional() });
const caDigestSchema = z.object({
  caDigest: z.string().refine((d) => d.length === JOIN_TOKEN_DIGEST_LENGTH && base32Decode(d, DIGEST_BYTES) !== undefined, 'must be a CA digest (52 base32 characters)'),
});

const hashSecret = (secret: string): Uint8Array => sha256(secret);

/** Generating join tokens (see {@link verifyJoinToken} and {@link parseJoinToken} for the other side). */
export class JoinTokens {
  private constructor() {}

  /**
   * A new join token for `role`, pinning `ca`. Replacing the role's stored
   * record with the returned one rotates the token: the previous token of
   * the role is rejected from then on. The token text is shown once; only
   * `record` (a hash) is stored.
   * @throws InvalidOptionsError when `ca` is not a ClusterCa, `role` is not manager/worker, or an option is invalid.
   */
  static generate(ca: ClusterCa, role: NodeRole, options?: GenerateJoinTokenOptions): GeneratedJoinToken {
    const o = parseOptions(generateTokenSchema, options, 'JoinTokens.generate');
    if (!(ca instanceof ClusterCa)) throw new InvalidOptionsError('ca', 'JoinTokens.generate: option "ca" must be a ClusterCa');
    const r = parseOptions(z.object({ role: roleSchema }), { role }, 'JoinTokens.generate');
    const bytes = (o.randomBytes ?? ca.randomBytes)(SECRET_BYTES);
    if (!(bytes instanceof Uint8Array) || bytes.length !== SECRET_BYTES) {
      throw new InvalidOptionsError('randomBytes', `JoinTokens.generate: option "randomBytes" did not return ${SECRET_BYTES} bytes`);
    }
    const secret = base32Encode(bytes);
    const record: JoinTokenRecord = {
      role: r.role,
      secretHash: Buffer.from(hashSecret(secret)).toString('base64url'),
      createdAtMs: (o.now ?? ca.clock)(),
    };
    return { token: `${JOIN_TOKEN_PREFIX}${ca.digest}-${secret}`, record };
  }
}

/**
 * Splits a join token into its parts, checking its shape strictly: exactly
 * `WEFT-1-<52 base32>-<26 base32>`, lowercase, canonical base32 (no stray
 * padding bits), no surrounding whitespace. Does not check the secret.
 * @throws InvalidJoinTokenError naming the part that is wrong (never echoing the token).
 */
export function parseJoinToken(text: string): ParsedJoinToken {
  if (typeof text !== 'string') throw new InvalidJoinTokenError(`expected text, got ${text === null ? 'null' : typeof text}`);
  if (text.length > 4 * TOKEN_LENGTH) throw new InvalidJoinTokenError(`${text.length} characters is far too long (a token has ${TOKEN_LENGTH})`);
  const parts = text.split('-');
  if (parts.length !== 4) throw new InvalidJoinTokenError(`expected 4 "-"-separated parts (WEFT-1-<digest>-<secret>), found ${parts.length}`);
  const [prefix, version, digest, secret] = parts as [string, string, string, string];
  if (prefix !== 'WEFT') throw new InvalidJoinTokenError('it does not start with "WEFT-"');
  if (version !== '1') throw new InvalidJoinTokenError(`unsupported version${/^[0-9]{1,4}$/.test(version) ? ` ${version}` : ''} (expected 1)`);
  if (digest.length !== JOIN_TOKEN_DIGEST_LENGTH) throw new InvalidJoinTokenError(`the CA digest has ${digest.length} characters, expected ${JOIN_TOKEN_DIGEST_LENGTH}`);
  if (base32Decode(digest, DIGEST_BYTES) === undefined) throw new InvalidJoinTokenError('the CA digest is not canonical lowercase base32 (a-z, 2-7)');
  if (secret.length !== JOIN_TOKEN_SECRET_LENGTH) throw new InvalidJoinTokenError(`the secret has ${secret.length} characters, expected ${JOIN_TOKEN_SECRET_LENGTH}`);
  if (base32Decode(secret, SECRET_BYTES) === undefined) throw new InvalidJoinTokenError('the secret is not canonical lowercase base32 (a-z, 2-7)');
  return { version: 1, caDigest: digest, secret };
}

/**
 * A manager's check of a joiner's token: returns the role it grants. The
 * token must pin `caDigest` (the manager's current CA, `ClusterCa.digest`),
 * and the SHA-256 of its secret must equal the hash in one of `records`
 * (compared with `crypto.timingSafeEqual`, against every record, so the time
 * taken does not say how much — or which role — matched). The role is that
 * record's: pass it to `ClusterCa.issue`.
 * @param records - the roles' current token records, as read from the store.
 * @throws InvalidJoinTokenError when the token is malformed.
 * @throws JoinTokenCaMismatchError when it pins another CA.
 * @throws JoinTokenRejectedError when its secret matches no record (unknown, or rotated away).
 * @throws CorruptStateError when `records` is not a valid set of token records.
 * @throws InvalidOptionsError when `caDigest` is not a CA digest.
 */
export function verifyJoinToken(token: string, records: JoinTokenRecords, caDigest: string): NodeRole {
  const expected = parseOptions(caDigestSchema, { caDigest }, 'verifyJoinToken').caDigest;
  const parsed = parseJoinToken(token);
  if (parsed.caDigest !== expected) throw new JoinTokenCaMismatchError(parsed.caDigest, expected);
  const recs = recordsSchema.safeParse(records);
  if (!recs.success) throw new CorruptStateError(`join token records do not parse: ${recs.error.issues[0]?.path.join('.') ?? ''} ${recs.error.issues[0]?.message ?? ''}`.trim(), { cause: recs.error });
  const presented = hashSecret(parsed.secret);
  let granted: NodeRole | undefined;
  for (const role of NODE_ROLES) {
    const rec = recs.data[role];
    if (rec === undefined) continue;
    if (rec.role !== role) throw new CorruptStateError(`the ${role} join token record says role ${JSON.stringify(rec.role)}`);
    const stored = Buffer.from(rec.secretHash, 'base64url');
    if (stored.length === presented.length && timingSafeEqual(stored, presented) && granted === undefined) granted = role;
  }
  if (granted === undefined) throw new JoinTokenRejectedError();
  return granted;
}

/**
 * A joining node's check, before it trusts anything a manager says: the CA
 * certificate the manager presented must be the one the token pins.
 * @returns the parsed token.
 * @throws InvalidJoinTokenError when the token is malformed.
 * @throws MalformedCertificateError when `caPem` is not a Weft cluster CA certificate.
 * @throws JoinTokenCaMismatchError when the presented CA is not the pinned one.
 */
export function verifyJoinTokenCa(token: string, caPem: string): ParsedJoinToken {
  const parsed = parseJoinToken(token);
  const presented = caDigestOf(caPem);
  if (parsed.caDigest !== presented) throw new JoinTokenCaMismatchError(parsed.caDigest, presented);
  return parsed;
}
