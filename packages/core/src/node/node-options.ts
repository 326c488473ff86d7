import { isValidIp, type DataPlane, type Store } from '@weft/interface';
import { z } from 'zod';

const hasMethods = (names: readonly string[]) => (v: unknown) =>
  typeof v === 'object' && v !== null && names.every((k) => typeof (v as Record<string, unknown>)[k] === 'function');

/** Node ids: 1–64 characters of letters, digits, `_`, `.` or `-`. */
export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 characters: letters, digits, "_", "." or "-"');

const ms = z.number().int().min(1);

/** Schema of {@link WeftNodeOptions}. */
export const weftNodeOptionsSchema = z
  .object({
    /** This node's id, unique in the cluster. */
    id: nodeIdSchema,
    /** `manager` nodes sweep orphaned endpoints and rotate keys (and, with the embedded store, run a Raft replica); `worker`s do neither. */
    role: z.enum(['manager', 'worker']),
    /** The shared state: an embedded Raft store (`EmbeddedStore`), a manager's store reached remotely (`RemoteStore`), `MemoryStore`, or etcd (`@weft/core/etcd`). */
    store: z.custom<Store>(hasMethods(['get', 'range', 'put', 'delete', 'txn', 'watch', 'close']), {
      message: 'must implement Store (get, range, put, delete, txn, watch, close)',
    }),
    /** What forwards frames: `UserspaceDataPlane` (default kind) or a kernel plane. Closed by `close()`. */
    dataPlane: z.custom<DataPlane>(hasMethods(['ensureNetwork', 'addLocalEndpoint', 'addRemoteEndpoint', 'programmed', 'close']), {
      message: 'must implement DataPlane (ensureNetwork, addLocalEndpoint, addRemoteEndpoint, programmed, close, ...)',
    }),
    /** Prefix of every key core writes (default `weft/`): several clusters can share one store. */
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/$/, 'must be letters, digits, "_", "." or "-" ending in "/"')
      .default('weft/'),
    /** Labels of this node's record. */
    labels: z.record(z.string(), z.string()).default({}),
    /** How often the node proves it is alive (ms). Default 2000. */
    heartbeatIntervalMs: ms.default(2000),
    /** A node whose heartbeat has not moved for this long is dead: managers reclaim its endpoints and addresses (ms). Default 60000. */
    orphanGraceMs: ms.default(60_000),
    /** Encrypted networks' keys rotate this often (ms). Default 12 h, as Swarm. */
    keyRotationIntervalMs: ms.default(12 * 3600_000),
    /** A rotation phase waits at most this long for every active node's acknowledgement (ms). Default 10000. */
    keyAckTimeoutMs: ms.default(10_000),
    /** After switching sending to a new key, wait this long for packets in flight before retiring the old one (ms). Default 500. */
    keyDrainMs: z.number().int().min(0).default(500),
    /** `attach()` and `detach()` reject with OperationTimeoutError after this long (ms). Default 30000. */
    operationTimeoutMs: ms.default(30_000),
    /** Default address pools of a cluster this node initialises (the first manager). Default 10.0.0.0/8 as /24s, as Swarm. */
    defaultAddressPools: z
      .array(z.object({ base: z.string(), size: z.number().int().min(1).max(128) }))
      .min(1)
      .default([{ base: '10.0.0.0/8', size: 24 }]),
    /** First VNI of a cluster this node initialises. Default 4096, as Swarm. */
    vniStart: z.number().int().min(1).max(0xffffff).default(4096),
    /** Create the `ingress` network when initialising a cluster. Default true. */
    createIngress: z.boolean().default(true),
    /** Wall clock in ms (record timestamps, rotation intervals). Default Date.now. */
    now: z.custom<() => number>((v) => typeof v === 'function', { message: 'must be a function returning ms' }).optional(),
    /** Random bytes for ids and secrets. Default node:crypto. */
    randomBytes: z.custom<(n: number) => Uint8Array>((v) => typeof v === 'function', { message: 'must be a function (length) => Uint8Array' }).optional(),
    /** The node's embedded DNS server (service discovery). */
    dns: z
      .object({
        /** Resolvers for names that are not internal; none (default): such names get SERVFAIL at once. */
        upstreams: z
          .array(z.object({ host: z.string().refine(isValidIp, 'must be an IP literal'), port: z.number().int().min(1).max(65535) }).strict())
          .max(8)
          .default([]),
        /** How long an upstream may take before the next one is tried (ms). Default 2000. */
        upstreamTimeoutMs: ms.default(2000),
        /**
         * Host of the loopback listeners (UDP + TCP, one port per active network, for tools on the host such as `dig`);
         * `false`: none. Default `127.0.0.1`.
         */
        loopback: z
          .union([z.literal(false), z.string().refine((h) => h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h), 'must be a loopback address (127.0.0.0/8 or ::1)')])
          .default('127.0.0.1'),
      })
      .strict()
      .default({ upstreams: [], upstreamTimeoutMs: 2000, loopback: '127.0.0.1' }),
    /** Called with errors the node handled but could not fix at once (a failed data-plane call, a watch that had to resync). */
    onError: z.custom<(error: unknown) => void>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
  })
  .strict();

/** Options of `WeftNode.start`. */
export type WeftNodeOptions = z.input<typeof weftNodeOptionsSchema>;
/** Options after validation and defaults. */
export type ResolvedNodeOptions = z.output<typeof weftNodeOptionsSchema>;
