import { CertificateExpiredError, CertificateNotTrustedError, MalformedCertificateError } from './errors';
import { digestOfDer, fingerprintOf } from './digest';
import { pkiIdSchema } from './options';
import { pemToDer } from './pem';
import { CA_COMMON_NAME, NODE_ROLES, nodeUri, type NodeRole } from './profile';
import { webCrypto, x509 } from './x509';

/*
 * @internal Reading certificates: PEM/DER → @peculiar/x509 objects → the
 * facts the PKI trusts, with every structural problem a
 * MalformedCertificateError (never an exception from deep inside the parser).
 */

/**
 * Who a node certificate says its holder is. Only trust it from
 * {@link verifyNodeCertificate} or `peerIdentity` (a verified TLS peer);
 * `parseNodeCertificate` reads without checking the signature.
 */
export interface NodeIdentity {
  /** The node id (subject CN; also in the `weft://` URI). */
  readonly nodeId: string;
  /** The node's role (subject OU). */
  readonly role: NodeRole;
  /** The cluster id (subject O; the CA's O). */
  readonly clusterId: string;
  /** Serial number, lowercase hex without leading zero bytes (what deny lists hold). */
  readonly serial: string;
  /** Start of validity (second resolution). */
  readonly notBefore: Date;
  /** End of validity (second resolution). */
  readonly notAfter: Date;
  /** SHA-256 of the certificate's DER: 64 lowercase hex digits, no colons. */
  readonly fingerprint: string;
}

/** @internal A parsed certificate with its DER. */
export interface ReadCertificate {
  readonly cert: x509.X509Certificate;
  readonly der: Uint8Array;
}

/** @internal A parsed Weft cluster CA certificate. */
export interface ReadCaCertificate extends ReadCertificate {
  readonly clusterId: string;
  /** Its join-token digest. */
  readonly digest: string;
}

/**
 * Certificates already parsed, by their PEM text or base64 DER: a node reads
 * the same few (its own, the CA, its peers') on every handshake and renewal,
 * and each parse decodes the whole ASN.1 structure. Bounded; oldest first out.
 */
const parsed = new Map<string, ReadCertificate>();
const PARSED_MAX = 256;

/** @internal Parses one certificate from PEM text or DER bytes (a repeated input is parsed once). */
export function readCertificate(input: string | Uint8Array, what: string): ReadCertificate {
  const key = typeof input === 'string' ? input : input instanceof Uint8Array ? Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('base64') : undefined;
  const known = key === undefined ? undefined : parsed.get(key);
  if (known !== undefined) return known;
  const read = parseCertificate(input, what);
  if (key !== undefined) {
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, read);
  }
  return read;
}

function parseCertificate(input: string | Uint8Array, what: string): ReadCertificate {
  let der: Uint8Array;
  if (typeof input === 'string') {
    const d = pemToDer(input, 'CERTIFICATE');
    if (typeof d === 'string') throw new MalformedCertificateError(`${what}: ${d}`);
    der = d;
  } else if (input instanceof Uint8Array) {
    der = Uint8Array.from(input);
  } else {
    throw new MalformedCertificateError(`${what}: expected PEM text or DER bytes (got ${input === null ? 'null' : typeof input})`);
  }
  try {
    const cert = new x509.X509Certificate(der);
    // Touch the lazily decoded parts so a broken structure fails here.
    void cert.subjectName.toJSON();
    void cert.issuerName.toJSON();
    const types = cert.extensions.map((e) => e.type);
    if (new Set(types).size !== types.length) throw new MalformedCertificateError(`${what}: an extension appears twice`);
    return { cert, der };
  } catch (err) {
    if (err instanceof MalformedCertificateError) throw err;
    throw new MalformedCertificateError(`${what}: not a DER X.509 certificate`, { cause: err });
  }
}

function single(cert: x509.X509Certificate, field: 'CN' | 'OU' | 'O', label: string, what: string): string {
  const values = cert.subjectName.getField(field);
  if (values.length !== 1) throw new MalformedCertificateError(`${what}: expected one subject ${field} (${label}), found ${values.length}`);
  return values[0]!;
}

function id(cert: x509.X509Certificate, field: 'CN' | 'O', label: string, what: string): string {
  const value = single(cert, field, label, what);
  if (!pkiIdSchema.safeParse(value).success) throw new MalformedCertificateError(`${what}: subject ${field} (${label}) ${JSON.stringify(value)} is not a valid id`);
  return value;
}

