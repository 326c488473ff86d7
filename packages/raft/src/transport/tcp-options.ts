import type { ConnectionOptions, TLSSocket, TlsOptions } from 'node:tls';
import type { SocketAddress } from '@weft/interface';
import { z } from 'zod';
import { ipLiteralOption, socketAddressOption } from './socket-address-option';

/** Options of {@link TcpTransport.listen}, validated with zod. */
export const tcpTransportOptionsSchema = z
  .object({
    /** This node's id. */
    id: z.string().min(1, 'must be a non-empty string'),
    /** IP literal to listen on (default 127.0.0.1). */
    host: ipLiteralOption.default('127.0.0.1'),
    /** Port to listen on; 0 picks a free one (default 0). */
    port: z.number().int().min(0).max(65535).default(0),
    /** Peer id → address (`{ host, port }` or "host:port"). */
    peers: z.record(z.string().min(1, 'must be a non-empty string'), socketAddressOption).default({}),
    /** Most messages queued per peer; beyond it new messages are dropped and counted (default 4096). */
    maxQueuedMessages: z.number().int().min(1).default(4096),
    /** Most bytes queued per peer (frames included); beyond it new messages are dropped and counted, except that an empty queue always takes one frame (default 64 MiB). */
    maxQueuedBytes: z.number().int().min(1).default(64 * 1024 * 1024),
    /** Largest frame accepted or sent (bytes, default 64 MiB). */
    maxFrameBytes: z.number().int().min(64).max(0xffff_ffff).default(64 * 1024 * 1024),
    /** First reconnect delay (ms, default 50); doubles per failure. */
    reconnectMinMs: z.number().int().min(1).default(50),
    /** Largest reconnect delay (ms, default 2000). */
    reconnectMaxMs: z.number().int().min(1).default(2000),
    /** A connection attempt not established within this time is abandoned and retried (ms, default 3000). */
    connectTimeoutMs: z.number().int().min(1).default(3000),
    /** Mutual TLS on every connection (see {@link TransportTls}); absent: plain TCP. */
    tls: z
      .object({
        options: z
          .object({
            requestCert: z.literal(true, { message: 'must be true: peers are identified by their certificates' }),
            rejectUnauthorized: z.literal(true, { message: 'must be true: an unverified peer must be refused' }),
          })
          .passthrough(),
        identify: z.custom<(socket: TLSSocket) => string>((v) => typeof v === 'function', { message: 'must be a function' }),
      })
      .optional(),
    /** An inbound connection whose TLS handshake, or whose first frame, has not arrived within this time is closed and counted (ms, default 10000). */
    handshakeTimeoutMs: z.number().int().min(1).default(10_000),
    /** A frame whose first byte has arrived must be complete within this time, or the connection is closed and counted (ms, default 30000). */
    frameTimeoutMs: z.number().int().min(1).default(30_000),
    /** Most bytes of unfinished frames held across all inbound connections; a connection that would go beyond it is closed and counted (default 128 MiB). */
    maxInboundBufferedBytes: z.number().int().min(64).default(128 * 1024 * 1024),
    /** Most inbound connections at once still in their TLS handshake (plain TCP: before their first frame); beyond it the oldest is closed and counted (default 256). */
    maxPendingHandshakes: z.number().int().min(1).default(256),
  })
  .refine((o) => o.reconnectMaxMs >= o.reconnectMinMs, {
    message: 'must be >= reconnectMinMs',
    path: ['reconnectMaxMs'],
  });

/** Arguments of `TcpTransport.setPeer`. */
export const peerOptionsSchema = z.object({ id: z.string().min(1, 'must be a non-empty string'), address: socketAddressOption });

