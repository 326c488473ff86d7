/**
 * @packageDocumentation
 * `@weft/core/testing` — tools for testing with Weft: a whole cluster in one
 * process (`LocalCluster`) with faults (partitions, crashes, restarts, a
 * lossy seeded underlay), and the `Store` conformance cases for checking a
 * store backend of your own.
 */
export { LocalCluster, type LocalClusterOptions, type LocalNodeSettings } from './local-cluster';
export { PartitionedUnderlay, type LinkFilter } from './partitioned-underlay';
export { storeConformanceCases, type StoreConformanceCase, type StoreHarness } from './store-conformance';