/** @internal The identity in a node certificate, after every structural check (not the signature or dates). */
export function identityOf({ cert, der }: ReadCertificate, what = 'node certificate'): NodeIdentity {
  try {
    const nodeId = id(cert, 'CN', 'node id', what);
    const clusterId = id(cert, 'O', 'cluster id', what);
    const ou = single(cert, 'OU', 'role', what);
    if (!(NODE_ROLES as readonly string[]).includes(ou)) throw new MalformedCertificateError(`${what}: OU (role) ${JSON.stringify(ou)} is not manager or worker`);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    if (bc === null || bc.ca) throw new MalformedCertificateError(`${what}: not an end-entity certificate (basicConstraints ${bc === null ? 'missing' : 'CA:true'})`);
    const uris = (cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []).filter((n) => n.type === 'url').map((n) => n.value);
    const weftUris = uris.filter((u) => u.startsWith('weft://'));
    const expected = nodeUri(clusterId, nodeId);
    if (weftUris.length !== 1 || weftUris[0] !== expected) {
      throw new MalformedCertificateError(`${what}: subjectAltName must hold exactly the URI ${expected} (found ${JSON.stringify(weftUris)})`);
    }
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
    for (const usage of [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]) {
      if (!eku.includes(usage)) throw new MalformedCertificateError(`${what}: extendedKeyUsage lacks ${usage} (a node is both TLS server and client)`);
    }
    return {
      nodeId,
      role: ou as NodeRole,
      clusterId,
      serial: cert.serialNumber.toLowerCase(),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      fingerprint: fingerprintOf(der),
    };
  } catch (err) {
    if (err instanceof MalformedCertificateError) throw err;
    throw new MalformedCertificateError(`${what}: unreadable field or extension`, { cause: err });
  }
}

/** @internal Parses and checks a Weft cluster CA certificate (CN weft-cluster-ca, O = cluster id, CA:true, keyCertSign). */
export function readCaCertificate(input: string | Uint8Array, what = 'CA certificate'): ReadCaCertificate {
  const read = readCertificate(input, what);
  const { cert } = read;
  try {
    const cn = single(cert, 'CN', 'name', what);
    if (cn !== CA_COMMON_NAME) throw new MalformedCertificateError(`${what}: subject CN ${JSON.stringify(cn)} is not ${CA_COMMON_NAME}`);
    const clusterId = id(cert, 'O', 'cluster id', what);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    if (bc === null || !bc.ca) throw new MalformedCertificateError(`${what}: not a CA (basicConstraints ${bc === null ? 'missing' : 'CA:false'})`);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    if (ku === null || (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) throw new MalformedCertificateError(`${what}: keyUsage lacks keyCertSign`);
    return { ...read, clusterId, digest: digestOfDer(read.der) };
  } catch (err) {
    if (err instanceof MalformedCertificateError) throw err;
    throw new MalformedCertificateError(`${what}: unreadable field or extension`, { cause: err });
  }
}

function bytesEqual(a: ArrayBuffer, b: ArrayBuffer): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * @internal Throws CertificateNotTrustedError unless `leaf` names `ca` as its
 * issuer, is signed by `ca`'s key, and is of `ca`'s cluster.
 */
export async function assertIssuedBy(leaf: ReadCertificate, ca: ReadCaCertificate, leafClusterId: string): Promise<void> {
  if (!bytesEqual(leaf.cert.issuerName.toArrayBuffer(), ca.cert.subjectName.toArrayBuffer())) {
    throw new CertificateNotTrustedError(`issued by "${leaf.cert.issuer}", not by the cluster CA "${ca.cert.subject}"`);
  }
  let ok = false;
  let cause: unknown;
  try {
    ok = await leaf.cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }, webCrypto);
  } catch (err) {
    cause = err;
  }
  if (!ok) throw new CertificateNotTrustedError('its signature does not verify with the cluster CA key', cause === undefined ? undefined : { cause });
  if (leafClusterId !== ca.clusterId) throw new CertificateNotTrustedError(`it is for cluster ${JSON.stringify(leafClusterId)}, the CA for ${JSON.stringify(ca.clusterId)}`);
}

/** @internal Throws CertificateExpiredError unless notBefore ≤ at ≤ notAfter. */
export function assertValidAt(cert: x509.X509Certificate, subject: string, at: Date): void {
  const t = at.getTime();
  if (t < cert.notBefore.getTime() || t > cert.notAfter.getTime()) throw new CertificateExpiredError(subject, cert.notBefore, cert.notAfter, at);
}
