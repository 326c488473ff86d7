import { X509Certificate } from 'node:crypto';
import { CertificateExpiredError, CertificateNotTrustedError, MalformedCertificateError } from './errors';
import {
  AsnConvert,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  KeyUsageFlags,
  OID,
  SubjectAlternativeName,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_kp_clientAuth,
  id_kp_serverAuth,
  type Name,
} from './asn1';
import { digestOfDer, fingerprintOf } from './digest';
import { pkiIdSchema } from './options';
import { pemToDer } from './pem';
import { CA_COMMON_NAME, NODE_ROLES, nodeUri, type NodeRole } from './profile';

/*
 * @internal Reading certificates: PEM/DER → the RFC 5280 structure
 * (@peculiar/asn1-x509) → the facts the PKI trusts, with every structural
 * problem a MalformedCertificateError (never an exception from deep inside
 * the parser). Signatures are checked by node:crypto (OpenSSL), the X.509
 * implementation node:tls itself uses.
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
  readonly der: Uint8Array;
  /** The decoded structure. */
  readonly cert: Certificate;
  /** node:crypto's view of the same DER (OpenSSL parsed it too): signature and issuer checks. */
  readonly x509: X509Certificate;
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity. */
  readonly notAfter: Date;
  /** Serial number, lowercase hex without the DER sign octet (what deny lists hold). */
  readonly serial: string;
  /** The extensions by OID (each appears once: a certificate with a repeated extension does not parse). */
  readonly extensions: ReadonlyMap<string, ArrayBuffer>;
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

/** The serial as @peculiar/x509 and OpenSSL print it: hex of the INTEGER's octets, without a leading 0x00 sign octet. */
function serialHex(octets: ArrayBuffer): string {
  let bytes = new Uint8Array(octets);
  if (bytes.length > 1 && bytes[0] === 0x00 && bytes[1]! > 0x7f) bytes = bytes.subarray(1);
  return Buffer.from(bytes).toString('hex');
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
  let cert: Certificate;
  let x509: X509Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
    x509 = new X509Certificate(der);
  } catch (err) {
    throw new MalformedCertificateError(`${what}: not a DER X.509 certificate`, { cause: err });
  }
  const extensions = new Map<string, ArrayBuffer>();
  for (const e of cert.tbsCertificate.extensions ?? []) {
    if (extensions.has(e.extnID)) throw new MalformedCertificateError(`${what}: an extension appears twice`);
    extensions.set(e.extnID, e.extnValue.buffer);
  }
  const { validity } = cert.tbsCertificate;
  return {
    der,
    cert,
    x509,
    notBefore: validity.notBefore.getTime(),
    notAfter: validity.notAfter.getTime(),
    serial: serialHex(cert.tbsCertificate.serialNumber).toLowerCase(),
    extensions,
  };
}

/** An extension's value decoded with its schema, or null when absent; an undecodable value is a MalformedCertificateError. */
function extension<T>(read: ReadCertificate, oid: string, type: new () => T, label: string, what: string): T | null {
  const value = read.extensions.get(oid);
  if (value === undefined) return null;
  try {
    return AsnConvert.parse(value, type);
  } catch (err) {
    throw new MalformedCertificateError(`${what}: unreadable ${label} extension`, { cause: err });
  }
}

/** Every value of attribute `oid` in `name`, as text. */
function attributes(name: Name, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of name) for (const atv of rdn) if (atv.type === oid) out.push(atv.value.toString());
  return out;
}

const SHORT_NAMES: Record<string, string> = { [OID.CN]: 'CN', [OID.OU]: 'OU', [OID.O]: 'O', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST' };

/** @internal A name as text for messages: `CN=…, OU=…, O=…` (RFC 4514 order, last RDN first). */
export function nameText(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) => [...rdn].map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+'))
    .join(', ');
}

function single(read: ReadCertificate, field: 'CN' | 'OU' | 'O', label: string, what: string): string {
  const values = attributes(read.cert.tbsCertificate.subject, OID[field]);
  if (values.length !== 1) throw new MalformedCertificateError(`${what}: expected one subject ${field} (${label}), found ${values.length}`);
  return values[0]!;
}

function id(read: ReadCertificate, field: 'CN' | 'O', label: string, what: string): string {
  const value = single(read, field, label, what);
  if (!pkiIdSchema.safeParse(value).success) throw new MalformedCertificateError(`${what}: subject ${field} (${label}) ${JSON.stringify(value)} is not a valid id`);
  return value;
}

