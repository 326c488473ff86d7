import { KeyObject, createPublicKey, verify as verifySignature } from 'node:crypto';
import { parseOptions } from '@weft/interface';
import { AsnConvert, CertificationRequest, CertificationRequestInfo, ECDSA_WITH_SHA256, OID, SubjectPublicKeyInfo } from './asn1';
import { nameOf, signEcdsaSha256 } from './certificate-writer';
import { CsrRejectedError } from './errors';
import type { NodeKeyPair } from './keys';
import { createCsrSchema } from './options';
import { derToPem, pemToDer } from './pem';

/**
 * A PKCS#10 certificate signing request (RFC 2986) for `nodeId`, signed with
 * the node's own private key (proof of possession): ecdsa-with-SHA256 over
 * the request info, which holds `CN=<nodeId>` and the node's public key. The
 * subject is informational only: the CA names the certificate after the node
 * id and role it was told, never after the CSR.
 * @returns PEM text (`-----BEGIN CERTIFICATE REQUEST-----`).
 * @throws InvalidOptionsError (rejects) when `nodeId` is not a valid node id or `key` is not a key pair.
 */
export async function createCsr(nodeId: string, key: NodeKeyPair): Promise<string> {
  const o = parseOptions(createCsrSchema, { nodeId, key }, 'createCsr');
  return csrOf(o.nodeId, KeyObject.from(key.privateKey), KeyObject.from(key.publicKey));
}

/**
 * @internal {@link createCsr} with node:crypto key objects (what the join
 * client holds), synchronously; `nodeId` must be valid already.
 */
export function csrOf(nodeId: string, privateKey: KeyObject, publicKey: KeyObject): string {
  const info = new CertificationRequestInfo({
    subject: nameOf([[OID.CN, nodeId]]),
    subjectPKInfo: AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
  });
  const signed = signEcdsaSha256(new Uint8Array(AsnConvert.serialize(info)), privateKey);
  const csr = new CertificationRequest({ certificationRequestInfo: info, signatureAlgorithm: signed.algorithm, signature: signed.signature });
  return derToPem(AsnConvert.serialize(csr), 'CERTIFICATE REQUEST');
}

/**
 * @internal Reads a CSR and returns its public key — DER SubjectPublicKeyInfo
 * as OpenSSL writes it — once its self-signature (ecdsa-with-SHA256 over the
 * request info as sent) verifies and the key is ECDSA P-256. Nothing else of
 * the CSR is used.
 * @throws CsrRejectedError otherwise.
 */
export function spkiOfCsr(csrPem: string): Buffer {
  const der = pemToDer(csrPem, 'CERTIFICATE REQUEST');
  if (typeof der === 'string') throw new CsrRejectedError(der);
  let csr: CertificationRequest;
  let spki: Buffer;
  try {
    csr = AsnConvert.parse(der, CertificationRequest);
    spki = Buffer.from(AsnConvert.serialize(csr.certificationRequestInfo.subjectPKInfo));
  } catch (err) {
    throw new CsrRejectedError('not a DER PKCS#10 request', { cause: err });
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    throw new CsrRejectedError('its key is not an ECDSA P-256 public key', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new CsrRejectedError('its key is not an ECDSA P-256 public key');
  }
  let ok = false;
  try {
    const signed = csr.certificationRequestInfoRaw;
    ok = csr.signatureAlgorithm.algorithm === ECDSA_WITH_SHA256 && signed !== undefined && verifySignature('sha256', new Uint8Array(signed), { key, dsaEncoding: 'der' }, new Uint8Array(csr.signature));
  } catch {
    ok = false;
  }
  if (!ok) throw new CsrRejectedError('its signature does not verify with its own key (no proof of possession of the private key)');
  return key.export({ type: 'spki', format: 'der' });
}
