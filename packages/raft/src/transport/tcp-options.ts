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
}
/** Compile-time check that the public interface and the schema name the same options. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const optionsMatchSchema: SameKeys<TcpTransportOptions, z.input<typeof tcpTransportOptionsSchema>> = true;
void optionsMatchSchema;

/** Options after validation and defaults. */
export type ResolvedTcpTransportOptions = z.output<typeof tcpTransportOptionsSchema>;
