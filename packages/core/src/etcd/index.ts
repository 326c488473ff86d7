/**
 * @packageDocumentation
 * `@weft/core/etcd` — a `Store` backed by an etcd v3 cluster, for users who
 * already run etcd. A separate entry so that `@weft/core` itself never loads
 * `etcd3` (an optional peer dependency) or gRPC.
 *
 * @example
 * import { EtcdStore } from '@weft/core/etcd';
 * const store = await EtcdStore.connect({ endpoints: ['http://127.0.0.1:2379'], namespace: 'weft/' });
 */
export { EtcdStore, type EtcdStoreStats } from './etcd-store';
export type { EtcdStoreOptions } from './options';
export type { EtcdWatchStats } from './etcd-watch';
export { EtcdRevisionRangeError, EtcdRequestRefusedError } from './errors';
