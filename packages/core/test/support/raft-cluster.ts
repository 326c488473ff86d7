import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelStorage } from '@weft/raft/level';
import { RaftStore, type ManagerAddress } from '../../src/store/raft-store';
import { freePorts } from './ports';

/** Three (or n) RaftStores over real TCP on 127.0.0.1, with LevelDB in a temp dir or in memory. */
export class RaftStoreCluster {
  readonly stores = new Map<string, RaftStore>();
  readonly dir: string | undefined;
  private constructor(
    readonly managers: ManagerAddress[],
    private readonly level: boolean,
    private readonly settings: { historyLimit?: number; electionTimeoutMs?: number; heartbeatIntervalMs?: number },
  ) {
    this.dir = level ? mkdtempSync(join(tmpdir(), 'weft-raftstore-')) : undefined;
  }

  static async start(options: { size?: number; level?: boolean; historyLimit?: number; electionTimeoutMs?: number; heartbeatIntervalMs?: number } = {}): Promise<RaftStoreCluster> {
    const n = options.size ?? 3;
    const ports = await freePorts(2 * n);
    const managers = Array.from({ length: n }, (_, i) => ({
      id: `m${i + 1}`,
      raft: { host: '127.0.0.1', port: ports[2 * i]! },
      store: { host: '127.0.0.1', port: ports[2 * i + 1]! },
    }));
    const c = new RaftStoreCluster(managers, options.level ?? false, {
      electionTimeoutMs: options.electionTimeoutMs ?? 300,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 30,
      ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
    });
    await Promise.all(managers.map((m) => c.startOne(m.id)));
    // The leader's one background write (seeding the managers registry) lands before a test counts revisions.
    const deadline = Date.now() + 10_000;
    while (![...c.stores.values()].every((s) => s.registrySeeded) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return c;
  }

  /** (Re)starts one manager from its storage. */
  async startOne(id: string): Promise<RaftStore> {
    const stores = this.level ? await LevelStorage.open(join(this.dir!, id)) : undefined;
    const s = await RaftStore.open({ id, managers: this.managers, ...(stores ? { stores } : {}), ...this.settings, requestTimeoutMs: 5000 });
    this.stores.set(id, s);
    return s;
  }

  /** Stops one manager (its storage stays for a restart). */
  async stopOne(id: string): Promise<void> {
    await this.stores.get(id)?.close();
    this.stores.delete(id);
  }

  async leader(timeoutMs = 10_000): Promise<RaftStore> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = [...this.stores.values()].find((s) => s.isLeader);
      if (l) return l;
      if (Date.now() > deadline) throw new Error('no leader elected');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async follower(): Promise<RaftStore> {
    const l = await this.leader();
    return [...this.stores.values()].find((s) => s !== l)!;
  }

  async close(): Promise<void> {
    for (const id of [...this.stores.keys()]) await this.stopOne(id);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
