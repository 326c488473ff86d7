import type { TLSSocket } from 'node:tls';
import { parseOptions } from '@weft/interface';
import type { TransportTls } from '@weft/raft';
import type { ControlPeer, ControlTls } from '../../store/remote/control-tls';
import { CertificateExpiredError, CertificateRevokedError, UnexpectedPeerError } from './errors';
import { transportTlsSchema } from './options';
import type { NodeRole } from './profile';
import { peerIdentity, tlsOptionsFor, type NodeCredentials } from './tls';

/** Options of {@link transportTlsFor}. */
export interface TransportTlsForOptions {
  /** Accept only peers of this role, both ways (Raft between managers: `'manager'`, so a worker certificate cannot join). Default: any role. */
  readonly role?: NodeRole;
  /** Refuse a peer whose certificate serial (lowercase hex) this returns true for: checked at every handshake and by every `recheckPeers()`. */
  readonly denied?: (serial: string) => boolean;
  /** Refuse a peer whose node id this returns true for (a node removed from the cluster: `WeftNode.isRemoved`), at every handshake and every re-check. */
  readonly removed?: (nodeId: string) => boolean;
  /** Wall clock for the expiry re-check of live connections (ms since the Unix epoch; default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Mutual TLS for `@weft/raft`'s `TcpTransport` (its `tls` option) from a
 * node's credentials: {@link tlsOptionsFor}'s options, and an `identify`
 * that names a verified peer by its certificate's node id — after checking
 * its role (`role`), the deny list (`denied`) and that the certificate is
 * still valid now. The transport calls `identify` at each handshake and, for
 * live connections, at every `recheckPeers()`: a certificate that expired or
 * was deny-listed after its handshake then closes its connection.
 * @throws what {@link tlsOptionsFor} throws for bad credentials; InvalidOptionsError for bad options.
 */
export function transportTlsFor(credentials: NodeCredentials, options: TransportTlsForOptions = {}): TransportTls {
  const o = parseOptions(transportTlsSchema, options, 'transportTlsFor');
  const control = buildControlTls(credentials, o);
  return { options: control.options, identify: (socket) => control.identify(socket).nodeId };
}

/** Options of {@link controlTlsFor}. */
export type ControlTlsForOptions = Omit<TransportTlsForOptions, 'role'>;

/**
 * Mutual TLS for a `WeftNode`'s control connections (`RaftStore`'s and
 * `RemoteStore`'s `tls` option) from its credentials: {@link tlsOptionsFor}'s
 * options and an `identify` that returns the verified peer's node id and role
 * after checking the deny list (`denied`) and that its certificate is valid
 * now. `RaftStore` admits only managers to Raft; `RemoteStore` talks only to
 * managers.
 * @throws what {@link tlsOptionsFor} throws for bad credentials; InvalidOptionsError for bad options.
 */
export function controlTlsFor(credentials: NodeCredentials, options: ControlTlsForOptions = {}): ControlTls {
  return buildControlTls(credentials, parseOptions(transportTlsSchema.omit({ role: true }), options, 'controlTlsFor'));
}

function buildControlTls(credentials: NodeCredentials, o: TransportTlsForOptions): ControlTls {
  const denied = o.denied ?? credentials.denied;
  const tls = tlsOptionsFor({ ...credentials, ...(denied !== undefined ? { denied } : {}), ...(o.role !== undefined ? { peer: { ...credentials.peer, role: o.role } } : {}) });
  const now = o.now ?? Date.now;
  const identify = (socket: TLSSocket): ControlPeer => {
    const id = peerIdentity(socket, denied !== undefined ? { denied } : {});
    if (o.role !== undefined && id.role !== o.role) throw new UnexpectedPeerError(`role ${JSON.stringify(o.role)}`, `node ${JSON.stringify(id.nodeId)} (${id.role})`);
    if (o.removed?.(id.nodeId) === true) throw new CertificateRevokedError(id.serial, id.nodeId);
    const at = now();
    if (at > id.notAfter.getTime() || at < id.notBefore.getTime()) throw new CertificateExpiredError(`node ${JSON.stringify(id.nodeId)}`, id.notBefore, id.notAfter, new Date(at));
    return { nodeId: id.nodeId, role: id.role };
  };
  return { options: tls, identify };
}
