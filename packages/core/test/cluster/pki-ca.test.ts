/**
 * The cluster CA and node certificates: fields as issued, read back by
 * node's own X.509 implementation (OpenSSL — code no one here wrote), proof
 * of possession of CSRs, and verification with dates and a deny list.
 */
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { InvalidOptionsError, isWeftError } from '@weft/interface';
import {
  CA_COMMON_NAME,
  CertificateExpiredError,
  CertificateNotTrustedError,
  CertificateRevokedError,
  ClusterCa,
  createCsr,
  CsrRejectedError,
  DEFAULT_NODE_CERT_LIFETIME_MS,
  exportNodeKeyPem,
  generateNodeKey,
  importNodeKeyPem,
  MalformedCertificateError,
  MalformedKeyError,
  parseNodeCertificate,
  verifyNodeCertificate,
  caDigestOf,
} from '../../src/cluster/pki';
import { base32Decode, base32Encode } from '../../src/cluster/pki/base32';
import { x509, webCrypto } from './x509';
import { derOf, issueNode, pemOf, rejectionOf, thrownBy } from './pki-helpers';

const DAY = 24 * 3600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const subjectOf = (x: X509Certificate): string => x.subject.split('\n').join(', ');
/** The to-be-signed part of a DER certificate, as its bytes (the first element of the outer SEQUENCE). */
const tbsOf = (der: Buffer): Buffer => Buffer.from(AsnConvert.parse(der, Certificate).tbsCertificateRaw!);

describe('ClusterCa', () => {
  let ca: ClusterCa;
  beforeAll(async () => {
    ca = await ClusterCa.create({ clusterId: 'c1', now: () => T0 });
  });

  it('creates a self-signed P-256 CA certificate that OpenSSL reads as a CA', () => {
    const x = new X509Certificate(ca.certificatePem);
    expect(subjectOf(x)).toBe(`O=c1, CN=${CA_COMMON_NAME}`);
    expect(x.issuer).toBe(x.subject);
    expect(x.ca).toBe(true);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    // 20 years (7300 days) from T0, backdated 5 minutes.
    expect(new Date(x.validTo).getTime()).toBe(T0 + 7300 * DAY);
    expect(new Date(x.validFrom).getTime()).toBe(T0 - 5 * 60_000);
    expect(ca.clusterId).toBe('c1');
    expect(ca.digest).toMatch(/^[a-z2-7]{52}$/);
  });

  it('marks basicConstraints CA:true (pathlen 0) and keyUsage keyCertSign + cRLSign, both critical', () => {
    const cert = new x509.X509Certificate(ca.certificatePem);
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect([bc.ca, bc.pathLength, bc.critical]).toEqual([true, 0, true]);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(ku.critical).toBe(true);
  });

  it('round-trips through toPem / fromPem: same certificate and digest, and the loaded CA issues certificates the original CA verifies', async () => {
    const { certificatePem, keyPem } = ca.toPem();
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const loaded = await ClusterCa.fromPem(certificatePem, keyPem);
    expect(loaded.certificatePem).toBe(ca.certificatePem);
    expect(loaded.digest).toBe(ca.digest);
    expect(loaded.clusterId).toBe('c1');
    const node = await issueNode(loaded, 'n1', 'worker', { now: () => T0 });
    const id = await verifyNodeCertificate(node.certPem, ca.certificatePem, { now: () => T0 + DAY });
    expect(id).toMatchObject({ nodeId: 'n1', role: 'worker', clusterId: 'c1' });
  });

  it('fromPem refuses a key that is not the certificate key, a non-CA certificate, and junk', async () => {
    const other = await ClusterCa.create({ clusterId: 'c1' });
    expect(await rejectionOf(ClusterCa.fromPem(ca.certificatePem, other.toPem().keyPem))).toBeInstanceOf(MalformedKeyError);
    expect(await rejectionOf(ClusterCa.fromPem(ca.certificatePem, 'not a key'))).toBeInstanceOf(MalformedKeyError);
    const node = await issueNode(ca, 'n1', 'worker');
    expect(await rejectionOf(ClusterCa.fromPem(node.certPem, node.keyPem))).toBeInstanceOf(MalformedCertificateError);
    expect(await rejectionOf(ClusterCa.fromPem('garbage', ca.toPem().keyPem))).toBeInstanceOf(MalformedCertificateError);
    const err = await rejectionOf(ClusterCa.fromPem(42 as never, 'x'));
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(err).toMatchObject({ field: 'certificatePem' });
  });

  it.each<[string, Record<string, unknown>]>([
    ['clusterId', { clusterId: '' }],
    ['clusterId', { clusterId: 'a/b' }],
    ['lifetimeMs', { clusterId: 'c1', lifetimeMs: 10 }],
    ['now', { clusterId: 'c1', now: 5 }],
    ['randomBytes', { clusterId: 'c1', randomBytes: 'x' }],
    ['extra', { clusterId: 'c1', extra: 1 }],
  ])('create rejects a bad %s', async (field, options) => {
    const err = await rejectionOf(ClusterCa.create(options as never));
    expect(isWeftError(err, 'ERR_INVALID_OPTIONS')).toBe(true);
    expect(err).toMatchObject({ field });
  });
});

