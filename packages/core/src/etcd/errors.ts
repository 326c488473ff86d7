import { StoreError, type WeftErrorOptions } from '@weft/interface';

/**
 * etcd answered with an int64 (a revision, version or count) that a
 * JavaScript number cannot hold exactly (above `Number.MAX_SAFE_INTEGER`).
 * The answer is not used: a rounded revision would break compare-and-set and
 * watch resumption. Not expected in practice (2^53 revisions).
 */
export class EtcdRevisionRangeError extends StoreError {
  override name = 'EtcdRevisionRangeError';
  override readonly code = 'ERR_ETCD_REVISION_RANGE';
  constructor(
    /** Which field of etcd's answer (`header.revision`, `kv.mod_revision`, ...). */
    readonly field: string,
    /** The value as etcd sent it (decimal text). */
    readonly text: string,
  ) {
    super(`etcd: ${field} ${JSON.stringify(text)} is not a safe integer (max ${Number.MAX_SAFE_INTEGER})`);
  }
}

/**
 * etcd refused a request on its merits — nothing was applied, and sending it
 * again will not help: an empty key (outside a namespace), a request over
 * etcd's `--max-request-bytes`, more ops in a txn than `--max-txn-ops`, a key
 * written twice in one txn, permission denied, a watch etcd cancelled for a
 * reason other than compaction.
 */
export class EtcdRequestRefusedError extends StoreError {
  override name = 'EtcdRequestRefusedError';
  override readonly code = 'ERR_ETCD_REQUEST_REFUSED';
  constructor(
    /** The store operation (`put`, `txn`, `watch`, ...). */
    readonly operation: string,
    /** etcd's (gRPC's) explanation, e.g. `etcdserver: duplicate key given in txn request`. */
    readonly reason: string,
    /** The gRPC status code, when there was one (3 INVALID_ARGUMENT, 7 PERMISSION_DENIED, ...). */
    readonly grpcCode: number | undefined,
    options?: WeftErrorOptions,
  ) {
    super(`etcd refused ${operation}: ${reason}`, options);
  }
}
