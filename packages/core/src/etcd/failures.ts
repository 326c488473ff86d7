import { ClientClosedError } from 'etcd3';

/**
 * What went wrong with one call to etcd, as far as retrying and reporting
 * care. Raw gRPC / etcd3 errors never leave this package: the store turns a
 * {@link Failure} into a `StoreUnavailableError`, `StoreClosedError` or
 * `EtcdRequestRefusedError`, keeping the original as `cause`.
 */
export type Failure =
  /** The etcd3 client was closed (by its owner). */
  | { readonly kind: 'closed'; readonly reason: string }
  /** etcd refused the request on its merits: nothing applied, retrying will not help. */
  | { readonly kind: 'refused'; readonly reason: string; readonly grpcCode: number | undefined }
  /**
   * Connection, timeout or leadership trouble. `notSent`: the request surely
   * did not reach (or was rejected before being applied by) etcd, so even a
   * write may be sent again.
   */
  | { readonly kind: 'transient'; readonly reason: string; readonly grpcCode: number | undefined; readonly notSent: boolean };

/**
 * gRPC status codes that mean "etcd looked at this request and said no":
 * INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
 * FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED, UNAUTHENTICATED.
 * Everything else (CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
 * ABORTED, INTERNAL, UNAVAILABLE, DATA_LOSS, no code) is treated as transient.
 */
const REFUSED_CODES: ReadonlySet<number> = new Set([3, 5, 6, 7, 9, 11, 12, 16]);

/**
 * Messages of failures where the request was never sent on a connection
 * (grpc-js had no ready transport) or etcd rejected it before proposing it.
 */
/**
 * Refusals that arrive with a transient-looking code: etcd's gRPC server
 * (grpc-go) rejecting a request over its message size limit
 * (`--max-request-bytes` + 512 KiB) with RESOURCE_EXHAUSTED, before etcd sees it.
 */
const REFUSED_PATTERNS: readonly RegExp[] = [/grpc: received message larger than max/];

const NOT_SENT_PATTERNS: readonly RegExp[] = [
  /No connection established/,
  /etcdserver: too many requests/,
  /mvcc: database space exceeded/,
];

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The gRPC status code: grpc-js sets `code`; etcd3's re-typed errors keep it only as the message's `"14 UNAVAILABLE: ..."` prefix. */
function grpcCodeOf(err: unknown, message: string): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  const m = /^(\d{1,2}) [A-Z_]+: /.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** Classifies an error thrown by an etcd3 call or emitted by a watch stream. */
export function classifyFailure(err: unknown): Failure {
  const reason = messageOf(err);
  if (err instanceof ClientClosedError) return { kind: 'closed', reason };
  const grpcCode = grpcCodeOf(err, reason);
  if ((grpcCode !== undefined && REFUSED_CODES.has(grpcCode)) || REFUSED_PATTERNS.some((p) => p.test(reason))) return { kind: 'refused', reason, grpcCode };
  return { kind: 'transient', reason, grpcCode, notSent: NOT_SENT_PATTERNS.some((p) => p.test(reason)) };
}

/** etcd's answer to a read at a revision older than its compaction (`etcdserver: mvcc: required revision has been compacted`). */
export function isCompactedRead(failure: Failure): boolean {
  return failure.kind === 'refused' && failure.grpcCode === 11 && /required revision has been compacted/.test(failure.reason);
}
