/**
 * Join tokens (`WEFT-1-<digest>-<secret>`): format, strict parsing of every
 * malformed shape, CA pinning on both sides, per-role records that never hold
 * the secret, rotation, and a property test over the secret.
 */
import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { CorruptStateError } from '../../src/errors';
import {
  caDigestOf,
  ClusterCa,
  InvalidJoinTokenError,
  JOIN_TOKEN_DIGEST_LENGTH,
  JOIN_TOKEN_SECRET_LENGTH,
  JoinTokenCaMismatchError,
  JoinTokenRejectedError,
  JoinTokens,
  MalformedCertificateError,
  parseJoinToken,
  verifyJoinToken,
  verifyJoinTokenCa,
  type JoinTokenRecords,
} from '../../src/cluster/pki';
import { issueNode, thrownBy } from './pki-helpers';

const TOKEN = /^WEFT-1-[a-z2-7]{52}-[a-z2-7]{26}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

describe('join tokens', () => {
  let ca: ClusterCa;
  let otherCa: ClusterCa;
  beforeAll(async () => {
    ca = await ClusterCa.create({ clusterId: 'c1', now: () => 1_700_000_000_000 });
    otherCa = await ClusterCa.create({ clusterId: 'c1' });
  });

  it('have the format WEFT-1-<52 base32 digest of the CA DER>-<26 base32 secret>', () => {
    const { token, record } = JoinTokens.generate(ca, 'worker');
    expect(token).toMatch(TOKEN);
    expect(token).toHaveLength(86);
    expect([JOIN_TOKEN_DIGEST_LENGTH, JOIN_TOKEN_SECRET_LENGTH]).toEqual([52, 26]);
    const parsed = parseJoinToken(token);
    expect(parsed).toEqual({ version: 1, caDigest: ca.digest, secret: token.slice(-26) });
    expect(parsed.caDigest).toBe(caDigestOf(ca.certificatePem));
    expect(record).toEqual({ role: 'worker', secretHash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), createdAtMs: 1_700_000_000_000 });
  });

  it('pin the CA by the SHA-256 of its DER (checked against node:crypto)', () => {
    const der = new X509Certificate(ca.certificatePem).raw;
    const sha = createHash('sha256').update(der).digest();
    // base32 of the digest, recomputed here bit by bit.
    let bits = '';
    for (const b of sha) bits += b.toString(2).padStart(8, '0');
    bits = bits.padEnd(Math.ceil(bits.length / 5) * 5, '0');
    let expected = '';
    for (let i = 0; i < bits.length; i += 5) expected += ALPHABET[parseInt(bits.slice(i, i + 5), 2)];
    expect(ca.digest).toBe(expected);
  });

  it('never store the secret: the record holds only its hash', () => {
    const { token, record } = JoinTokens.generate(ca, 'manager');
    const { secret } = parseJoinToken(token);
    const json = JSON.stringify(record);
    expect(json).not.toContain(secret);
    expect(json).not.toContain(secret.toUpperCase());
    expect(json).not.toContain(Buffer.from(secret).toString('base64url'));
    expect(Object.keys(record).sort()).toEqual(['createdAtMs', 'role', 'secretHash']);
  });

  it('grant the role of the record the secret matches', () => {
    const m = JoinTokens.generate(ca, 'manager');
    const w = JoinTokens.generate(ca, 'worker');
    const records: JoinTokenRecords = { manager: m.record, worker: w.record };
    expect(verifyJoinToken(m.token, records, ca.digest)).toBe('manager');
    expect(verifyJoinToken(w.token, records, ca.digest)).toBe('worker');
    // The worker token grants nothing where only a manager record exists (a role has no say).
    expect(thrownBy(() => verifyJoinToken(w.token, { manager: m.record }, ca.digest))).toBeInstanceOf(JoinTokenRejectedError);
  });

  it('are rejected once rotated: the new record replaces the old, so the old secret matches nothing', () => {
    const first = JoinTokens.generate(ca, 'worker');
    const manager = JoinTokens.generate(ca, 'manager');
    let records: JoinTokenRecords = { manager: manager.record, worker: first.record };
    expect(verifyJoinToken(first.token, records, ca.digest)).toBe('worker');
    const rotated = JoinTokens.generate(ca, 'worker');
    records = { ...records, worker: rotated.record };
    expect(thrownBy(() => verifyJoinToken(first.token, records, ca.digest))).toBeInstanceOf(JoinTokenRejectedError);
    expect(verifyJoinToken(rotated.token, records, ca.digest)).toBe('worker');
    expect(verifyJoinToken(manager.token, records, ca.digest)).toBe('manager');
    // No records at all: nobody joins.
    expect(thrownBy(() => verifyJoinToken(rotated.token, {}, ca.digest))).toBeInstanceOf(JoinTokenRejectedError);
  });

  it('are rejected by a manager whose CA is not the pinned one (a token of another cluster, or of a replaced CA)', () => {
    const { token, record } = JoinTokens.generate(otherCa, 'worker');
    const err = thrownBy(() => verifyJoinToken(token, { worker: record }, ca.digest));
    expect(err).toBeInstanceOf(JoinTokenCaMismatchError);
    expect(err).toMatchObject({ tokenDigest: otherCa.digest, caDigest: ca.digest });
  });

  it('let a joining node check the CA certificate a manager presents against the pin', async () => {
    const { token } = JoinTokens.generate(ca, 'worker');
    expect(verifyJoinTokenCa(token, ca.certificatePem).caDigest).toBe(ca.digest);
    // An impostor presenting its own CA (even with the same cluster id and names) is caught.
    expect(thrownBy(() => verifyJoinTokenCa(token, otherCa.certificatePem))).toBeInstanceOf(JoinTokenCaMismatchError);
    // A node certificate is not a CA certificate.
    const node = await issueNode(ca, 'n1', 'worker');
    expect(thrownBy(() => verifyJoinTokenCa(token, node.certPem))).toBeInstanceOf(MalformedCertificateError);
  });

  describe('parse errors', () => {
    let good: string;
    let digest: string;
    let secret: string;
    beforeAll(() => {
      good = JoinTokens.generate(ca, 'worker').token;
      ({ caDigest: digest, secret } = parseJoinToken(good));
    });
    const cases: Array<[string, () => unknown, RegExp]> = [
      ['not text', () => 42, /expected text/],
      ['empty', () => '', /expected 4 "-"-separated parts/],
      ['too few parts', () => `WEFT-1-${digest}`, /expected 4/],
      ['too many parts', () => `WEFT-1-${digest}-${secret}-x`, /expected 4/],
      ['wrong prefix', () => `SWMTKN-1-${digest}-${secret}`, /does not start with "WEFT-"/],
      ['lowercase prefix', () => `weft-1-${digest}-${secret}`, /does not start with "WEFT-"/],
      ['wrong version', () => `WEFT-2-${digest}-${secret}`, /unsupported version 2/],
      ['empty version', () => `WEFT--${digest}-${secret}`, /unsupported version/],
      ['digest too short', () => `WEFT-1-${digest.slice(1)}-${secret}`, /CA digest has 51 characters, expected 52/],
      ['digest too long', () => `WEFT-1-${digest}a-${secret}`, /CA digest has 53 characters/],
      ['digest outside the alphabet (digit 1)', () => `WEFT-1-1${digest.slice(1)}-${secret}`, /CA digest is not canonical/],
      ['digest in upper case', () => `WEFT-1-${digest.toUpperCase()}-${secret}`, /CA digest is not canonical/],
      ['digest with non-zero padding bits', () => `WEFT-1-${digest.slice(0, 51)}${ALPHABET[ALPHABET.indexOf(digest[51]!) | 1]}-${secret}`, /CA digest is not canonical/],
      ['secret too short', () => `WEFT-1-${digest}-${secret.slice(1)}`, /secret has 25 characters, expected 26/],
      ['secret too long', () => `WEFT-1-${digest}-${secret}a`, /secret has 27 characters/],
      ['secret outside the alphabet (digit 8)', () => `WEFT-1-${digest}-8${secret.slice(1)}`, /secret is not canonical/],
      ['secret with non-zero padding bits', () => `WEFT-1-${digest}-${secret.slice(0, 25)}${ALPHABET[ALPHABET.indexOf(secret[25]!) | 1]}`, /secret is not canonical/],
      ['surrounding whitespace', () => ` ${good}\n`, /does not start|secret has/],
      ['absurdly long', () => 'W'.repeat(100_000), /far too long/],
    ];
    it.each(cases)('%s', (_name, make, message) => {
      const text = make() as string;
      const err = thrownBy(() => parseJoinToken(text));
      expect(err).toBeInstanceOf(InvalidJoinTokenError);
      expect((err as Error).message).toMatch(message);
      // The message never repeats the secret.
      expect((err as Error).message).not.toContain(secret.slice(0, 10));
      // And verification fails the same way.
      expect(thrownBy(() => verifyJoinToken(text, {}, ca.digest))).toBeInstanceOf(InvalidJoinTokenError);
    });
  });

  it('refuse corrupt records and a bad CA digest argument', () => {
    const { token, record } = JoinTokens.generate(ca, 'worker');
    expect(thrownBy(() => verifyJoinToken(token, { worker: { ...record, secretHash: 'short' } }, ca.digest))).toBeInstanceOf(CorruptStateError);
    expect(thrownBy(() => verifyJoinToken(token, { manager: record } as never, ca.digest))).toBeInstanceOf(CorruptStateError);
    expect(thrownBy(() => verifyJoinToken(token, { worker: record }, 'nope'))).toMatchObject({ name: 'InvalidOptionsError', field: 'caDigest' });
  });

  it('generate rejects bad arguments with InvalidOptionsError naming the field', () => {
    expect(thrownBy(() => JoinTokens.generate(ca, 'admin' as never))).toMatchObject({ name: 'InvalidOptionsError', field: 'role' });
    expect(thrownBy(() => JoinTokens.generate({ digest: ca.digest } as never, 'worker'))).toMatchObject({ name: 'InvalidOptionsError', field: 'ca' });
    expect(thrownBy(() => JoinTokens.generate(ca, 'worker', { randomBytes: () => new Uint8Array(3) }))).toMatchObject({ name: 'InvalidOptionsError', field: 'randomBytes' });
    expect(thrownBy(() => JoinTokens.generate(ca, 'worker', { now: 5 } as never))).toMatchObject({ name: 'InvalidOptionsError', field: 'now' });
    expect(thrownBy(() => JoinTokens.generate(ca, 'worker', null as never))).toMatchObject({ name: 'InvalidOptionsError', field: '(options)' });
  });

  it('property: parse(generate) round-trips, and every single-character change to the secret is rejected', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.constantFrom('manager' as const, 'worker' as const),
        fc.nat({ max: 25 }),
        fc.nat({ max: 31 }),
        (bytes, role, position, replacement) => {
          const { token, record } = JoinTokens.generate(ca, role, { randomBytes: () => bytes });
          expect(token).toMatch(TOKEN);
          const parsed = parseJoinToken(token);
          expect(`WEFT-1-${parsed.caDigest}-${parsed.secret}`).toBe(token);
          expect(parsed.caDigest).toBe(ca.digest);
          const records: JoinTokenRecords = { [role]: record };
          expect(verifyJoinToken(token, records, ca.digest)).toBe(role);
          const original = parsed.secret[position]!;
          const ch = ALPHABET[replacement]!;
          fc.pre(ch !== original);
          const changed = `WEFT-1-${parsed.caDigest}-${parsed.secret.slice(0, position)}${ch}${parsed.secret.slice(position + 1)}`;
          const err = thrownBy(() => verifyJoinToken(changed, records, ca.digest));
          // A change in the last character's padding bits is not canonical base32; any other is a wrong secret.
          expect(err instanceof JoinTokenRejectedError || err instanceof InvalidJoinTokenError).toBe(true);
        },
      ),
      { seed: 20260101, numRuns: 300 },
    );
  });
});
