/**
 * Mutual TLS 1.3 with node:tls between two nodes' credentials, on
 * 127.0.0.1:0: the handshake succeeds and each end learns the other's node
 * id and role from its certificate; it fails — at the TLS layer, not by our
 * after-the-fact checks — when the client has no certificate, one from
 * another CA, or an expired one, and when the server's CA is not the one the
 * client trusts. Every server and socket is closed, even on failure.
 *
 * This is also the evidence for the key choice (see ClusterCa's TSDoc):
 * ECDSA P-256 certificates made with @peculiar/x509 + WebCrypto are served
 * and verified by node:tls (OpenSSL) in TLS 1.3.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  CertificateNotTrustedError,
  CertificateRevokedError,
  ClusterCa,
  MalformedKeyError,
  parseNodeCertificate,
  peerIdentity,
  tlsOptionsFor,
  UnexpectedPeerError,
  type NodeIdentity,
  type NodeTlsOptions,
  type PeerIdentityOptions,
} from '../../src/cluster/pki';
import { creds, issueNode, thrownBy, type NodeCreds } from './pki-helpers';

type CodedError = Error & { code?: string };

const DAY = 24 * 3600_000;

/** What happened on both ends of one connection attempt. */
interface Outcome {
  /** The server emitted `secureConnection` (it accepted the client). */
  serverAccepted: boolean;
  /** On an accepted connection: the server socket's `authorized` and `authorizationError` (OpenSSL's verdict on the client certificate). */
  serverAuthorized?: boolean;
  serverAuthorizationError?: string;
  /** The server's `tlsClientError`, if any. */
  serverError?: CodedError;
  /** The client emitted `secureConnect`. */
  clientSecure: boolean;
  clientAuthorized?: boolean;
  clientError?: CodedError;
  /** What the client read: the server writes "hello" to every client it accepts. */
  received: string;
  /** The client socket closed (rather than the 10 s guard expiring). */
  clientClosed: boolean;
  protocol?: string | null;
  sharedSigalgs?: string[];
  serverCurve?: string;
  /** `peerIdentity` on the server's socket (the client's identity), or what it threw. */
  serverSawPeer?: NodeIdentity | unknown;
  /** `peerIdentity` on the client's socket (the server's identity). */
  clientSawPeer?: NodeIdentity | unknown;
  /** What the `onServer` / `onClient` hooks returned (or threw). */
  serverAsked?: unknown;
  clientAsked?: unknown;
}

const attempt = (f: () => NodeIdentity): NodeIdentity | unknown => {
  try {
    return f();
  } catch (e) {
    return e;
  }
};

