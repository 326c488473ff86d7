import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvStore, RaftKv } from '../../src/kv';
import { InvalidOptionsError, seededRandom } from '@weft/interface';
import { LevelStorage } from '../../src/level';
import { NodeFailedError, ProposalLostError, RaftNode, RequestTimeoutError } from '../../src/node';
import { memoryStores, type RaftStores } from '../../src/storage';
import { MemoryTransportNetwork } from '../../src/transport';
import { MemoryCluster } from './memory-cluster';

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Timers the test drives by hand: each `tick()` fires every registered interval once. */
class ManualTimers {
  private readonly fns = new Map<number, () => void>();
  private next = 1;
  setInterval(fn: () => void, _ms: number): unknown {
    const h = this.next++;
    this.fns.set(h, fn);
    return h;
  }
  clearInterval(h: unknown): void {
    this.fns.delete(h as number);
  }
  tick(): void {
    for (const fn of [...this.fns.values()]) fn();
  }
  get active(): number {
    return this.fns.size;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('RaftNode options', () => {
  const base = () => ({ id: 'a', peers: ['a'], stateMachine: new KvStore(), transport: new MemoryTransportNetwork().transport('a'), stores: memoryStores() });

  test.each([
    [{ electionTimeoutMs: 100, heartbeatIntervalMs: 100 }, 'electionTimeoutMs', /option "electionTimeoutMs" must be greater than heartbeatIntervalMs \(100\) \(got 100\)/],
    [{ heartbeatIntervalMs: 0 }, 'heartbeatIntervalMs', /heartbeatIntervalMs/],
    [{ electionTimeoutMs: 1.5 }, 'electionTimeoutMs', /electionTimeoutMs/],
    [{ tickMs: 500, heartbeatIntervalMs: 100 }, 'tickMs', /option "tickMs" must not exceed heartbeatIntervalMs \(100\) \(got 500\)/],
    [{ id: '' }, 'id', /^RaftNode\.create: option "id" /],
    [{ stateMachine: {} }, 'stateMachine', /must implement StateMachine/],
    [{ stores: null }, 'stores', /must be RaftStores/],
    [{ requestTimeoutMs: -1 }, 'requestTimeoutMs', /requestTimeoutMs.*got -1/],
  ])('%j is refused naming %s', async (patch, field, re) => {
    const err = await RaftNode.create({ ...base(), ...(patch as object) } as Parameters<typeof RaftNode.create>[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).name).toBe('InvalidOptionsError');
    expect((err as InvalidOptionsError).field).toBe(field);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('RaftNode with injected timers', () => {
  test('a single node campaigns only after its election timeout in ticks, and close() clears its timer', async () => {
    const timers = new ManualTimers();
    const net = new MemoryTransportNetwork();
    const node = await RaftNode.create({
      id: 'solo',
      peers: ['solo'],
      stateMachine: new KvStore(),
      transport: net.transport('solo'),
      stores: memoryStores(),
      electionTimeoutMs: 1000,
      heartbeatIntervalMs: 100,
      timers,
      random: () => 0, // election timeout exactly electionTick = 10 ticks
      preVote: false,
    });
    node.start();
    expect(timers.active).toBe(1);
    for (let i = 0; i < 9; i++) {
      timers.tick();
      await flush();
    }
    expect(node.isLeader).toBe(false);
    for (let i = 0; i < 3 && !node.isLeader; i++) {
      timers.tick();
      await flush();
      await flush();
    }
    expect(node.isLeader).toBe(true);
    await node.close();
    expect(timers.active).toBe(0);
    await net.close();
  });
});

describe('RaftNode failure modes', () => {
  let cluster: MemoryCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  test('a proposal that cannot commit rejects with RequestTimeoutError (outcome unknown)', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c'], 3);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('x', '1');
    // Drop every message: nothing commits, and nothing is lost from the leader's point of view.
    cluster.network.setFaults({ dropRate: 1 });
    const err = await leader.node.propose(new TextEncoder().encode('zzz')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as Error).message).toMatch(/outcome unknown/);
  });

  test('entries of a partitioned leader overwritten by the new leader reject with ProposalLostError', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c'], 5);
    await cluster.startAll();
    const old = await cluster.waitForLeader();
    await old.kv.put('x', '1');
    const others = ['a', 'b', 'c'].filter((id) => id !== old.id);
    cluster.network.partition([old.id], others);
    const lost = old.node.propose(new TextEncoder().encode('lost')).catch((e: unknown) => e);
    // The majority elects a new leader and commits at the same indexes.
    await cluster.waitFor(() => others.some((id) => cluster!.members.get(id)!.node.isLeader), 'a new leader in the majority');
    const fresh = cluster.members.get(others.find((id) => cluster!.members.get(id)!.node.isLeader)!)!;
    for (let i = 0; i < 5; i++) await fresh.kv.put(`y${i}`, 'new');
    cluster.network.heal();
    const err = await lost;
    expect(err).toBeInstanceOf(ProposalLostError);
    expect((err as Error).name).toBe('ProposalLostError');
    await cluster.waitFor(() => text(old.store.get('y4')?.value) === 'new', 'old leader catching up');
  });

  test('a failing store stops the node: pending requests reject with NodeFailedError and a failed event fires', async () => {
    const net = new MemoryTransportNetwork();
    const stores = memoryStores();
    let failWrites = false;
    const original = stores.log.storeEntries.bind(stores.log);
    stores.log.storeEntries = async (entries) => {
      if (failWrites) throw new Error('disk on fire');
      return original(entries);
    };
    const node = await RaftNode.create({ id: 'solo', peers: ['solo'], stateMachine: new KvStore(), transport: net.transport('solo'), stores, electionTimeoutMs: 50, heartbeatIntervalMs: 10 });
    const failed: Error[] = [];
    node.on('failed', (e) => failed.push(e));
    node.start();
    const deadline = Date.now() + 5000;
    while (!node.isLeader && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(node.isLeader).toBe(true);
    failWrites = true;
    const err = await node.propose(Uint8Array.of(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeFailedError);
    expect((err as Error).message).toMatch(/disk on fire/);
    expect(failed.map((e) => e.message)).toEqual(['disk on fire']);
    await expect(node.read()).rejects.toBeInstanceOf(NodeFailedError);
    await node.close();
    await net.close();
  });

  test('close() after a fatal error still closes the stores', async () => {
    const net = new MemoryTransportNetwork();
    const stores: RaftStores & ReturnType<typeof memoryStores> = memoryStores();
    let storesClosed = 0;
    stores.close = async () => {
      storesClosed++;
    };
    let failWrites = false;
    const original = stores.log.storeEntries.bind(stores.log);
    stores.log.storeEntries = async (entries) => {
      if (failWrites) throw new Error('disk on fire');
      return original(entries);
    };
    const node = await RaftNode.create({ id: 'solo', peers: ['solo'], stateMachine: new KvStore(), transport: net.transport('solo'), stores, electionTimeoutMs: 50, heartbeatIntervalMs: 10 });
    node.start();
    const deadline = Date.now() + 5000;
    while (!node.isLeader && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(node.isLeader).toBe(true);
    failWrites = true;
    await expect(node.propose(Uint8Array.of(1))).rejects.toBeInstanceOf(NodeFailedError);
    expect(storesClosed).toBe(0);
    await node.close();
    expect(storesClosed).toBe(1);
    await node.close();
    expect(storesClosed).toBe(1);
    await net.close();
  });
});

describe('RaftNode over LevelStorage', () => {
  test('a 3-node cluster restarts from its LevelDB directories with the same state', async () => {
    const dir = mkdtempSync(join(tmpdir(), `weft-raft-node-level-${process.pid}-`));
    const ids = ['a', 'b', 'c'];
    const net = new MemoryTransportNetwork({ seed: 9 });
    const boot = async (snapshotThreshold: number) => {
      const nodes: { node: RaftNode; store: KvStore; kv: RaftKv }[] = [];
      for (const [i, id] of ids.entries()) {
        const store = new KvStore();
        const stores: RaftStores = await LevelStorage.open(join(dir, id));
        const node = await RaftNode.create({ id, peers: ids, stateMachine: store, transport: net.transport(id), stores, electionTimeoutMs: 150, heartbeatIntervalMs: 15, random: seededRandom(i + 1), snapshotThreshold, snapshotTrailingEntries: 3 });
        nodes.push({ node: node.start(), store, kv: new RaftKv(node, store) });
      }
      return nodes;
    };
    const waitLeader = async (nodes: { node: RaftNode; store: KvStore; kv: RaftKv }[]) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const l = nodes.find((n) => n.node.isLeader);
        if (l) return l;
        if (Date.now() > deadline) throw new Error('no leader');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      let nodes = await boot(20);
      let leader = await waitLeader(nodes);
      for (let i = 0; i < 50; i++) await leader.kv.put(`k${i}`, `v${i}`);
      const before = leader.store.snapshot();
      const applied = leader.node.status().appliedIndex;
      await new Promise((r) => setTimeout(r, 100));
      for (const n of nodes) await n.node.close();
      nodes = await boot(20);
      // Every node restores its snapshot and replays its log up to the commit index.
      for (const n of nodes) expect(n.node.status().snapshotIndex).toBeGreaterThan(0);
      leader = await waitLeader(nodes);
      await leader.node.read();
      expect(leader.node.status().appliedIndex).toBeGreaterThanOrEqual(applied);
      expect(Buffer.from(leader.store.snapshot()).equals(Buffer.from(before))).toBe(true);
      expect(text((await leader.kv.get('k49'))?.value)).toBe('v49');
      for (const n of nodes) await n.node.close();
    } finally {
      await net.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