describe('node certificates', () => {
  let ca: ClusterCa;
  beforeAll(async () => {
    ca = await ClusterCa.create({ clusterId: 'c1', now: () => T0 });
  });

  it('names the node (CN), its role (OU) and the cluster (O), with the weft:// URI and EKU serverAuth + clientAuth, as OpenSSL reads it', async () => {
    const node = await issueNode(ca, 'node-1', 'manager');
    const x = new X509Certificate(node.certPem);
    const caX = new X509Certificate(ca.certificatePem);
    expect(subjectOf(x)).toBe('O=c1, OU=manager, CN=node-1');
    expect(x.issuer).toBe(caX.subject);
    expect(x.ca).toBe(false);
    expect(x.subjectAltName).toBe('URI:weft://c1/node/node-1, DNS:node-1');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(x.checkIssued(caX)).toBe(true);
    expect(x.verify(caX.publicKey)).toBe(true);
    expect(x.verify(new X509Certificate((await ClusterCa.create({ clusterId: 'c1' })).certificatePem).publicKey)).toBe(false);
    expect(x.checkPrivateKey(createPrivateKey(node.keyPem))).toBe(true);
    // 90 days from T0 by default, backdated 5 minutes.
    expect(new Date(x.validTo).getTime()).toBe(T0 + DEFAULT_NODE_CERT_LIFETIME_MS);
    expect(new Date(x.validFrom).getTime()).toBe(T0 - 5 * 60_000);

    const id = parseNodeCertificate(node.certPem);
    expect(id).toEqual({
      nodeId: 'node-1',
      role: 'manager',
      clusterId: 'c1',
      serial: x.serialNumber.toLowerCase(),
      notBefore: new Date(T0 - 5 * 60_000),
      notAfter: new Date(T0 + DEFAULT_NODE_CERT_LIFETIME_MS),
      fingerprint: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    });
    // The same from DER bytes.
    expect(parseNodeCertificate(new Uint8Array(x.raw))).toEqual(id);
  });

  it('marks leaves CA:false and keyUsage digitalSignature + keyAgreement (critical), with key identifiers chaining to the CA', async () => {
    const node = await issueNode(ca, 'n1', 'worker');
    const cert = new x509.X509Certificate(node.certPem);
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect([bc.ca, bc.critical]).toEqual([false, true]);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect([ku.usages, ku.critical]).toEqual([x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true]);
    const caSki = new x509.X509Certificate(ca.certificatePem).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(caSki);
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
  });

  it("encodes what @peculiar/x509's generator encodes for the same fields (to the byte, signature aside)", async () => {
    // Another encoder of the same profile: the certificate the CA signs, made again by @peculiar/x509 from
    // the same serial, names, dates, key and extensions, has the same to-be-signed bytes.
    const node = await issueNode(ca, 'node-2', 'worker');
    const ours = new x509.X509Certificate(node.certPem);
    const caCert = new x509.X509Certificate(ca.certificatePem);
    const caKeys = await importNodeKeyPem(ca.toPem().keyPem);
    const theirs = await x509.X509CertificateGenerator.create(
      {
        serialNumber: ours.serialNumber,
        subject: [{ O: ['c1'] }, { OU: ['worker'] }, { CN: ['node-2'] }],
        issuer: caCert.subjectName,
        notBefore: ours.notBefore,
        notAfter: ours.notAfter,
        publicKey: node.keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension([
            { type: 'url', value: 'weft://c1/node/node-2' },
            { type: 'dns', value: 'node-2' },
          ]),
          await x509.SubjectKeyIdentifierExtension.create(node.keys.publicKey, false, webCrypto),
          new x509.AuthorityKeyIdentifierExtension(caCert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId),
        ],
      },
      webCrypto,
    );
    expect(tbsOf(derOf(node.certPem)).toString('hex')).toBe(tbsOf(Buffer.from(theirs.rawData)).toString('hex'));
    // And the CA certificate against a self-signed one made by @peculiar/x509 from the CA's fields.
    const caTheirs = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: caCert.serialNumber,
        name: [{ O: ['c1'] }, { CN: [CA_COMMON_NAME] }],
        notBefore: caCert.notBefore,
        notAfter: caCert.notAfter,
        keys: { privateKey: caKeys.privateKey, publicKey: caKeys.publicKey },
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, webCrypto),
        ],
      },
      webCrypto,
    );
    expect(tbsOf(derOf(ca.certificatePem)).toString('hex')).toBe(tbsOf(Buffer.from(caTheirs.rawData)).toString('hex'));
  });

  it('leaves the DNS name out when the node id is not a host name (the URI still names it)', async () => {
    const node = await issueNode(ca, 'node_1', 'worker');
    expect(new X509Certificate(node.certPem).subjectAltName).toBe('URI:weft://c1/node/node_1');
    expect(parseNodeCertificate(node.certPem).nodeId).toBe('node_1');
  });

  it('gives every certificate a random 128-bit serial, unique across 100 issues', async () => {
    const keys = await generateNodeKey();
    const csrPem = await createCsr('n', keys);
    const serials = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const certPem = await ca.issue({ csrPem, nodeId: `n${i}`, role: 'worker' });
      const serial = parseNodeCertificate(certPem).serial;
      expect(serial).toMatch(/^[0-9a-f]{1,32}$/);
      expect(BigInt(`0x${serial}`) < 1n << 128n).toBe(true);
      expect(serial.toUpperCase()).toBe(new X509Certificate(certPem).serialNumber);
      serials.add(serial);
    }
    expect(serials.size).toBe(100);
  });

  it('takes serials from the injected random source', async () => {
    const seeded = await ClusterCa.create({ clusterId: 'c1', randomBytes: (n) => new Uint8Array(n).fill(0xab) });
    const node = await issueNode(seeded, 'n1', 'worker');
    expect(parseNodeCertificate(node.certPem).serial).toBe('ab'.repeat(16));
  });

  it('never lets a node certificate outlive the CA', async () => {
    const short = await ClusterCa.create({ clusterId: 'c1', now: () => T0, lifetimeMs: 10 * DAY });
    const node = await issueNode(short, 'n1', 'worker', { lifetimeMs: 90 * DAY });
    expect(parseNodeCertificate(node.certPem).notAfter).toEqual(short.notAfter);
    // And an expired CA issues nothing.
    const err = await rejectionOf(issueNode(short, 'n2', 'worker', { now: () => T0 + 11 * DAY }));
    expect(err).toBeInstanceOf(CertificateExpiredError);
  });

  it('refuses a CSR whose signature was tampered with (no proof of possession)', async () => {
    const keys = await generateNodeKey();
    const der = derOf(await createCsr('n1', keys));
    const flipped = Buffer.from(der);
    flipped[flipped.length - 1]! ^= 0x01; // inside the ECDSA signature's s
    const err = await rejectionOf(ca.issue({ csrPem: pemOf(flipped, 'CERTIFICATE REQUEST'), nodeId: 'n1', role: 'worker' }));
    expect(err).toBeInstanceOf(CsrRejectedError);
    expect((err as Error).message).toContain('proof of possession');
  });

  it('refuses a CSR whose signed content was changed after signing (the subject swapped for another)', async () => {
    const keys = await generateNodeKey();
    const der = derOf(await createCsr('n1', keys));
    const at = der.indexOf(Buffer.from('n1'));
    expect(at).toBeGreaterThan(0);
    const changed = Buffer.from(der);
    changed.write('n2', at);
    const err = await rejectionOf(ca.issue({ csrPem: pemOf(changed, 'CERTIFICATE REQUEST'), nodeId: 'n2', role: 'worker' }));
    expect(err).toBeInstanceOf(CsrRejectedError);
  });

  it('refuses a CSR whose key is not P-256, and text that is not a CSR', async () => {
    const p384 = (await webCrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as never;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=n1', keys: p384, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' } }, webCrypto);
    expect(await rejectionOf(ca.issue({ csrPem: csr.toString('pem'), nodeId: 'n1', role: 'worker' }))).toBeInstanceOf(CsrRejectedError);
    expect(await rejectionOf(ca.issue({ csrPem: ca.certificatePem, nodeId: 'n1', role: 'worker' }))).toBeInstanceOf(CsrRejectedError);
    expect(await rejectionOf(ca.issue({ csrPem: 'hello', nodeId: 'n1', role: 'worker' }))).toBeInstanceOf(CsrRejectedError);
  });

  it("ignores the CSR's subject and extensions: the certificate names the node id and role it was given", async () => {
    const keys = await generateNodeKey();
    // A CSR asking to be a manager of another cluster, with its own SAN and CA:true.
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
      {
        name: [{ O: ['other-cluster'] }, { OU: ['manager'] }, { CN: ['evil'] }],
        keys,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'weft://other-cluster/node/evil' }])],
      },
      webCrypto,
    );
    const certPem = await ca.issue({ csrPem: csr.toString('pem'), nodeId: 'n7', role: 'worker' });
    const x = new X509Certificate(certPem);
    expect(subjectOf(x)).toBe('O=c1, OU=worker, CN=n7');
    expect(x.subjectAltName).toBe('URI:weft://c1/node/n7, DNS:n7');
    expect(x.ca).toBe(false);
    // The certificate is for the CSR's key, though.
    expect(x.publicKey.export({ format: 'der', type: 'spki' })).toEqual(Buffer.from(await webCrypto.subtle.exportKey('spki', keys.publicKey)));
  });

  it.each<[string, Record<string, unknown>]>([
    ['nodeId', { nodeId: '' }],
    ['role', { role: 'admin' }],
    ['lifetimeMs', { lifetimeMs: 0 }],
    ['csrPem', { csrPem: 42 }],
    ['now', { now: 'yesterday' }],
  ])('issue rejects a bad %s', async (field, bad) => {
    const err = await rejectionOf(ca.issue({ csrPem: 'x', nodeId: 'n1', role: 'worker', ...bad } as never));
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(err).toMatchObject({ field });
  });

  it('createCsr rejects a bad node id or key', async () => {
    const keys = await generateNodeKey();
    expect(await rejectionOf(createCsr('no/slash', keys))).toMatchObject({ name: 'InvalidOptionsError', field: 'nodeId' });
    expect(await rejectionOf(createCsr('n1', {} as never))).toMatchObject({ name: 'InvalidOptionsError', field: 'key' });
  });
});

