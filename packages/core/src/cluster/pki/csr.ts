import type { webcrypto } from 'node:crypto';
import { parseOptions } from '@weft/interface';
import { CsrRejectedError } from './errors';
import type { NodeKeyPair } from './keys';
import { createCsrSchema } from './options';
import { derToPem, pemToDer } from './pem';
import { KEY_ALGORITHM, SIGNING_ALGORITHM } from './profile';
import { webCrypto, x509 } from './x509';

/**
 * A PKCS#10 certificate signing request for `nodeId`, signed with the node's
 * own private key (proof of possession). Its subject (`CN=<nodeId>`) is
 * informational only: the CA names the certificate after the node id and
 * role it was told, never after the CSR.
 * @returns PEM text (`-----BEGIN CERTIFICATE REQUEST-----`).
 * @throws InvalidOptionsError (rejects) when `nodeId` is not a valid node id or `key` is not a key pair.
 */
export async function createCsr(nodeId: string, key: NodeKeyPair): Promise<string> {
  const o = parseOptions(createCsrSchema, { nodeId, key }, 'createCsr');
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: [{ CN: [o.nodeId] }], keys: key, signingAlgorithm: SIGNING_ALGORITHM },
    webCrypto,
  );
  return derToPem(csr.rawData, 'CERTIFICATE REQUEST');
}

/**
 * @internal Reads a CSR and returns its public key once its self-signature
 * verifies and the key is ECDSA P-256. Nothing else of the CSR is used.
 * @throws CsrRejectedError otherwise.
 */
export async function publicKeyOfCsr(csrPem: string): Promise<webcrypto.CryptoKey> {
  const der = pemToDer(csrPem, 'CERTIFICATE REQUEST');
  if (typeof der === 'string') throw new CsrRejectedError(der);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
    void csr.subjectName.toJSON();
  } catch (err) {
    throw new CsrRejectedError('not a DER PKCS#10 request', { cause: err });
  }
  let publicKey: webcrypto.CryptoKey;
  try {
    publicKey = (await csr.publicKey.export(KEY_ALGORITHM, ['verify'], webCrypto)) as webcrypto.CryptoKey;
  } catch (err) {
    throw new CsrRejectedError('its key is not an ECDSA P-256 public key', { cause: err });
  }
  let ok = false;
  try {
    ok = await csr.verify(webCrypto);
  } catch {
    ok = false;
  }
  if (!ok) throw new CsrRejectedError('its signature does not verify with its own key (no proof of possession of the private key)');
  return publicKey;
}
