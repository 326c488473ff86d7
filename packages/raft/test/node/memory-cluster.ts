/**
 * A 3-node (or N-node) RaftNode cluster over a MemoryTransportNetwork with memory
 * stores and KvStore state machines, for the driver tests. Short timeouts keep
 * the tests quick; nothing here asserts a duration.
 */
import { seededRandom } from '@weft/interface';
import { KvStore, RaftKv } from '../../src/kv';
import { RaftNode } from '../../src/node';
import { memoryStores, type RaftStores } from '../../src/storage';
import { MemoryTransportNetwork } from '../../src/transport';

export interface Member {
  id: string;
  node: RaftNode;
  store: KvStore;
  kv: RaftKv;
  stores: RaftStores;
}

export class MemoryCluster {
  readonly network: MemoryTransportNetwork;
  readonly members = new Map<string, Member>();
  private readonly persisted = new Map<string, RaftStores>();
  private seed: number;

  constructor(
    readonly ids: string[],
    seed = 7,
    readonly nodeOptions: { snapshotThreshold?: number; snapshotTrailingEntries?: number } = {},
    serialize = false,
  ) {
    this.network = new MemoryTransportNetwork({ seed, serialize });
    this.seed = seed;
  }

  /** Starts (or restarts from its persisted stores) node `id`; `bootstrap` gives the initial voters. */
  async start(id: string, bootstrap: string[] | undefined = this.ids): Promise<Member> {
    const stores = this.persisted.get(id) ?? memoryStores();
    this.persisted.set(id, stores);
    const store = new KvStore();
    // Stores are reused across restarts, so the node must not close them: wrap without close().
    const kept: RaftStores = { log: stores.log, stable: stores.stable, snapshots: stores.snapshots };
    const node = await RaftNode.create({
      id,
      peers: bootstrap,
      stateMachine: store,
      transport: this.network.transport(id),
      stores: kept,
      electionTimeoutMs: 150,
      heartbeatIntervalMs: 15,
      requestTimeoutMs: 3000,
      random: seededRandom(this.seed++),
      ...this.nodeOptions,
    });
    node.start();
    const m: Member = { id, node, store, kv: new RaftKv(node, store), stores };
    this.members.set(id, m);
    return m;
  }

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  /** Closes node `id` (a crash that keeps its persisted state). */
  async stop(id: string): Promise<void> {
    const m = this.members.get(id);
    this.members.delete(id);
    await m?.node.close();
  }

  /** Waits (bounded) until exactly one running member is leader and the others agree; returns it. */
  async waitForLeader(timeoutMs = 10_000, exclude?: string): Promise<Member> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leaders = [...this.members.values()].filter((m) => m.node.isLeader && m.id !== exclude);
      if (leaders.length === 1) {
        const l = leaders[0]!;
        if ([...this.members.values()].every((m) => m.node.leader === l.id)) return l;
      }
      await sleep(10);
    }
    throw new Error(`no single leader within ${timeoutMs} ms: ${JSON.stringify([...this.members.values()].map((m) => m.node.status()))}`);
  }

  /** Waits (bounded) until `pred` holds. */
  async waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (pred()) return;
      await sleep(10);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async close(): Promise<void> {
    for (const id of [...this.members.keys()]) await this.stop(id);
    await this.network.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
