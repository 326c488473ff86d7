import { parseOptions } from '@weft/interface';
import { assertIssuedBy, assertValidAt, identityOf, readCaCertificate, readCertificate, type NodeIdentity } from './certificate-reader';
import { CertificateRevokedError } from './errors';
import { verifyCertificateSchema } from './options';

/** Options of {@link verifyNodeCertificate}. */
export interface VerifyNodeCertificateOptions {
  /** Wall clock: ms since the Unix epoch; the time validity is checked at. Default `Date.now`. */
  readonly now?: () => number;
  /** Deny list: returns true for a serial (lowercase hex, as in {@link NodeIdentity.serial}) that must be refused. */
  readonly denied?: (serial: string) => boolean;
}

/**
 * Reads the identity a node certificate claims — node id (CN), role (OU),
 * cluster id (O), serial, validity and fingerprint — checking its structure
 * (one CN/OU/O, a known role, CA:false, exactly its `weft://` URI in the
 * subjectAltName, serverAuth + clientAuth) but NOT its signature or dates:
 * to trust the answer use {@link verifyNodeCertificate}. Synchronous.
 * @param certificate - PEM text (exactly one `CERTIFICATE` block) or DER bytes.
 * @throws MalformedCertificateError when it is not a well-formed Weft node certificate (including a missing or unknown role).
 */
export function parseNodeCertificate(certificate: string | Uint8Array): NodeIdentity {
  return identityOf(readCertificate(certificate, 'node certificate'));
}

/**
 * Verifies a node certificate against the cluster CA and returns the
 * identity it proves. Checks, in order: both certificates are well formed;
 * the node certificate names the CA as issuer, its signature verifies with
 * the CA's key and its cluster is the CA's; both are valid at `now`; its
 * serial is not `denied`.
 * @throws MalformedCertificateError when either certificate is malformed (a node certificate without a known role included).
 * @throws CertificateNotTrustedError when the CA did not issue it.
 * @throws CertificateExpiredError when it (or the CA) is expired or not valid yet at `now`.
 * @throws CertificateRevokedError when `denied(serial)` is true.
 * @throws InvalidOptionsError (rejects) when an option is invalid.
 */
export async function verifyNodeCertificate(certificatePem: string | Uint8Array, caPem: string, options?: VerifyNodeCertificateOptions): Promise<NodeIdentity> {
  const o = parseOptions(verifyCertificateSchema, options, 'verifyNodeCertificate');
  const ca = readCaCertificate(caPem, 'CA certificate');
  const leaf = readCertificate(certificatePem, 'node certificate');
  const identity = identityOf(leaf);
  assertIssuedBy(leaf, ca, identity.clusterId);
  const at = new Date((o.now ?? Date.now)());
  assertValidAt(ca, `cluster CA "${ca.clusterId}"`, at);
  assertValidAt(leaf, `node ${JSON.stringify(identity.nodeId)}`, at);
  if (o.denied?.(identity.serial) === true) throw new CertificateRevokedError(identity.serial, identity.nodeId);
  return identity;
}

/**
 * The digest a join token pins for this CA certificate: base32 (RFC 4648
 * alphabet, lowercase, unpadded) of SHA-256 of its DER, 52 characters. A
 * joining node computes it over the CA certificate a manager presents and
 * compares it with its token's (see `verifyJoinTokenCa`).
 * @throws MalformedCertificateError when `caPem` is not a Weft cluster CA certificate.
 */
export function caDigestOf(caPem: string | Uint8Array): string {
  return readCaCertificate(caPem).digest;
}
