import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket, type TlsOptions } from 'node:tls';
import type { SocketAddress } from '@weft/interface';
import type { TransportTls } from '@weft/raft';
import { z } from 'zod';

/** The node a verified peer certificate names. */
export interface ControlPeer {
  readonly nodeId: string;
  readonly role: 'manager' | 'worker';
}

/**
 * Mutual TLS of a node's control connections — Raft between managers and
 * the store protocol between workers (or follower managers) and managers.
 * Build it with `@weft/core/pki`'s `controlTlsFor(credentials)`.
 */
export interface ControlTls {
  /** `node:tls` options for both ends (trust anchor, own certificate and key, TLS 1.3); peers must be verified. */
  readonly options: TlsOptions & ConnectionOptions & { readonly requestCert: true; readonly rejectUnauthorized: true };
  /**
   * The node id and role a verified peer's certificate names; throws to
   * refuse it (deny-listed, expired). Called after every handshake, either end.
   */
  readonly identify: (socket: TLSSocket) => ControlPeer;
}

/** @internal Schema of a `ControlTls` option. */
export const controlTlsSchema = z.object({
  options: z
    .object({
      requestCert: z.literal(true, { message: 'must be true: peers are identified by their certificates' }),
      rejectUnauthorized: z.literal(true, { message: 'must be true: an unverified peer must be refused' }),
    })
    .passthrough(),
  identify: z.custom<(socket: TLSSocket) => ControlPeer>((v) => typeof v === 'function', { message: 'must be a function' }),
});

/** @internal Raft's transport TLS from control TLS: only managers take part in Raft. */
export function raftTlsOf(tls: ControlTls): TransportTls {
  return {
    options: tls.options,
    identify: (socket) => {
      const peer = tls.identify(socket);
      if (peer.role !== 'manager') throw new Error(`node ${JSON.stringify(peer.nodeId)} is a ${peer.role}: only managers take part in Raft`);
      return peer.nodeId;
    },
  };
}

/**
 * @internal A `RemoteStore` connector over mutual TLS: the server must be a
 * manager (its certificate says so), otherwise the connection is closed
 * before any request is sent.
 */
export function tlsStoreConnector(tls: () => ControlTls): (address: SocketAddress) => Socket {
  return (address) => {
    const current = tls();
    const socket = tlsConnect({ ...current.options, host: address.host, port: address.port });
    socket.once('secureConnect', () => {
      let ok = false;
      try {
        ok = current.identify(socket).role === 'manager';
      } catch {
        ok = false;
      }
      if (!ok) socket.destroy(new Error('the store server is not a manager of this cluster'));
    });
    return socket;
  };
}
