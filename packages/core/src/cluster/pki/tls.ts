import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { InvalidOptionsError, parseOptions } from '@weft/interface';
import { identityOf, readCaCertificate, readCertificate, type NodeIdentity } from './certificate-reader';
import { CertificateNotTrustedError, CertificateRevokedError, MalformedKeyError, UnexpectedPeerError } from './errors';
import { parseNodeCertificate } from './node-certificate';
import { peerIdentitySchema, tlsCredentialsSchema } from './options';
import type { NodeRole } from './profile';

/** A node's credentials for mutual TLS, and what it requires of the servers it dials. */
export interface NodeCredentials {
  /** The cluster CA certificate (PEM): the only CA trusted. */
  readonly caPem: string;
  /** This node's certificate (PEM), issued by that CA. */
  readonly certPem: string;
  /** This node's private key (PKCS#8 PEM, ECDSA P-256). */
  readonly keyPem: string;
  /**
   * As a client, accept only a server whose certificate names this node id
   * and/or role (e.g. `{ role: 'manager' }` when dialling a manager's store),
   * besides being certified by the CA. Default: any node of the cluster.
   */
  readonly peer?: { readonly nodeId?: string; readonly role?: NodeRole };
  /**
   * As a client, refuse a server whose certificate serial (lowercase hex) this
   * returns true for. (A server applies its deny list to clients with
   * {@link peerIdentity}'s `denied`: node:tls has no hook for it in the handshake.)
   */
  readonly denied?: (serial: string) => boolean;
}

/** Options of {@link peerIdentity}. */
export interface PeerIdentityOptions {
  /** Refuse a peer whose certificate serial (lowercase hex) this returns true for. */
  readonly denied?: (serial: string) => boolean;
}

/**
 * `node:tls` options for both ends of a control connection: spread into
 * `tls.createServer(...)` and into `tls.connect({ ...options, host, port })`.
 */
export interface NodeTlsOptions {
  /** The cluster CA: the only trust anchor (node's default root store is not used). */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly minVersion: 'TLSv1.3';
  readonly maxVersion: 'TLSv1.3';
  /** Servers ask every client for its certificate… */
  readonly requestCert: true;
  /** …and both ends refuse a peer whose chain does not verify to the CA (or that sends none). */
  readonly rejectUnauthorized: true;
  /**
   * Client side, called by node after the server's chain verified: accepts
   * the server by the identity in its certificate (cluster, node id, role,
   * deny list), not by host name — nodes dial addresses.
   */
  readonly checkServerIdentity: (hostname: string, cert: PeerCertificate) => Error | undefined;
}

function describePeer(id: NodeIdentity): string {
  return `node ${JSON.stringify(id.nodeId)} (${id.role})`;
}

/**
 * Builds the `node:tls` options of a node from its credentials: TLS 1.3
 * only, the cluster CA as the only trust anchor, client certificates required
 * and verified, and a `checkServerIdentity` that identifies the server by its
 * certificate's node id (see {@link NodeCredentials.peer}). Checks up front,
 * synchronously, that the certificate is a node certificate of this CA and
 * that the key is its key. Certificate dates are checked by OpenSSL during
 * each handshake, against the system clock.
 *
 * In TLS 1.3 a client finishes its handshake before the server has checked
 * the client's certificate, so a client the server refuses sees
 * `secureConnect` first, then an error or just a close: a missing
 * certificate gets a `certificate required` alert
 * (`ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`); a certificate that fails
 * verification (another CA, expired) makes node destroy the server's socket
 * after the handshake, without an alert, without `secureConnection`, and
 * without a dependable `tlsClientError` (observed on Node 20.20.2). A
 * transport must treat a connection as accepted by the server only once it
 * has read something from it.
 *
 * Do not add a `session` (TLS resumption) to the client options: node skips
 * `checkServerIdentity` on a resumed session, so `peer` and `denied` would
 * not be applied.
 * @throws MalformedCertificateError when `caPem` or `certPem` is not a Weft CA / node certificate.
 * @throws CertificateNotTrustedError when `certPem` was not issued by `caPem`.
 * @throws MalformedKeyError when `keyPem` is not an ECDSA P-256 key, or not the certificate's key.
 * @throws InvalidOptionsError when an option is invalid.
 */
