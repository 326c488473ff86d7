import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidOptionsError, parseOptions } from '@weft/interface';
import { cryptoRandomBytes } from '../../node/context';
import {
  AsnConvert,
  BasicConstraints,
  ExtendedKeyUsage,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  OID,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from './asn1';
import { assertValidAt, readCaCertificate, type ReadCaCertificate } from './certificate-reader';
import { extensionOf, keyIdentifierExtensions, keyIdOf, nameOf, signCertificate } from './certificate-writer';
import { spkiOfCsr } from './csr';
import { MalformedKeyError } from './errors';
import { generateNodeKeyObjects } from './keys';
import { caPemSchema, clusterCaCreateSchema, clusterCaLoadSchema, issueSchema } from './options';
import { derToPem, pemToDer } from './pem';
import { CA_COMMON_NAME, CERT_BACKDATE_MS, isHostName, nodeUri, SERIAL_BYTES, type NodeRole } from './profile';

/** Options of {@link ClusterCa.create}. */
export interface ClusterCaOptions {
  /** The cluster's id: the CA certificate's O, and the O and URI authority of every node certificate. 1–64 of letters, digits, `_`, `.`, `-`. */
  readonly clusterId: string;
  /** Lifetime of the CA certificate (ms). Default 20 years, as Swarm's root CA. */
  readonly lifetimeMs?: number;
  /** Wall clock: ms since the Unix epoch, for the CA's and later certificates' validity. Default `Date.now`. */
  readonly now?: () => number;
  /** Random bytes for certificate serials and join-token secrets. Default node:crypto. Keys always come from node:crypto. */
  readonly randomBytes?: (length: number) => Uint8Array;
}

/** Options of {@link ClusterCa.fromPem} besides the two PEM texts. */
export interface ClusterCaLoadOptions {
  /** As {@link ClusterCaOptions.now}. */
  readonly now?: () => number;
  /** As {@link ClusterCaOptions.randomBytes}. */
  readonly randomBytes?: (length: number) => Uint8Array;
}

/** Options of {@link ClusterCa.issue}. */
export interface IssueOptions {
  /** The node's CSR (PEM), from `createCsr`. Only its public key is used, after its self-signature verifies. */
  readonly csrPem: string;
  /** The node id the caller has authenticated (e.g. from a verified join token). Becomes CN and the URI path. */
  readonly nodeId: string;
  /** The role the caller has authorised (the role of the join-token record that matched). Becomes OU. */
  readonly role: NodeRole;
  /** Lifetime (ms). Default 90 days, as Swarm. Never extends past the CA's own `notAfter`. */
  readonly lifetimeMs?: number;
  /** Wall clock for this certificate (ms since the Unix epoch). Default: the CA's clock. */
  readonly now?: () => number;
}

/** The two PEM texts that make a CA (what the store keeps; the key is the cluster's root secret). */
export interface ClusterCaPem {
  readonly certificatePem: string;
  /** Unencrypted PKCS#8 PEM of the CA's private key. */
  readonly keyPem: string;
}

const floorToSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** @internal A certificate serial: 16 random bytes (128 bits) as hex; never zero (RFC 5280 §4.1.2.2 wants a positive serial). */
export function serialFrom(randomBytes: (length: number) => Uint8Array): string {
  const bytes = randomBytes(SERIAL_BYTES);
  if (!(bytes instanceof Uint8Array) || bytes.length !== SERIAL_BYTES) {
    throw new InvalidOptionsError('randomBytes', `ClusterCa: option "randomBytes" returned ${bytes instanceof Uint8Array ? `${bytes.length} bytes` : 'no Uint8Array'} for a request of ${SERIAL_BYTES}`);
  }
  const copy = Uint8Array.from(bytes);
  if (copy.every((b) => b === 0)) copy[SERIAL_BYTES - 1] = 1;
  // Encoded as a minimal positive DER INTEGER (a 0x00 sign octet added when the top bit is set): see certificate-writer.
  return Buffer.from(copy).toString('hex');
}

/**
 * A cluster's certificate authority: an ECDSA P-256 key pair and a
 * self-signed CA certificate (`CN=weft-cluster-ca, O=<clusterId>`,
 * basicConstraints CA:true pathlen 0 critical, keyUsage keyCertSign + cRLSign
 * critical), created once when the cluster is initialised — Swarm's
 * `swarm init` — and kept by the managers. It issues node certificates
 * (`CN=<nodeId>, OU=<role>, O=<clusterId>`, subjectAltName
 * `weft://<clusterId>/node/<nodeId>`, serverAuth + clientAuth) that every
 * control connection presents for mutual TLS 1.3.
 *
 * **Why ECDSA P-256 with SHA-256** (for the CA and every node key): it is what
 * Swarm's CA uses; `ecdsa_secp256r1_sha256` is one of the signature schemes
 * every TLS 1.3 implementation must support (RFC 8446 §9.1), so any TLS peer
 * or tool (OpenSSL, Go's crypto/tls, ...) serves and verifies it; and ECDSA
 * is stable in node:crypto and WebCrypto on Node 20. Ed25519 was the alternative,
 * and node:tls does not rule it out here: on this repository's Node 20.20.2 /
 * OpenSSL 3.0.19 a mutual-TLS 1.3 handshake with Ed25519 certificates made the
 * same way (@peculiar/x509 + WebCrypto) also succeeded, in a one-off
 * experiment. But Ed25519 is not in RFC 8446's mandatory set, and Node 20
 * shipped WebCrypto's Ed25519 as experimental (nodejs/node#44897 made
 * WebCrypto stable "except for Ed25519, Ed448, X25519 and X448"; it was only
 * graduated later, by nodejs/node#56142). The P-256 handshake is exercised by
 * `packages/core/test/cluster/pki-tls.test.ts` (TLSv1.3, server key
 * prime256v1, `ECDSA+SHA256` among the shared signature algorithms).
 *
 * The CA trusts nothing in a CSR but its public key, and only after the CSR's
 * self-signature verifies (proof of possession): names and role come from
 * the caller, who has authenticated the node (its join token).
 */
export class ClusterCa {
  /** The CA certificate (PEM): what every node trusts (`ca` of `tlsOptionsFor`). */
  readonly certificatePem: string;
  /** The digest join tokens pin: base32 of SHA-256 of the certificate's DER (52 characters). */
  readonly digest: string;
  /** The cluster id (the certificate's O). */
  readonly clusterId: string;
  /** Start of the CA certificate's validity. */
  readonly notBefore: Date;
  /** End of the CA certificate's validity; no node certificate outlives it. */
  readonly notAfter: Date;

  private constructor(
    private readonly ca: ReadCaCertificate,
    /** The CA's private key (node:crypto): what signs every certificate. */
    private readonly signingKey: KeyObject,
    private readonly keyPem: string,
    /** @internal The CA's wall clock (also the default clock of join tokens made with it). */
    readonly clock: () => number,
    /** @internal The CA's random source (also the default of join tokens made with it). */
    readonly randomBytes: (length: number) => Uint8Array,
  ) {
    this.certificatePem = derToPem(ca.der, 'CERTIFICATE');
    this.digest = ca.digest;
    this.clusterId = ca.clusterId;
    this.notBefore = ca.notBefore;
    this.notAfter = ca.notAfter;
    const ski = ca.extensions.get(id_ce_subjectKeyIdentifier);
    this.keyId = ski === undefined ? undefined : new Uint8Array(AsnConvert.parse(ski, SubjectKeyIdentifier).buffer);
  }

  /** The CA's key identifier (its subjectKeyIdentifier): the authorityKeyIdentifier of what it issues. */
  private readonly keyId: Uint8Array | undefined;

  /**
   * Creates a new CA: a fresh key pair and its self-signed certificate, valid
   * from `now − 5 min` (clock-skew allowance, as cfssl) for `lifetimeMs`.
   * @throws InvalidOptionsError (rejects) when an option is invalid.
   */
  static async create(options: ClusterCaOptions): Promise<ClusterCa> {
    const o = parseOptions(clusterCaCreateSchema, options, 'ClusterCa.create');
    const clock = o.now ?? Date.now;
    const randomBytes = o.randomBytes ?? cryptoRandomBytes;
    const { privateKey, publicKey } = generateNodeKeyObjects();
    const now = clock();
    const spki = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
    const name = nameOf([
      [OID.O, o.clusterId],
      [OID.CN, CA_COMMON_NAME],
    ]);
    const der = signCertificate(
      {
        serialHex: serialFrom(randomBytes),
        issuer: name,
        subject: name,
        notBefore: new Date(floorToSecond(now - CERT_BACKDATE_MS)),
        notAfter: new Date(floorToSecond(now + o.lifetimeMs)),
        subjectPublicKeyInfo: spki,
        extensions: [
          extensionOf(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: 0 })),
          extensionOf(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
          ...keyIdentifierExtensions(keyIdOf(spki)),
        ],
      },
      privateKey,
    );
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return new ClusterCa(readCaCertificate(der), privateKey, keyPem, clock, randomBytes);
  }

  /**
   * Loads a CA saved with {@link ClusterCa.toPem}.
   * @throws MalformedCertificateError when `certificatePem` is not a Weft cluster CA certificate.
   * @throws MalformedKeyError when `keyPem` is not a P-256 PKCS#8 key, or not the certificate's key.
   * @throws InvalidOptionsError (rejects) when an argument is not a string or an option is invalid.
   */
  static async fromPem(certificatePem: string, keyPem: string, options?: ClusterCaLoadOptions): Promise<ClusterCa> {
    const o = parseOptions(clusterCaLoadSchema, options, 'ClusterCa.fromPem');
    const pem = parseOptions(caPemSchema, { certificatePem, keyPem }, 'ClusterCa.fromPem');
    const ca = readCaCertificate(pem.certificatePem);
    const der = pemToDer(pem.keyPem, 'PRIVATE KEY');
    if (typeof der === 'string') throw new MalformedKeyError(der);
    let signingKey: KeyObject;
    try {
      signingKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw new MalformedKeyError('not a PKCS#8 ECDSA P-256 private key', { cause: err });
    }
    if (signingKey.asymmetricKeyType !== 'ec' || signingKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new MalformedKeyError(`not a PKCS#8 ECDSA P-256 private key (a ${signingKey.asymmetricKeyType ?? 'unknown'} key)`);
    }
    const keySpki = createPublicKey(signingKey).export({ type: 'spki', format: 'der' });
    if (!keySpki.equals(ca.x509.publicKey.export({ type: 'spki', format: 'der' }))) {
      throw new MalformedKeyError("the key is not the CA certificate's key");
    }
    return new ClusterCa(ca, signingKey, pem.keyPem, o.now ?? Date.now, o.randomBytes ?? cryptoRandomBytes);
  }

  /** The certificate and the private key as PEM, for the store. Treat `keyPem` as the cluster's root secret. */
  toPem(): ClusterCaPem {
    return { certificatePem: this.certificatePem, keyPem: this.keyPem };
  }

  /**
   * Issues a node certificate for the public key in `csrPem`: subject
   * `CN=<nodeId>, OU=<role>, O=<clusterId>`; subjectAltName URI
   * `weft://<clusterId>/node/<nodeId>` (and DNS `<nodeId>` when the node id is
   * a valid host name); basicConstraints CA:false, keyUsage digitalSignature +
   * keyAgreement (both critical); extKeyUsage serverAuth + clientAuth; subject
   * and authority key identifiers; a random 128-bit serial. Valid from
   * `now − 5 min` for `lifetimeMs`, cut to the CA's `notAfter`.
   *
   * The CSR's subject and extensions are ignored: the certificate says what
   * the caller passes, so the caller must have authenticated `nodeId` and
   * authorised `role` (see `verifyJoinToken`).
   * @returns the certificate as PEM.
   * @throws CsrRejectedError (rejects) when the CSR does not parse, its signature does not verify, or its key is not P-256.
   * @throws CertificateExpiredError (rejects) when the CA itself is not valid at `now`.
   * @throws InvalidOptionsError (rejects) when an option is invalid.
   */
  async issue(options: IssueOptions): Promise<string> {
    const o = parseOptions(issueSchema, options, 'ClusterCa.issue');
    const spki = AsnConvert.parse(spkiOfCsr(o.csrPem), SubjectPublicKeyInfo);
    const now = (o.now ?? this.clock)();
    assertValidAt(this.ca, `cluster CA "${this.clusterId}"`, new Date(now));
    const notBefore = floorToSecond(Math.max(now - CERT_BACKDATE_MS, this.notBefore.getTime()));
    const notAfter = Math.min(floorToSecond(now + o.lifetimeMs), this.notAfter.getTime());
    const names = [new GeneralName({ uniformResourceIdentifier: nodeUri(this.clusterId, o.nodeId) })];
    if (isHostName(o.nodeId)) names.push(new GeneralName({ dNSName: o.nodeId }));
    const der = signCertificate(
      {
        serialHex: serialFrom(this.randomBytes),
        issuer: this.ca.cert.tbsCertificate.subject,
        subject: nameOf([
          [OID.O, this.clusterId],
          [OID.OU, o.role],
          [OID.CN, o.nodeId],
        ]),
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
        subjectPublicKeyInfo: spki,
        extensions: [
          extensionOf(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
          extensionOf(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyAgreement)),
          extensionOf(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth])),
          extensionOf(id_ce_subjectAltName, false, new SubjectAlternativeName(names)),
          ...keyIdentifierExtensions(keyIdOf(spki), this.keyId),
        ],
      },
      this.signingKey,
    );
    return derToPem(der, 'CERTIFICATE');
  }
}
