export type { LogStore, StableStore, SnapshotStore, RaftStores, ReadyWrite } from './stores';
export { MemoryLogStore, MemoryStableStore, MemorySnapshotStore, memoryStores } from './memory-stores';
export { LevelStorage, type LevelStorageOptions } from './level-storage';
export { StorageError } from './errors';
