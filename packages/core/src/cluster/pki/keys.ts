import { generateKeyPairSync, KeyObject, webcrypto } from 'node:crypto';
import { MalformedKeyError } from './errors';
import { derToPem, pemToDer } from './pem';
import { KEY_ALGORITHM } from './profile';

/** A node's (or the CA's) key pair: WebCrypto ECDSA P-256 keys, the private one extractable so it can be written as PEM for `node:tls`. */
export type NodeKeyPair = webcrypto.CryptoKeyPair;

const { subtle } = webcrypto;

/**
 * Generates a fresh ECDSA P-256 key pair with node's WebCrypto (the key's
 * randomness is the platform's CSPRNG; it is not injectable). The private
 * key never leaves the node: it signs the node's CSR, and the CA only ever
 * sees the public key.
 */
export function generateNodeKey(): Promise<NodeKeyPair> {
  return subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']) as Promise<NodeKeyPair>;
}

/**
 * The private key as an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`),
 * the form `node:tls` takes as `key`. Whoever holds the text holds the
 * identity: store it with owner-only permissions.
 * @throws MalformedKeyError when the key is not extractable.
 */
export async function exportNodeKeyPem(key: NodeKeyPair | webcrypto.CryptoKey): Promise<string> {
  const privateKey = 'privateKey' in key ? key.privateKey : key;
  try {
    return derToPem(await subtle.exportKey('pkcs8', privateKey), 'PRIVATE KEY');
  } catch (err) {
    throw new MalformedKeyError('the private key cannot be exported (not extractable, or not a private key)', { cause: err });
  }
}

/**
 * Reads a PKCS#8 PEM written by {@link exportNodeKeyPem} (or `openssl genpkey
 * -algorithm EC -pkeyopt ec_paramgen_curve:P-256`) back into a key pair; the
 * public half is recomputed from the private key.
 * @throws MalformedKeyError when the text is not one PKCS#8 PEM block of an ECDSA P-256 private key.
 */
export async function importNodeKeyPem(pem: string): Promise<NodeKeyPair> {
  if (typeof pem !== 'string') throw new MalformedKeyError(`expected PEM text, got ${typeof pem}`);
  const der = pemToDer(pem, 'PRIVATE KEY');
  if (typeof der === 'string') throw new MalformedKeyError(der);
  try {
    const privateKey = await subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']);
    const { kty, crv, x, y } = await subtle.exportKey('jwk', privateKey);
    const publicKey = await subtle.importKey('jwk', { kty, crv, x, y }, KEY_ALGORITHM, true, ['verify']);
    return { privateKey, publicKey };
  } catch (err) {
    throw new MalformedKeyError('not a PKCS#8 ECDSA P-256 private key', { cause: err });
  }
}

/**
 * @internal A fresh ECDSA P-256 key pair as node:crypto key objects (the join
 * client's: it signs a CSR and is written as PEM, with no WebCrypto call).
 */
export function generateNodeKeyObjects(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** @internal A key pair given as WebCrypto keys as node:crypto key objects, or a fresh pair when none is given. */
export function keyObjectsOf(key: NodeKeyPair | undefined): { privateKey: KeyObject; publicKey: KeyObject } {
  return key === undefined ? generateNodeKeyObjects() : { privateKey: KeyObject.from(key.privateKey), publicKey: KeyObject.from(key.publicKey) };
}

/** @internal A private key object as the PKCS#8 PEM {@link exportNodeKeyPem} writes. */
export function pemOfKeyObject(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** @internal DER SubjectPublicKeyInfo of a public key (to compare keys byte for byte). */
export async function spkiOf(publicKey: webcrypto.CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle.exportKey('spki', publicKey));
}
