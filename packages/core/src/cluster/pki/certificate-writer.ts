import { createHash, sign as signData, type KeyObject } from 'node:crypto';
import {
  AlgorithmIdentifier,
  AsnConvert,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  Certificate,
  ECDSA_WITH_SHA256,
  Extension,
  Extensions,
  KeyIdentifier,
  Name,
  OctetString,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
} from './asn1';

/*
 * @internal Writing certificates: the RFC 5280 structure filled in with the
 * @peculiar/asn1-x509 classes (which encode the DER), signed with
 * ecdsa-with-SHA256 by node:crypto. The CA uses it; a node's CSR (./csr) uses
 * its names and signature.
 */

/** PrintableString's alphabet (X.680 §41.4): names in it are encoded as one, others as UTF8String (as @peculiar/x509 and OpenSSL do). */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** @internal A distinguished name from its attributes in encoding order (each its own RDN), e.g. `[[OID.O, 'c1'], [OID.CN, 'n1']]`. */
export function nameOf(attributes: ReadonlyArray<readonly [oid: string, value: string]>): Name {
  return new Name(
    attributes.map(
      ([type, value]) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue(PRINTABLE.test(value) ? { printableString: value } : { utf8String: value }) })]),
    ),
  );
}

/** @internal An extension holding `value` encoded with its schema. */
export function extensionOf(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** @internal The key identifier of a public key: SHA-1 of its subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
export function keyIdOf(spki: SubjectPublicKeyInfo): Uint8Array {
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

/** @internal subjectKeyIdentifier and, when the issuer's key id is given, authorityKeyIdentifier. */
export function keyIdentifierExtensions(subjectKeyId: Uint8Array, authorityKeyId?: Uint8Array): Extension[] {
  const out = [extensionOf(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(subjectKeyId))];
  if (authorityKeyId !== undefined) out.push(extensionOf(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(authorityKeyId) })));
  return out;
}

/**
 * @internal An ecdsa-with-SHA256 signature of `bytes` by an EC private key, as
 * X.509 and PKCS#10 carry it (DER Ecdsa-Sig-Value; WebCrypto would give r || s),
 * with the AlgorithmIdentifier that names it.
 */
export function signEcdsaSha256(bytes: Uint8Array, key: KeyObject): { algorithm: AlgorithmIdentifier; signature: ArrayBuffer } {
  const signature = signData('sha256', bytes, { key, dsaEncoding: 'der' });
  return { algorithm: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }), signature: new Uint8Array(signature).buffer };
}

/** A serial given as hex as the positive DER INTEGER's content octets (a 0x00 first when the top bit is set). */
function serialOctets(hex: string): ArrayBuffer {
  let bytes = Buffer.from(hex, 'hex');
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first += 1;
  bytes = bytes.subarray(first);
  const out = bytes[0]! > 0x7f ? Buffer.concat([Buffer.from([0]), bytes]) : Buffer.from(bytes);
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
}

/** @internal What a certificate says. */
export interface CertificateFields {
  /** Serial number as hex (made positive and minimal on encoding). */
  readonly serialHex: string;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeyInfo: SubjectPublicKeyInfo;
  readonly extensions: readonly Extension[];
}

/** @internal A v3 certificate with `fields`, signed ecdsa-with-SHA256 by `signingKey` (an EC private key): its DER. */
export function signCertificate(fields: CertificateFields, signingKey: KeyObject): Uint8Array {
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialOctets(fields.serialHex),
    signature: algorithm,
    issuer: fields.issuer,
    validity: new Validity({ notBefore: fields.notBefore, notAfter: fields.notAfter }),
    subject: fields.subject,
    subjectPublicKeyInfo: fields.subjectPublicKeyInfo,
    extensions: new Extensions([...fields.extensions]),
  });
  const signed = signEcdsaSha256(new Uint8Array(AsnConvert.serialize(tbs)), signingKey);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: signed.algorithm, signatureValue: signed.signature });
  return new Uint8Array(AsnConvert.serialize(cert));
}