/** @internal The identity in a node certificate, after every structural check (not the signature or dates). */
export function identityOf(read: ReadCertificate, what = 'node certificate'): NodeIdentity {
  try {
    const nodeId = id(read, 'CN', 'node id', what);
    const clusterId = id(read, 'O', 'cluster id', what);
    const ou = single(read, 'OU', 'role', what);
    if (!(NODE_ROLES as readonly string[]).includes(ou)) throw new MalformedCertificateError(`${what}: OU (role) ${JSON.stringify(ou)} is not manager or worker`);
    const bc = extension(read, id_ce_basicConstraints, BasicConstraints, 'basicConstraints', what);
    if (bc === null || bc.cA) throw new MalformedCertificateError(`${what}: not an end-entity certificate (basicConstraints ${bc === null ? 'missing' : 'CA:true'})`);
    const names = extension(read, id_ce_subjectAltName, SubjectAlternativeName, 'subjectAltName', what) ?? [];
    const weftUris = [...names].flatMap((n) => (n.uniformResourceIdentifier?.startsWith('weft://') === true ? [n.uniformResourceIdentifier] : []));
    const expected = nodeUri(clusterId, nodeId);
    if (weftUris.length !== 1 || weftUris[0] !== expected) {
      throw new MalformedCertificateError(`${what}: subjectAltName must hold exactly the URI ${expected} (found ${JSON.stringify(weftUris)})`);
    }
    const eku = [...(extension(read, id_ce_extKeyUsage, ExtendedKeyUsage, 'extendedKeyUsage', what) ?? [])];
    for (const [usage, label] of [
      [id_kp_serverAuth, 'serverAuth'],
      [id_kp_clientAuth, 'clientAuth'],
    ] as const) {
      if (!eku.includes(usage)) throw new MalformedCertificateError(`${what}: extendedKeyUsage lacks ${label} (${usage}) (a node is both TLS server and client)`);
    }
    return {
      nodeId,
      role: ou as NodeRole,
      clusterId,
      serial: read.serial,
      notBefore: read.notBefore,
      notAfter: read.notAfter,
      fingerprint: fingerprintOf(read.der),
    };
  } catch (err) {
    if (err instanceof MalformedCertificateError) throw err;
    throw new MalformedCertificateError(`${what}: unreadable field or extension`, { cause: err });
  }
}

/** @internal Parses and checks a Weft cluster CA certificate (CN weft-cluster-ca, O = cluster id, CA:true, keyCertSign). */
export function readCaCertificate(input: string | Uint8Array, what = 'CA certificate'): ReadCaCertificate {
  const read = readCertificate(input, what);
  try {
    const cn = single(read, 'CN', 'name', what);
    if (cn !== CA_COMMON_NAME) throw new MalformedCertificateError(`${what}: subject CN ${JSON.stringify(cn)} is not ${CA_COMMON_NAME}`);
    const clusterId = id(read, 'O', 'cluster id', what);
    const bc = extension(read, id_ce_basicConstraints, BasicConstraints, 'basicConstraints', what);
    if (bc === null || !bc.cA) throw new MalformedCertificateError(`${what}: not a CA (basicConstraints ${bc === null ? 'missing' : 'CA:false'})`);
    const ku = extension(read, id_ce_keyUsage, KeyUsage, 'keyUsage', what);
    if (ku === null || (ku.toNumber() & KeyUsageFlags.keyCertSign) === 0) throw new MalformedCertificateError(`${what}: keyUsage lacks keyCertSign`);
    return { ...read, clusterId, digest: digestOfDer(read.der) };
  } catch (err) {
    if (err instanceof MalformedCertificateError) throw err;
    throw new MalformedCertificateError(`${what}: unreadable field or extension`, { cause: err });
  }
}

/**
 * @internal Throws CertificateNotTrustedError unless `leaf` names `ca` as its
 * issuer, is signed by `ca`'s key, and is of `ca`'s cluster.
 */
export function assertIssuedBy(leaf: ReadCertificate, ca: ReadCaCertificate, leafClusterId: string): void {
  const issuer = Buffer.from(AsnConvert.serialize(leaf.cert.tbsCertificate.issuer));
  if (!issuer.equals(Buffer.from(AsnConvert.serialize(ca.cert.tbsCertificate.subject)))) {
    throw new CertificateNotTrustedError(`issued by "${nameText(leaf.cert.tbsCertificate.issuer)}", not by the cluster CA "${nameText(ca.cert.tbsCertificate.subject)}"`);
  }
  let ok = false;
  let cause: unknown;
  try {
    ok = leaf.x509.verify(ca.x509.publicKey);
  } catch (err) {
    cause = err;
  }
  if (!ok) throw new CertificateNotTrustedError('its signature does not verify with the cluster CA key', cause === undefined ? undefined : { cause });
  if (leafClusterId !== ca.clusterId) throw new CertificateNotTrustedError(`it is for cluster ${JSON.stringify(leafClusterId)}, the CA for ${JSON.stringify(ca.clusterId)}`);
}

/** @internal Throws CertificateExpiredError unless notBefore ≤ at ≤ notAfter. */
export function assertValidAt(cert: Pick<ReadCertificate, 'notBefore' | 'notAfter'>, subject: string, at: Date): void {
  const t = at.getTime();
  if (t < cert.notBefore.getTime() || t > cert.notAfter.getTime()) throw new CertificateExpiredError(subject, cert.notBefore, cert.notAfter, at);
}
