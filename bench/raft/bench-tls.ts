/**
 * Certificates for the raft benchmark's mutual-TLS rows, made fresh in each
 * run, every key ECDSA P-256 (what `@weft/core/pki` issues):
 *
 * - ours: a `ClusterCa`, one node certificate per manager (role `manager`,
 *   through `generateNodeKey` → `createCsr` → `ca.issue`, as a joining node
 *   gets it) and one for the benchmark client (role `worker`, id `bench-client`);
 * - etcd: a separate bench CA and per-member certificates made with
 *   `@peculiar/x509` directly, because etcd needs what a Weft node
 *   certificate does not carry: an IP subjectAltName 127.0.0.1 (etcd's peers
 *   and our client check the server's IP against it), besides serverAuth +
 *   clientAuth (a member is server and client of its peers); and a client
 *   certificate (clientAuth) for the benchmark client.
 *
 * Also {@link tlsProbe}: what a TLS endpoint negotiates (protocol, cipher).
 */
import type { webcrypto } from 'node:crypto';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ClusterCa, createCsr, exportNodeKeyPem, generateNodeKey, tlsOptionsFor } from '../../packages/core/src/cluster/pki';
import { webCrypto, x509 } from '../../packages/core/test/cluster/x509';

/** A certificate and its private key, PEM. */
export interface CertKey {
  certPem: string;
  keyPem: string;
}

/** Credentials of our 3-manager benchmark cluster. */
export interface OurBenchTls {
  caPem: string;
  /** Manager id → its node certificate (role manager). */
  nodes: Record<string, CertKey>;
  /** The benchmark client's certificate (role worker). */
  client: CertKey;
  /** `node:tls` options the benchmark client dials a manager's client port with (mutual TLS 1.3, the server must be a manager of this CA). */
  clientOptions: ConnectionOptions;
}

/** Credentials of the 3-member etcd benchmark cluster. */
export interface EtcdBenchTls {
  caPem: string;
  /** One per member, in member order: serverAuth + clientAuth, IP SAN 127.0.0.1, DNS SAN localhost. */
  members: CertKey[];
  /** The benchmark client's certificate (clientAuth). */
  client: CertKey;
  /** `node:tls` options for the benchmark client: the bench CA as the only trust anchor, the client certificate; the server is checked against 127.0.0.1 (its IP SAN). */
  clientOptions: ConnectionOptions;
}

const pem = (der: ArrayBuffer, label: string): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

/** Our side: a cluster CA, manager certificates for `ids`, and a client certificate. */
export async function ourBenchTls(ids: readonly string[]): Promise<OurBenchTls> {
  const ca = await ClusterCa.create({ clusterId: 'weft-bench' });
  const issue = async (nodeId: string, role: 'manager' | 'worker'): Promise<CertKey> => {
    const key = await generateNodeKey();
    const certPem = await ca.issue({ csrPem: await createCsr(nodeId, key), nodeId, role });
    return { certPem, keyPem: await exportNodeKeyPem(key) };
  };
  const nodes: Record<string, CertKey> = {};
  for (const id of ids) nodes[id] = await issue(id, 'manager');
  const client = await issue('bench-client', 'worker');
  const clientOptions: ConnectionOptions = { ...tlsOptionsFor({ caPem: ca.certificatePem, ...client, peer: { role: 'manager' } }) };
  return { caPem: ca.certificatePem, nodes, client, clientOptions };
}

/** etcd's side: a bench CA (P-256), `members` member certificates and a client certificate. */
export async function etcdBenchTls(members: number): Promise<EtcdBenchTls> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const signing = { name: 'ECDSA', hash: 'SHA-256' } as const;
  const gen = (): Promise<webcrypto.CryptoKeyPair> => webCrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + 24 * 3600_000);
  const serial = (): string => Buffer.from(webCrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
  const caKeys = await gen();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: 'CN=weft-bench-etcd-ca',
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: signing,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    },
    webCrypto,
  );
  const leaf = async (cn: string, server: boolean): Promise<CertKey> => {
    const keys = await gen();
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject: `CN=${cn}`,
        issuer: caCert.subject,
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: signing,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(server ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.clientAuth]),
          ...(server
            ? [
                new x509.SubjectAlternativeNameExtension([
                  { type: 'ip', value: '127.0.0.1' },
                  { type: 'dns', value: 'localhost' },
                ]),
              ]
            : []),
        ],
      },
      webCrypto,
    );
    return { certPem: cert.toString('pem') + '\n', keyPem: pem(await webCrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
  };
  const out: CertKey[] = [];
  for (let i = 0; i < members; i++) out.push(await leaf(`e${i + 1}`, true));
  const client = await leaf('bench-client', false);
  const caPem = caCert.toString('pem') + '\n';
  return { caPem, members: out, client, clientOptions: { ca: caPem, cert: client.certPem, key: client.keyPem, minVersion: 'TLSv1.2' } };
}

/** What a TLS handshake negotiated. */
export interface TlsInfo {
  protocol: string;
  cipher: string;
  /** ALPN protocol, when one was agreed. */
  alpn?: string;
  /** Key-exchange group (e.g. X25519), when node reports it. */
  group?: string;
}

/** Reads what an established TLS socket negotiated. */
export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  const eph = socket.getEphemeralKeyInfo() as { name?: string } | null;
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher().standardName ?? socket.getCipher().name,
    ...(typeof socket.alpnProtocol === 'string' ? { alpn: socket.alpnProtocol } : {}),
    ...(eph?.name ? { group: eph.name } : {}),
  };
}

/** Handshakes with 127.0.0.1:`port` using `options`, reads what was negotiated, and closes. */
export function tlsProbe(port: number, options: ConnectionOptions, timeoutMs = 5000): Promise<TlsInfo> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ ...options, host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS probe of port ${port} timed out`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const info = tlsInfoOf(socket);
      socket.end();
      socket.destroy();
      resolve(info);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** "TLSv1.3 TLS_AES_128_GCM_SHA256 (X25519, h2)" */
export function describeTls(i: TlsInfo): string {
  const extra = [i.group, i.alpn].filter((x): x is string => typeof x === 'string' && x !== '');
  return `${i.protocol} ${i.cipher}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}
