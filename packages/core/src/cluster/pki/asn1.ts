// The certificate and CSR structures as @peculiar/asn1-schema classes (RFC 5280, RFC 2986): what every
// node uses to read certificates and to write its CSR. This is the ONLY module that imports these
// packages. They are the parsing layer under @peculiar/x509 (same maintainers), without its
// dependency-injection container and its many algorithm modules: loading them costs a node process a
// third of what @peculiar/x509 does. The CA writes certificates with the same classes (./certificate-writer).
export { AsnConvert, OctetString } from '@peculiar/asn1-schema';
export {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
export { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';

/** @internal Attribute type OIDs of the names the PKI reads and writes (RFC 4519). */
export const OID = {
  CN: '2.5.4.3',
  OU: '2.5.4.11',
  O: '2.5.4.10',
} as const;

/** @internal Signature algorithm OID of every certificate and CSR: ecdsa-with-SHA256 (RFC 5758 §3.2; no parameters). */
export const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