export function tlsOptionsFor(credentials: NodeCredentials): NodeTlsOptions {
  const o = parseOptions(tlsCredentialsSchema, credentials, 'tlsOptionsFor');
  const ca = readCaCertificate(o.caPem);
  const own = readCertificate(o.certPem, 'node certificate');
  const ownId = identityOf(own);
  // Synchronous checks with node's own X.509 implementation (the one node:tls will use).
  const caCert = new X509Certificate(Buffer.from(ca.der));
  const ownCert = new X509Certificate(Buffer.from(own.der));
  if (!ownCert.checkIssued(caCert) || !ownCert.verify(caCert.publicKey) || ownId.clusterId !== ca.clusterId) {
    throw new CertificateNotTrustedError(`the node certificate of ${JSON.stringify(ownId.nodeId)} was not issued by the cluster CA of ${JSON.stringify(ca.clusterId)}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(o.keyPem);
  } catch (err) {
    throw new MalformedKeyError('keyPem is not a PEM private key', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new MalformedKeyError(`keyPem is a ${key.asymmetricKeyType ?? 'unknown'} key, expected ECDSA P-256`);
  }
  if (!ownCert.checkPrivateKey(key)) throw new MalformedKeyError(`keyPem is not the key of the certificate of ${JSON.stringify(ownId.nodeId)}`);
  const { peer, denied } = o;
  const clusterId = ca.clusterId;
  const checkServerIdentity = (_hostname: string, cert: PeerCertificate): Error | undefined => {
    try {
      if (cert?.raw === undefined) return new CertificateNotTrustedError('the server presented no certificate');
      const id = parseNodeCertificate(new Uint8Array(cert.raw));
      if (id.clusterId !== clusterId) return new CertificateNotTrustedError(`the server is of cluster ${JSON.stringify(id.clusterId)}, not ${JSON.stringify(clusterId)}`);
      if (peer?.nodeId !== undefined && id.nodeId !== peer.nodeId) return new UnexpectedPeerError(`node ${JSON.stringify(peer.nodeId)}`, describePeer(id));
      if (peer?.role !== undefined && id.role !== peer.role) return new UnexpectedPeerError(`role ${JSON.stringify(peer.role)}`, describePeer(id));
      if (denied?.(id.serial) === true) return new CertificateRevokedError(id.serial, id.nodeId);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  };
  return {
    ca: o.caPem,
    cert: o.certPem,
    key: o.keyPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: true,
    checkServerIdentity,
  };
}

/**
 * The identity of the verified peer of a mutual-TLS connection made with
 * {@link tlsOptionsFor} (either end, after `secureConnect` /
 * `secureConnection`). A transport binds any node id the peer claims in its
 * messages to this identity. May be called any number of times.
 *
 * Reads the peer's DER through `socket.getPeerCertificate().raw`, not
 * `getPeerX509Certificate()`: on the client side of Node 20.20.2 (observed
 * while writing this) the first `getPeerX509Certificate()` call works but
 * every later call — and every later `getPeerCertificate()` — returns
 * nothing, so using it here would break whoever asks next. The test suite
 * checks that `peerIdentity` can be asked repeatedly and leaves
 * `getPeerX509Certificate()` usable.
 * @throws CertificateNotTrustedError when the socket's peer is not verified (`authorized` is false) or sent no certificate.
 * @throws MalformedCertificateError when the peer's certificate is not a Weft node certificate.
 * @throws CertificateRevokedError when `denied(serial)` is true.
 * @throws InvalidOptionsError when `socket` is not a TLS socket or an option is invalid.
 */
export function peerIdentity(socket: TLSSocket, options?: PeerIdentityOptions): NodeIdentity {
  const o = parseOptions(peerIdentitySchema, options, 'peerIdentity');
  if (typeof (socket as Partial<TLSSocket> | null)?.getPeerCertificate !== 'function' || typeof (socket as Partial<TLSSocket>).authorized !== 'boolean') {
    throw new InvalidOptionsError('socket', 'peerIdentity: option "socket" must be a tls.TLSSocket');
  }
  if (!socket.authorized) {
    throw new CertificateNotTrustedError(`the TLS peer is not verified${socket.authorizationError ? ` (${String(socket.authorizationError)})` : ''}`);
  }
  const raw = (socket.getPeerCertificate() as Partial<PeerCertificate> | null)?.raw;
  if (raw === undefined) throw new CertificateNotTrustedError('the TLS peer presented no certificate');
  const id = parseNodeCertificate(new Uint8Array(raw));
  if (o.denied?.(id.serial) === true) throw new CertificateRevokedError(id.serial, id.nodeId);
  return id;
}