describe('node keys', () => {
  it('export to PKCS#8 PEM and import back to a working pair (node:crypto reads the PEM as P-256)', async () => {
    const keys = await generateNodeKey();
    const pem = await exportNodeKeyPem(keys);
    expect(createPrivateKey(pem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const back = await importNodeKeyPem(pem);
    expect(Buffer.from(await webCrypto.subtle.exportKey('spki', back.publicKey))).toEqual(Buffer.from(await webCrypto.subtle.exportKey('spki', keys.publicKey)));
    // A CSR signed by the imported key is accepted.
    const ca = await ClusterCa.create({ clusterId: 'c1' });
    const certPem = await ca.issue({ csrPem: await createCsr('n1', back), nodeId: 'n1', role: 'worker' });
    expect(parseNodeCertificate(certPem).nodeId).toBe('n1');
  });

  it('refuse PEM that is not a P-256 PKCS#8 key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const edPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(await rejectionOf(importNodeKeyPem(edPem))).toBeInstanceOf(MalformedKeyError);
    expect(await rejectionOf(importNodeKeyPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'))).toBeInstanceOf(MalformedKeyError);
    expect(await rejectionOf(importNodeKeyPem(''))).toBeInstanceOf(MalformedKeyError);
  });
});

describe('verifyNodeCertificate', () => {
  let ca: ClusterCa;
  let other: ClusterCa;
  beforeAll(async () => {
    ca = await ClusterCa.create({ clusterId: 'c1', now: () => T0 });
    other = await ClusterCa.create({ clusterId: 'c1', now: () => T0 });
  });

  it('returns the identity of a certificate of this CA, valid now', async () => {
    const node = await issueNode(ca, 'n1', 'manager');
    const id = await verifyNodeCertificate(node.certPem, ca.certificatePem, { now: () => T0 + DAY });
    expect(id).toEqual(parseNodeCertificate(node.certPem));
  });

  it('refuses a certificate of another CA — even one with the same cluster id and subject names', async () => {
    const node = await issueNode(other, 'n1', 'manager');
    const err = await rejectionOf(verifyNodeCertificate(node.certPem, ca.certificatePem, { now: () => T0 + DAY }));
    expect(err).toBeInstanceOf(CertificateNotTrustedError);
    expect((err as Error).message).toContain('signature does not verify');
  });

  it('refuses a certificate whose signature was tampered with', async () => {
    const node = await issueNode(ca, 'n1', 'manager');
    const der = derOf(node.certPem);
    der[der.length - 1]! ^= 0x01;
    const err = await rejectionOf(verifyNodeCertificate(pemOf(der, 'CERTIFICATE'), ca.certificatePem, { now: () => T0 + DAY }));
    expect(err).toBeInstanceOf(CertificateNotTrustedError);
  });

  it('refuses a certificate outside its validity, with the dates', async () => {
    const node = await issueNode(ca, 'n1', 'worker', { lifetimeMs: DAY });
    const late = await rejectionOf(verifyNodeCertificate(node.certPem, ca.certificatePem, { now: () => T0 + 2 * DAY }));
    expect(late).toBeInstanceOf(CertificateExpiredError);
    expect(late).toMatchObject({ expired: true, notAfter: new Date(T0 + DAY), notBefore: new Date(T0 - 5 * 60_000), at: new Date(T0 + 2 * DAY) });
    expect((late as Error).message).toContain('expired');
    const early = await rejectionOf(verifyNodeCertificate(node.certPem, ca.certificatePem, { now: () => T0 - 3600_000 }));
    expect(early).toBeInstanceOf(CertificateExpiredError);
    expect(early).toMatchObject({ expired: false });
    expect((early as Error).message).toContain('not valid yet');
    // Exactly at notAfter is still valid.
    await expect(verifyNodeCertificate(node.certPem, ca.certificatePem, { now: () => T0 + DAY })).resolves.toMatchObject({ nodeId: 'n1' });
  });

  it('refuses a deny-listed serial, after the signature and dates checked out', async () => {
    const a = await issueNode(ca, 'n1', 'worker');
    const b = await issueNode(ca, 'n2', 'worker');
    const denyList = new Set([parseNodeCertificate(a.certPem).serial]);
    const denied = (serial: string): boolean => denyList.has(serial);
    const err = await rejectionOf(verifyNodeCertificate(a.certPem, ca.certificatePem, { now: () => T0, denied }));
    expect(err).toBeInstanceOf(CertificateRevokedError);
    expect(err).toMatchObject({ serial: parseNodeCertificate(a.certPem).serial, nodeId: 'n1' });
    await expect(verifyNodeCertificate(b.certPem, ca.certificatePem, { now: () => T0, denied })).resolves.toMatchObject({ nodeId: 'n2' });
    // A certificate of another CA is "not trusted", whatever the deny list says.
    const foreign = await issueNode(other, 'n1', 'worker');
    expect(await rejectionOf(verifyNodeCertificate(foreign.certPem, ca.certificatePem, { now: () => T0, denied: () => true }))).toBeInstanceOf(CertificateNotTrustedError);
  });

  it('refuses malformed certificates: junk, a CA certificate, two certificates, a CA certificate in place of the CA', async () => {
    const at = { now: () => T0 };
    const node = await issueNode(ca, 'n1', 'worker');
    expect(await rejectionOf(verifyNodeCertificate('junk', ca.certificatePem, at))).toBeInstanceOf(MalformedCertificateError);
    expect(await rejectionOf(verifyNodeCertificate(ca.certificatePem, ca.certificatePem, at))).toBeInstanceOf(MalformedCertificateError);
    expect(await rejectionOf(verifyNodeCertificate(node.certPem + node.certPem, ca.certificatePem, at))).toBeInstanceOf(MalformedCertificateError);
    expect(await rejectionOf(verifyNodeCertificate(node.certPem, node.certPem, at))).toBeInstanceOf(MalformedCertificateError);
  });

  it('refuses node certificates with a wrong structure (an unknown role or none, wrong extensions), each with its reason (signed by the CA key: only the structure is wrong)', async () => {
    const at = { now: () => T0 };
    const node = await issueNode(ca, 'n1', 'worker');
    const caKeys = await importNodeKeyPem(ca.toPem().keyPem);
    const bc = new x509.BasicConstraintsExtension(false, undefined, true);
    const eku = new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    const san = new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'weft://c1/node/n1' }]);
    const cases: Array<[string, x509.Extension[], string, string?]> = [
      // A role the PKI does not know, and no role at all.
      ['role admin', [bc, eku, san], 'OU (role) "admin" is not manager or worker', 'O=c1, OU=admin, CN=n1'],
      ['no OU', [bc, eku, san], 'expected one subject OU (role), found 0', 'O=c1, CN=n1'],
      ['CA:true', [new x509.BasicConstraintsExtension(true, undefined, true), eku, san], 'not an end-entity certificate (basicConstraints CA:true)'],
      ['no basicConstraints', [eku, san], 'basicConstraints missing'],
      ['no subjectAltName', [bc, eku], 'subjectAltName must hold exactly the URI weft://c1/node/n1'],
      ['another node in the URI', [bc, eku, new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'weft://c1/node/n2' }])], 'must hold exactly the URI weft://c1/node/n1'],
      ['two weft URIs', [bc, eku, new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'weft://c1/node/n1' }, { type: 'url', value: 'weft://c1/node/n2' }])], 'must hold exactly the URI'],
      ['serverAuth only', [bc, new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), san], 'extendedKeyUsage lacks clientAuth'],
      ['no extendedKeyUsage', [bc, san], 'extendedKeyUsage lacks serverAuth'],
      ['basicConstraints twice', [bc, bc, eku, san], 'an extension appears twice'],
    ];
    for (const [label, extensions, reason, subject] of cases) {
      const forged = await x509.X509CertificateGenerator.create(
        {
          subject: subject ?? 'O=c1, OU=worker, CN=n1',
          issuer: new x509.X509Certificate(ca.certificatePem).subjectName,
          publicKey: node.keys.publicKey,
          signingKey: caKeys.privateKey,
          signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
          notBefore: new Date(T0 - DAY),
          notAfter: new Date(T0 + DAY),
          extensions,
        },
        webCrypto,
      );
      const err = await rejectionOf(verifyNodeCertificate(forged.toString('pem'), ca.certificatePem, at));
      expect([label, err]).toEqual([label, expect.any(MalformedCertificateError)]);
      expect([label, (err as MalformedCertificateError).reason]).toEqual([label, expect.stringContaining(reason)]);
      expect([label, thrownBy(() => parseNodeCertificate(forged.toString('pem')))]).toEqual([label, expect.any(MalformedCertificateError)]);
    }
  });

  it('refuses a CA certificate without keyCertSign, one marked CA:false, and one with another name', async () => {
    const keys = await generateNodeKey();
    const make = (name: string, extensions: x509.Extension[]): Promise<x509.X509Certificate> =>
      x509.X509CertificateGenerator.createSelfSigned(
        { serialNumber: '01', name, notBefore: new Date(T0 - DAY), notAfter: new Date(T0 + DAY), keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions },
        webCrypto,
      );
    const ku = new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true);
    const cases: Array<[x509.X509Certificate, string]> = [
      [await make('O=c1, CN=weft-cluster-ca', [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.cRLSign, true)]), 'keyUsage lacks keyCertSign'],
      [await make('O=c1, CN=weft-cluster-ca', [new x509.BasicConstraintsExtension(true, 0, true)]), 'keyUsage lacks keyCertSign'],
      [await make('O=c1, CN=weft-cluster-ca', [new x509.BasicConstraintsExtension(false, undefined, true), ku]), 'not a CA (basicConstraints CA:false)'],
      [await make('O=c1, CN=some-ca', [new x509.BasicConstraintsExtension(true, 0, true), ku]), 'subject CN "some-ca" is not weft-cluster-ca'],
    ];
    for (const [cert, reason] of cases) {
      const err = thrownBy(() => caDigestOf(cert.toString('pem')));
      expect(err).toBeInstanceOf(MalformedCertificateError);
      expect((err as MalformedCertificateError).reason).toContain(reason);
    }
    // The same layout with keyCertSign is a cluster CA.
    expect(caDigestOf((await make('O=c1, CN=weft-cluster-ca', [new x509.BasicConstraintsExtension(true, 0, true), ku])).toString('pem'))).toHaveLength(52);
  });

  it('reads PEM strictly: CRLF line ends are fine; headers, broken base64 and a missing END line are not', async () => {
    const node = await issueNode(ca, 'n1', 'worker');
    expect(parseNodeCertificate(node.certPem.replace(/\n/g, '\r\n')).nodeId).toBe('n1');
    expect(parseNodeCertificate(`some text before\n${node.certPem}and after\n`).nodeId).toBe('n1');
    const lines = node.certPem.trimEnd().split('\n');
    const withHeader = [lines[0], 'Proc-Type: 4,ENCRYPTED', '', ...lines.slice(1)].join('\n');
    const badBase64 = [lines[0], `${lines[1]!.slice(0, -1)}!`, ...lines.slice(2)].join('\n');
    const noEnd = lines.slice(0, -1).join('\n');
    for (const pem of [withHeader, badBase64, noEnd]) expect(thrownBy(() => parseNodeCertificate(pem))).toBeInstanceOf(MalformedCertificateError);
  });

  it("writes CSRs another implementation verifies (@peculiar/x509), and takes theirs", async () => {
    const keys = await generateNodeKey();
    const ours = new x509.Pkcs10CertificateRequest(await createCsr('n1', keys));
    expect(await ours.verify(webCrypto)).toBe(true);
    expect(ours.subject).toBe('CN=n1');
    expect(ours.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    const theirs = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=n2', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } }, webCrypto);
    const certPem = await ca.issue({ csrPem: theirs.toString('pem'), nodeId: 'n2', role: 'worker' });
    expect(parseNodeCertificate(certPem).nodeId).toBe('n2');
  });

  it('rejects bad options with InvalidOptionsError naming the field', async () => {
    const node = await issueNode(ca, 'n1', 'worker');
    expect(await rejectionOf(verifyNodeCertificate(node.certPem, ca.certificatePem, { denied: new Set() } as never))).toMatchObject({ name: 'InvalidOptionsError', field: 'denied' });
    expect(await rejectionOf(verifyNodeCertificate(node.certPem, ca.certificatePem, null as never))).toMatchObject({ name: 'InvalidOptionsError', field: '(options)' });
  });
});

describe('base32 (RFC 4648 §10 test vectors, lowercase, unpadded)', () => {
  it.each([
    ['', ''],
    ['f', 'my'],
    ['fo', 'mzxq'],
    ['foo', 'mzxw6'],
    ['foob', 'mzxw6yq'],
    ['fooba', 'mzxw6ytb'],
    ['foobar', 'mzxw6ytboi'],
  ])('%j ↔ %j', (text, encoded) => {
    const bytes = new TextEncoder().encode(text);
    expect(base32Encode(bytes)).toBe(encoded);
    expect(base32Decode(encoded, bytes.length)).toEqual(bytes);
  });

  it('decodes only canonical text (no stray padding bits, no upper case, right length)', () => {
    expect(base32Decode('mz', 1)).toBeUndefined(); // "f" is "my": the 2 low bits of "z" are not zero
    expect(base32Decode('MY', 1)).toBeUndefined();
    expect(base32Decode('myy', 1)).toBeUndefined();
    expect(base32Decode('m1', 1)).toBeUndefined();
  });
});
