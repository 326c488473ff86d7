import { formatSocketAddress, parseOptions, type SocketAddress } from '@weft/interface';
import type { Etcd3, IOptions } from 'etcd3';
import { z } from 'zod';

/** Options of an {@link EtcdStore}. Give `endpoints` (the store creates and owns its client) or `client` (yours), not both. */
export interface EtcdStoreOptions {
  /**
   * Client URLs of the etcd members, `http://host:port` (host name or IP;
   * IPv6 in brackets), or socket addresses. Requests go to any of them.
   * For TLS or etcd authentication, build an `Etcd3` client yourself and pass
   * it as `client`.
   */
  readonly endpoints?: readonly (string | SocketAddress)[];
  /**
   * An existing etcd3 client (`new Etcd3(...)`, not a `.namespace()` of one:
   * use the `namespace` option). The store uses it but does not close it. Give
   * it `faultHandling: { global: <no retry> }` if you can: etcd3's default
   * global policy re-sends a failed write by itself, after which a
   * compare-and-set that did apply may report `succeeded: false`.
   */
  readonly client?: Etcd3;
  /**
   * Every store key lives under this etcd key prefix (UTF-8), invisible to
   * the store's users: `namespace: 'weft/'` stores key `a` as etcd key
   * `weft/a`. Default `''`: the whole etcd key space.
   */
  readonly namespace?: string;
  /**
   * Time budget of one request, retries included (ms), and for a watch to be
   * established. Default 10000.
   */
  readonly requestTimeoutMs?: number;
}

/** {@link EtcdStoreOptions} after validation. */
export interface ResolvedEtcdStoreOptions {
  /** Endpoints as etcd3 host strings, when the store creates its client. */
  readonly hosts: readonly string[] | undefined;
  readonly client: Etcd3 | undefined;
  readonly namespace: string;
  readonly requestTimeoutMs: number;
}

const URL_PATTERN = /^http:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

const endpointSchema = z.union([
  z.string().refine(
    (s) => {
      const m = URL_PATTERN.exec(s);
      return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
    },
    { message: 'must be "http://host:port" (port 1-65535) or { host, port }' },
  ),
  z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict(),
]);

/** A root etcd3 client: has the KV and Watch RPC clients and no namespace prefix of its own. */
function isRootClient(v: unknown): v is Etcd3 {
  const c = v as { kv?: { range?: unknown }; watchClient?: { watch?: unknown }; prefix?: unknown; close?: unknown } | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.kv?.range === 'function' &&
    typeof c.watchClient?.watch === 'function' &&
    typeof c.close === 'function' &&
    Buffer.isBuffer(c.prefix) &&
    c.prefix.length === 0
  );
}

const optionsSchema = z
  .object({
    endpoints: z.array(endpointSchema).min(1).optional(),
    client: z.custom<Etcd3>(isRootClient, { message: 'must be an Etcd3 client (new Etcd3(...)), not a namespace of one' }).optional(),
    namespace: z.string().default(''),
    requestTimeoutMs: z.number().int().min(1).default(10_000),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.endpoints === undefined && o.client === undefined) ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'is required unless "client" is given' });
    if (o.endpoints !== undefined && o.client !== undefined) ctx.addIssue({ code: 'custom', path: ['client'], message: 'cannot be given together with "endpoints"' });
  });

/**
 * Validates the options of an {@link EtcdStore}.
 * @throws InvalidOptionsError naming the bad option.
 */
export function resolveOptions(options: EtcdStoreOptions): ResolvedEtcdStoreOptions {
  const o = parseOptions(optionsSchema, options, 'EtcdStore');
  return {
    hosts: o.endpoints?.map((e) => (typeof e === 'string' ? e : `http://${formatSocketAddress(e)}`)),
    client: o.client,
    namespace: o.namespace,
    requestTimeoutMs: o.requestTimeoutMs,
  };
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * A cockatiel policy that runs the call once: no retries, no circuit breaker.
 * The store retries by itself, knowing which failures may have applied a write.
 */
const RUN_ONCE = {
  execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    return (async () => fn({ signal: signal ?? new AbortController().signal }))();
  },
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
} as unknown as Policy;

/**
 * etcd3 options of a client the store owns: one attempt per call (the store
 * decides about retries), gRPC keepalive so a dead connection under a quiet
 * watch is noticed (10 s pings; etcd accepts pings every 5 s or slower while
 * a stream is open), no limit on received message size (a range or a watch
 * response can exceed gRPC's 4 MiB default), and reconnects backing off to
 * at most 2 s.
 */
export function ownedClientOptions(hosts: readonly string[]): IOptions {
  return {
    hosts: [...hosts],
    faultHandling: { global: RUN_ONCE, host: () => RUN_ONCE },
    grpcOptions: {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.max_receive_message_length': -1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
    },
  };
}
