import { z } from 'zod';

const address = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'must be "host:port" (IPv6 in brackets)');

/** Options of {@link TcpTransport.listen}, validated with zod. */
export const tcpTransportOptionsSchema = z
  .object({
    /** This node's id. */
    id: z.string().min(1),
    /** Host to listen on (default 127.0.0.1). */
    host: z.string().min(1).default('127.0.0.1'),
    /** Port to listen on; 0 picks a free one (default 0). */
    port: z.number().int().min(0).max(65535).default(0),
    /** Peer id → "host:port". */
    peers: z.record(z.string().min(1), address).default({}),
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
    message: 'reconnectMaxMs must be >= reconnectMinMs',
    path: ['reconnectMaxMs'],
  });

export type TcpTransportOptions = z.input<typeof tcpTransportOptionsSchema>;
export type ResolvedTcpTransportOptions = z.output<typeof tcpTransportOptionsSchema>;

/** Splits "host:port" (IPv6 host in brackets) into its parts. */
export function parseAddress(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  let host = addr.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(addr.slice(i + 1)) };
}

export { address as addressSchema };
