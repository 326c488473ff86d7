/**
 * Vectors: RFC 8032 §7.1 TEST 1 (Ed25519, empty message) and RFC 7748 §6.1
 * (X25519 Alice/Bob), bytes copied from the RFCs.
 */
import { Identity, InvalidOptionsError, KeyAgreementError } from '../src';
import { expectInvalidOption } from './support/expect-invalid';
import { hex, toHex } from './support/hex';

const alice = Identity.fromKeys({
  signingSeed: hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
  agreementSecretKey: hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
});
const bob = Identity.fromKeys({
  signingSeed: hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb'),
  agreementSecretKey: hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
});

describe('Identity', () => {
  it('signs the RFC 8032 TEST 1 vector', () => {
    expect(toHex(alice.publicIdentity.signingKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = alice.sign(new Uint8Array(0));
    expect(toHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(Identity.verify(new Uint8Array(0), sig, alice.publicIdentity.signingKey)).toBe(true);
  });

  it('verify rejects tampered messages, signatures, keys and wrong lengths without throwing', () => {
    const msg = new TextEncoder().encode('join cluster c1 as worker');
    const sig = alice.sign(msg);
    expect(Identity.verify(msg, sig, alice.publicIdentity.signingKey)).toBe(true);
    const msg2 = Uint8Array.from(msg);
    msg2[0]! ^= 1;
    expect(Identity.verify(msg2, sig, alice.publicIdentity.signingKey)).toBe(false);
    const sig2 = Uint8Array.from(sig);
    sig2[10]! ^= 0x80;
    expect(Identity.verify(msg, sig2, alice.publicIdentity.signingKey)).toBe(false);
    expect(Identity.verify(msg, sig, bob.publicIdentity.signingKey)).toBe(false);
    expect(Identity.verify(msg, sig.subarray(0, 63), alice.publicIdentity.signingKey)).toBe(false);
    expect(Identity.verify(msg, sig, new Uint8Array(31))).toBe(false);
  });

  it('agrees on the RFC 7748 §6.1 X25519 secret, and on one derived shared secret per context', () => {
    expect(toHex(alice.publicIdentity.agreementKey)).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(toHex(bob.publicIdentity.agreementKey)).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const raw = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(alice.agree(bob.publicIdentity.agreementKey))).toBe(raw);
    expect(toHex(bob.agree(alice.publicIdentity.agreementKey))).toBe(raw);
    const ab = alice.sharedSecret(bob.publicIdentity.agreementKey, 'join-token');
    expect(ab).toHaveLength(32);
    expect(toHex(bob.sharedSecret(alice.publicIdentity.agreementKey, 'join-token'))).toBe(toHex(ab));
    expect(toHex(alice.sharedSecret(bob.publicIdentity.agreementKey, 'control'))).not.toBe(toHex(ab));
    expect(toHex(ab)).not.toBe(raw);
  });

  it('rejects a low-order peer key and wrong-length keys with typed errors', () => {
    expect(() => alice.agree(new Uint8Array(32))).toThrow(KeyAgreementError);
    expect(() => alice.sharedSecret(new Uint8Array(31), 'x')).toThrow(InvalidOptionsError);
    expectInvalidOption(
      () => alice.sharedSecret(new Uint8Array(31), 'x'),
      'peerAgreementKey',
      /^Identity\.sharedSecret: option "peerAgreementKey" must be a Uint8Array of 32 bytes \(got a Uint8Array of 31 bytes\)$/,
    );
    expectInvalidOption(() => alice.sharedSecret(bob.publicIdentity.agreementKey, 7 as never), 'context');
    expectInvalidOption(() => alice.agree(new Uint8Array(33)), 'peerAgreementKey', /^Identity\.agree:/);
    expectInvalidOption(() => alice.sign('text' as never), 'message', /^Identity\.sign:/);
    expectInvalidOption(() => Identity.fromSeed(new Uint8Array(16)), 'seed', /^Identity\.fromSeed: option "seed"/);
    expectInvalidOption(() => Identity.fromKeys({ signingSeed: new Uint8Array(32), agreementSecretKey: new Uint8Array(8) }), 'agreementSecretKey');
    expectInvalidOption(() => Identity.fromKeys(undefined as never), 'signingSeed');
    expectInvalidOption(() => Identity.generate(42 as never), 'random', /^Identity\.generate: option "random" must be a function/);
    expectInvalidOption(() => Identity.generate(() => new Uint8Array(16)), 'random', /must return a Uint8Array of 32 bytes/);
  });

  it('derives deterministically from a seed and generates distinct identities', () => {
    const seed = new Uint8Array(32).fill(7);
    expect(toHex(Identity.fromSeed(seed).publicIdentity.agreementKey)).toBe(toHex(Identity.fromSeed(seed).publicIdentity.agreementKey));
    const a = Identity.generate();
    const b = Identity.generate();
    expect(toHex(a.publicIdentity.signingKey)).not.toBe(toHex(b.publicIdentity.signingKey));
    let n = 0;
    const seeded = Identity.generate((len) => new Uint8Array(len).fill(++n));
    expect(toHex(seeded.publicIdentity.signingKey)).toBe(toHex(Identity.fromSeed(new Uint8Array(32).fill(1)).publicIdentity.signingKey));
  });
});