/** Options of `TcpTransport.listen`; validated once (bad ones reject with `InvalidOptionsError` naming the field). */
export interface TcpTransportOptions {
  /** This node's id (non-empty); messages addressed to another id are malformed. */
  readonly id: string;
  /** IP literal to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one (default 0). */
  readonly port?: number;
  /** Peer id → address, as a `SocketAddress` or "host:port" text ("[v6]:port"); hosts are IP literals. */
  readonly peers?: Readonly<Record<string, SocketAddress | string>>;
  /** Most messages queued per peer; beyond it new messages are dropped and counted (default 4096). */
  readonly maxQueuedMessages?: number;
  /** Most bytes queued per peer (frames included); beyond it new messages are dropped and counted, except that an empty queue always takes one frame (default 64 MiB). */
  readonly maxQueuedBytes?: number;
  /** Largest frame accepted or sent (bytes, 64 to 2^32 - 1, default 64 MiB). */
  readonly maxFrameBytes?: number;
  /** First reconnect delay (ms, default 50); doubles per failure. */
  readonly reconnectMinMs?: number;
  /** Largest reconnect delay (ms, at least reconnectMinMs, default 2000). */
  readonly reconnectMaxMs?: number;
  /** A connection attempt not established within this time is abandoned and retried (ms, default 3000). */
  readonly connectTimeoutMs?: number;
  /** Mutual TLS on every connection, both directions; absent: plain TCP (for tests and trusted networks only). */
  readonly tls?: TransportTls;
  /** An inbound connection whose TLS handshake, or whose first frame, has not arrived within this time is closed and counted (ms, default 10000). */
  readonly handshakeTimeoutMs?: number;
  /** A frame whose first byte has arrived must be complete within this time, or the connection is closed and counted (ms, default 30000; room for a 64 MiB snapshot at 2.3 MB/s). */
  readonly frameTimeoutMs?: number;
  /** Most bytes of unfinished frames held across all inbound connections; a connection that would go beyond it is closed and counted (default 128 MiB: two largest frames). */
  readonly maxInboundBufferedBytes?: number;
  /**
   * Most inbound connections at once still in their TLS handshake (plain
   * TCP: before their first frame); when a new one arrives beyond it, the
   * oldest pending one is closed and counted (`shed`). Default 256: a
   * pending TLS handshake holds about 50 KB, so hostile connections cost at
   * most about 13 MB. Established connections are never shed; an honest
   * handshake takes milliseconds, so only a flood of 256 connections within
   * those milliseconds can evict it (and its peer redials with backoff).
   */
  readonly maxPendingHandshakes?: number;
}

/**
 * Mutual TLS for a {@link TcpTransport}: the `node:tls` options of both ends
 * (for example `@weft/core/pki`'s `tlsOptionsFor`), and how a verified peer
 * certificate names a node. The transport binds every connection to that
 * name: a message whose `from` differs is dropped and counted, and a
 * connection dialled to peer X is used only if the server's certificate
 * names X.
 */
export interface TransportTls {
  /**
   * `node:tls` options for the server and for dialling: the trust anchor
   * (`ca`), this node's `cert` and `key`, TLS versions, a
   * `checkServerIdentity`. `requestCert` and `rejectUnauthorized` must be
   * true (an unauthenticated peer is never accepted). Do not set `session`.
   */
  readonly options: TlsOptions & ConnectionOptions & { readonly requestCert: true; readonly rejectUnauthorized: true };
  /**
   * The node id the verified peer certificate of `socket` names; throws to
   * refuse the peer (another role, deny-listed, expired). Called once per
   * connection after its handshake (either end), and again for every live
   * connection by `TcpTransport.recheckPeers()`.
   */
  readonly identify: (socket: TLSSocket) => string;
}
/** Compile-time check that the public interface and the schema name the same options. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const optionsMatchSchema: SameKeys<TcpTransportOptions, z.input<typeof tcpTransportOptionsSchema>> = true;
void optionsMatchSchema;

/** Options after validation and defaults. */
export type ResolvedTcpTransportOptions = z.output<typeof tcpTransportOptionsSchema>;
