export type { LogStore, StableStore, SnapshotStore, RaftStores, ReadyWrite } from './stores';
export { MemoryLogStore, MemoryStableStore, MemorySnapshotStore, memoryStores } from './memory-stores';
export { StorageError } from './errors';