/** One connection attempt; resolves once both ends have settled (or after 10 s), with everything closed. */
async function handshake(
  serverOptions: tls.TlsOptions,
  clientOptions: tls.ConnectionOptions,
  serverPeerOptions?: PeerIdentityOptions,
  hooks: { onServer?: (sock: tls.TLSSocket) => unknown; onClient?: (sock: tls.TLSSocket) => unknown } = {},
): Promise<Outcome> {
  const out: Outcome = { serverAccepted: false, clientSecure: false, received: '', clientClosed: false };
  const serverSockets = new Set<tls.TLSSocket>();
  let serverSettled!: () => void;
  const serverDone = new Promise<void>((r) => (serverSettled = r));
  const server = tls.createServer(serverOptions, (sock) => {
    serverSockets.add(sock);
    out.serverAccepted = true;
    out.serverAuthorized = sock.authorized;
    if (sock.authorizationError !== undefined && sock.authorizationError !== null) out.serverAuthorizationError = String(sock.authorizationError);
    out.serverSawPeer = attempt(() => peerIdentity(sock, serverPeerOptions));
    out.sharedSigalgs = sock.getSharedSigalgs();
    if (hooks.onServer) out.serverAsked = attempt(() => hooks.onServer!(sock) as never);
    sock.on('error', () => undefined);
    sock.on('close', () => serverSettled());
    if (out.serverSawPeer instanceof Error) sock.destroy();
    else sock.end('hello');
  });
  server.on('tlsClientError', (err: CodedError, sock) => {
    out.serverError = err;
    sock.destroy();
    serverSettled();
  });
  let client: tls.TLSSocket | undefined;
  try {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    client = tls.connect({ ...clientOptions, host: '127.0.0.1', port });
    const c = client;
    c.on('secureConnect', () => {
      out.clientSecure = true;
      out.clientAuthorized = c.authorized;
      out.protocol = c.getProtocol();
      out.clientSawPeer = attempt(() => peerIdentity(c));
      if (hooks.onClient) out.clientAsked = attempt(() => hooks.onClient!(c) as never);
      out.serverCurve = c.getPeerX509Certificate()?.publicKey.asymmetricKeyDetails?.namedCurve;
    });
    c.on('data', (d: Buffer) => (out.received += d.toString()));
    c.on('error', (e: CodedError) => (out.clientError = e));
    // Not events.once: it rejects on 'error', and a refused handshake is an expected outcome here.
    const clientClosed = new Promise<void>((r) =>
      c.on('close', () => {
        out.clientClosed = true;
        r();
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, 10_000)));
    await Promise.race([Promise.all([clientClosed, serverDone]), timeout]);
    clearTimeout(timer);
    return out;
  } finally {
    client?.destroy();
    for (const s of serverSockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const serverSide = (o: NodeTlsOptions): tls.TlsOptions => o;
const clientSide = (o: NodeTlsOptions): tls.ConnectionOptions => o;

describe('mutual TLS 1.3 between nodes', () => {
  let ca: ClusterCa;
  let otherCa: ClusterCa;
  let manager: NodeCreds;
  let worker: NodeCreds;
  beforeAll(async () => {
    ca = await ClusterCa.create({ clusterId: 'c1' });
    // Same cluster id, same names: only the key differs. Trust must come from the key, not the names.
    otherCa = await ClusterCa.create({ clusterId: 'c1' });
    manager = await issueNode(ca, 'm1', 'manager');
    worker = await issueNode(ca, 'w1', 'worker');
  });

  it('succeeds with ECDSA P-256 certificates, and each end learns the other node id and role from the certificate', async () => {
    const out = await handshake(serverSide(tlsOptionsFor(creds(manager))), clientSide(tlsOptionsFor(creds(worker))));
    expect(out.serverError).toBeUndefined();
    expect(out.clientError).toBeUndefined();
    expect(out.serverAccepted).toBe(true);
    expect(out.clientAuthorized).toBe(true);
    expect(out.received).toBe('hello');
    expect(out.protocol).toBe('TLSv1.3');
    expect(out.serverCurve).toBe('prime256v1');
    expect(out.sharedSigalgs).toContain('ECDSA+SHA256');
    expect(out.serverAuthorized).toBe(true);
    expect(out.serverSawPeer).toEqual(parseNodeCertificate(worker.certPem));
    expect(out.serverSawPeer).toMatchObject({ nodeId: 'w1', role: 'worker', clusterId: 'c1' });
    expect(out.clientSawPeer).toMatchObject({ nodeId: 'm1', role: 'manager', clusterId: 'c1' });
  });

  it('is refused by the server when the client presents no certificate', async () => {
    const { cert: _c, key: _k, ...noCert } = tlsOptionsFor(creds(worker));
    const out = await handshake(serverSide(tlsOptionsFor(creds(manager))), noCert);
    expect(out.serverAccepted).toBe(false);
    expect(out.serverError?.code).toBe('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    expect(out.received).toBe('');
    // TLS 1.3: the client may finish its side first, then learns of the refusal from the server's alert.
    expect(out.clientError?.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });

  it('is refused by the server when the client certificate is from another CA (same cluster id and names)', async () => {
    const impostor = await issueNode(otherCa, 'w1', 'worker');
    // The impostor trusts the real CA (so it would accept the server); its own certificate is the problem.
    const clientOptions = { ...tlsOptionsFor(creds(impostor)), ca: ca.certificatePem };
    const serverOptions = serverSide(tlsOptionsFor(creds(manager)));
    const out = await handshake(serverOptions, clientOptions);
    expect(out.serverAccepted).toBe(false);
    expect(out.received).toBe('');
    expect(out.clientClosed).toBe(true);
    // Why: OpenSSL's verdict on this client certificate, from a probe server identical but for rejectUnauthorized.
    const probe = await handshake({ ...serverOptions, rejectUnauthorized: false }, clientOptions);
    expect(probe.serverAccepted).toBe(true);
    expect(probe.serverAuthorized).toBe(false);
    // Same subject as the real CA, so OpenSSL finds "the issuer" and the signature fails.
    expect(probe.serverAuthorizationError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(probe.serverSawPeer).toBeInstanceOf(CertificateNotTrustedError);
  });

  it('is refused by the server when the client certificate has expired', async () => {
    // A CA made a week ago, so that it can issue a certificate two days ago that lived for an hour.
    const weekOld = await ClusterCa.create({ clusterId: 'c1', now: () => Date.now() - 7 * DAY });
    const server = await issueNode(weekOld, 'm1', 'manager', { now: () => Date.now() });
    const expired = await issueNode(weekOld, 'w2', 'worker', { now: () => Date.now() - 2 * DAY, lifetimeMs: 3600_000 });
    expect(parseNodeCertificate(expired.certPem).notAfter.getTime()).toBeLessThan(Date.now());
    const serverOptions = serverSide(tlsOptionsFor(creds(server)));
    const out = await handshake(serverOptions, clientSide(tlsOptionsFor(creds(expired))));
    expect(out.serverAccepted).toBe(false);
    expect(out.received).toBe('');
    expect(out.clientClosed).toBe(true);
    const probe = await handshake({ ...serverOptions, rejectUnauthorized: false }, clientSide(tlsOptionsFor(creds(expired))));
    expect(probe.serverAuthorized).toBe(false);
    expect(probe.serverAuthorizationError).toBe('CERT_HAS_EXPIRED');
  });

  it("is refused by the client when the server's certificate is not from the CA the client trusts", async () => {
    const foreignServer = await issueNode(otherCa, 'm1', 'manager');
    // The server would accept the client (it trusts the client's CA); the client must refuse the server.
    const serverOptions = { ...tlsOptionsFor(creds(foreignServer)), ca: ca.certificatePem };
    const out = await handshake(serverOptions, clientSide(tlsOptionsFor(creds(worker))));
    expect(out.clientSecure).toBe(false);
    expect(out.clientError?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(out.serverAccepted).toBe(false);
    expect(out.received).toBe('');
  });

  it('is refused by a TLS 1.2-only client (the options pin TLS 1.3)', async () => {
    const out = await handshake(serverSide(tlsOptionsFor(creds(manager))), { ...tlsOptionsFor(creds(worker)), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(out.serverAccepted).toBe(false);
    expect(out.clientSecure).toBe(false);
    expect(out.serverError?.code).toBe('ERR_SSL_UNSUPPORTED_PROTOCOL');
  });

  it('lets a client require the role (or node id) of the server it dials: a worker answering for a manager is refused', async () => {
    const asManager = tlsOptionsFor({ ...creds(manager), peer: { role: 'manager' } });
    const out = await handshake(serverSide(tlsOptionsFor(creds(worker))), clientSide(asManager));
    expect(out.clientSecure).toBe(false);
    expect(out.clientError).toBeInstanceOf(UnexpectedPeerError);
    expect(out.clientError?.message).toBe('TLS peer is node "w1" (worker), expected role "manager"');
    expect(out.serverAccepted).toBe(false);

    const byId = await handshake(serverSide(tlsOptionsFor(creds(manager))), clientSide(tlsOptionsFor({ ...creds(worker), peer: { nodeId: 'm2' } })));
    expect(byId.clientError).toBeInstanceOf(UnexpectedPeerError);
    const ok = await handshake(serverSide(tlsOptionsFor(creds(manager))), clientSide(tlsOptionsFor({ ...creds(worker), peer: { nodeId: 'm1', role: 'manager' } })));
    expect(ok.received).toBe('hello');
  });

  it('applies deny lists: a client refuses a revoked server, a server finds a revoked client through peerIdentity', async () => {
    const managerSerial = parseNodeCertificate(manager.certPem).serial;
    const out = await handshake(serverSide(tlsOptionsFor(creds(manager))), clientSide(tlsOptionsFor({ ...creds(worker), denied: (s) => s === managerSerial })));
    expect(out.clientError).toBeInstanceOf(CertificateRevokedError);
    expect(out.received).toBe('');

    const workerSerial = parseNodeCertificate(worker.certPem).serial;
    const back = await handshake(serverSide(tlsOptionsFor(creds(manager))), clientSide(tlsOptionsFor(creds(worker))), { denied: (s) => s === workerSerial });
    expect(back.serverSawPeer).toBeInstanceOf(CertificateRevokedError);
    expect(back.received).toBe('');
  });

  it('tlsOptionsFor checks the credentials up front', async () => {
    const foreign = await issueNode(otherCa, 'w9', 'worker');
    expect(thrownBy(() => tlsOptionsFor({ ...creds(worker), keyPem: manager.keyPem }))).toBeInstanceOf(MalformedKeyError);
    expect(thrownBy(() => tlsOptionsFor({ ...creds(foreign), caPem: ca.certificatePem }))).toBeInstanceOf(CertificateNotTrustedError);
    expect(thrownBy(() => tlsOptionsFor({ ...creds(worker), peer: { role: 'boss' } } as never))).toMatchObject({ name: 'InvalidOptionsError', field: 'peer.role' });
    expect(thrownBy(() => tlsOptionsFor(null as never))).toMatchObject({ name: 'InvalidOptionsError', field: '(options)' });
    const o = tlsOptionsFor(creds(worker));
    expect(o).toMatchObject({ ca: ca.certificatePem, cert: worker.certPem, key: worker.keyPem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: true });
  });

  it('peerIdentity can be asked repeatedly on both ends, and leaves getPeerX509Certificate usable', async () => {
    const ask = (sock: tls.TLSSocket): unknown[] => [peerIdentity(sock).nodeId, peerIdentity(sock).nodeId, sock.getPeerX509Certificate()?.subject];
    const out = await handshake(serverSide(tlsOptionsFor(creds(manager))), clientSide(tlsOptionsFor(creds(worker))), undefined, { onServer: ask, onClient: ask });
    expect(out.received).toBe('hello');
    expect(out.serverAsked).toEqual(['w1', 'w1', 'O=c1\nOU=worker\nCN=w1']);
    expect(out.clientAsked).toEqual(['m1', 'm1', 'O=c1\nOU=manager\nCN=m1']);
  });

  it('peerIdentity refuses a socket that is not TLS, and an unverified peer', async () => {
    expect(thrownBy(() => peerIdentity(new net.Socket() as never))).toMatchObject({ name: 'InvalidOptionsError', field: 'socket' });
    expect(thrownBy(() => peerIdentity(new tls.TLSSocket(new net.Socket())))).toBeInstanceOf(CertificateNotTrustedError);
  });
});
