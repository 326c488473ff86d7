import { ConfChangeRejectedError } from '../../src/core';
import { NotLeaderError, NodeClosedError } from '../../src/node';
import { MemoryCluster } from './memory-cluster';

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe('RaftNode: 3 nodes over a MemoryTransportNetwork', () => {
  let cluster: MemoryCluster;
  afterEach(async () => {
    await cluster.close();
  });

  test('elects one leader; propose resolves with the apply result on every replica', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const res = await leader.kv.put('k', 'v1');
    expect(res.op).toBe('put');
    expect(res.revision).toBeGreaterThan(0);
    const idx = leader.node.status().appliedIndex;
    await cluster.waitFor(() => [...cluster.members.values()].every((m) => m.node.status().appliedIndex >= idx), 'replication');
    for (const m of cluster.members.values()) expect(text(m.store.get('k')?.value)).toBe('v1');
  });

  test('propose on a follower rejects with NotLeaderError naming the leader', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.members.values()].find((m) => m.id !== leader.id)!;
    const err = await follower.kv.put('k', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).name).toBe('NotLeaderError');
    expect((err as NotLeaderError).leaderId).toBe(leader.id);
    expect((err as NotLeaderError).code).toBe('ERR_RAFT_NOT_LEADER');
    expect((err as NotLeaderError).leaderAddress).toBeUndefined(); // the memory transport has no socket addresses
  });

  test('read() on a follower sees a write acknowledged by the leader (linearizable)', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.members.values()].find((m) => m.id !== leader.id)!;
    for (let i = 0; i < 20; i++) {
      await leader.kv.put('x', String(i));
      const got = await follower.kv.get('x');
      expect(text(got?.value)).toBe(String(i));
    }
  });

  test('reads issued at the same moment on every node all complete (read contexts never collide)', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('x', '1');
    for (let round = 0; round < 5; round++) {
      await Promise.all([...cluster.members.values()].flatMap((m) => [m.node.read(), m.node.read()]));
    }
  });

  test('concurrent proposals are batched and all applied in one order', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => leader.kv.put(`k${i % 7}`, String(i))));
    const revisions = results.map((r) => r.revision).sort((x, y) => x - y);
    expect(new Set(revisions).size).toBe(500);
    const idx = leader.node.status().appliedIndex;
    await cluster.waitFor(() => [...cluster.members.values()].every((m) => m.node.status().appliedIndex >= idx), 'replication');
    const snapshots = [...cluster.members.values()].map((m) => Buffer.from(m.store.snapshot()).toString('hex'));
    expect(new Set(snapshots).size).toBe(1);
  });

  test('proposals made in the same turn are persisted as one batch (one Ready)', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('warm', '1');
    const batches: number[] = [];
    const log = leader.stores.log;
    const original = log.storeEntries.bind(log);
    log.storeEntries = async (entries) => {
      batches.push(entries.length);
      return original(entries);
    };
    await Promise.all(Array.from({ length: 100 }, (_, i) => leader.node.propose(new TextEncoder().encode(`{"bad":${i}}`))));
    log.storeEntries = original;
    expect(batches).toEqual([100]);
  });

  test('leader-change and role-change events follow elections', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const seen: Array<[string, string | null, number]> = [];
    const roles: string[] = [];
    for (const m of cluster.members.values()) m.node.on('leader-change', (leader, term) => seen.push([m.id, leader, term]));
    const leader = await cluster.waitForLeader();
    leader.node.on('role-change', (role) => roles.push(role));
    const term = leader.node.status().term;
    expect(term).toBeGreaterThan(0);
    for (const m of cluster.members.values()) expect(seen).toContainEqual([m.id, leader.id, term]);
    await leader.node.transferLeadership(['a', 'b', 'c'].find((id) => id !== leader.id)!);
    expect(roles).toContain('follower');
    expect(leader.node.status()).toMatchObject({ id: leader.id, role: 'follower' });
  });

  test('leader failover: a new leader is elected and earlier writes survive', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const first = await cluster.waitForLeader();
    for (let i = 0; i < 10; i++) await first.kv.put(`f${i}`, 'x');
    await cluster.stop(first.id);
    const second = await cluster.waitForLeader();
    expect(second.id).not.toBe(first.id);
    await second.kv.put('after', 'y');
    for (let i = 0; i < 10; i++) expect(text((await second.kv.get(`f${i}`))?.value)).toBe('x');
    // The old leader restarts from its persisted state and catches up.
    const back = await cluster.start(first.id);
    await cluster.waitFor(() => text(back.store.get('after')?.value) === 'y', 'restarted node catching up');
    expect(back.node.isLeader).toBe(false);
  });

  test('membership: add a learner, promote it to voter, remove a voter', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('before', '1');
    const d = await cluster.start('d', undefined);
    let conf = await leader.node.addLearner('d');
    expect(conf.learners).toContain('d');
    await cluster.waitFor(() => text(d.store.get('before')?.value) === '1', 'learner catching up');
    conf = await leader.node.addVoter('d');
    expect(conf.voters).toContain('d');
    expect(conf.learners).not.toContain('d');
    const victim = ['a', 'b', 'c'].find((id) => id !== leader.id)!;
    conf = await leader.node.removeNode(victim);
    expect(conf.voters).not.toContain(victim);
    expect(conf.voters).toHaveLength(3);
    await leader.kv.put('after', '2');
    await cluster.waitFor(() => text(d.store.get('after')?.value) === '2', 'new voter applying');
  });

  test('a second conf change while one is pending is refused', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('x', '1');
    const first = leader.node.addLearner('d');
    const second = leader.node.addLearner('e').catch((e: unknown) => e);
    await expect(first).resolves.toBeDefined();
    const err = await second;
    expect(err).toBeInstanceOf(ConfChangeRejectedError);
    expect((err as Error).name).toBe('ConfChangeRejectedError');
  });

  test('snapshot catch-up: a node that missed compacted entries is restored from a snapshot', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c'], 11, { snapshotThreshold: 50, snapshotTrailingEntries: 5 });
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const lagging = ['a', 'b', 'c'].find((id) => id !== leader.id)!;
    await cluster.stop(lagging);
    for (let i = 0; i < 200; i++) await leader.kv.put(`s${i % 10}`, String(i));
    expect(leader.node.status().snapshotIndex).toBeGreaterThan(100);
    const back = await cluster.start(lagging);
    await cluster.waitFor(() => text(back.store.get('s9')?.value) === '199', 'snapshot install');
    expect(back.node.status().snapshotIndex).toBeGreaterThan(100);
    expect(Buffer.from(back.store.snapshot()).equals(Buffer.from(leader.store.snapshot()))).toBe(true);
  });

  test('campaign() on a follower of a live leader changes nothing (leader lease); with the leader gone it elects a new one', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('x', '1');
    const follower = [...cluster.members.values()].find((m) => m.id !== leader.id)!;
    const term = leader.node.status().term;
    follower.node.campaign(); // pre-vote: the other follower, in the lease, ignores it; the leader refuses
    await cluster.waitFor(() => follower.node.leader === leader.id, 'the follower back under the leader');
    expect(leader.node.isLeader).toBe(true);
    expect(leader.node.status().term).toBe(term);

    await cluster.stop(leader.id);
    follower.node.campaign();
    await cluster.waitFor(() => follower.node.leader !== null && follower.node.leader !== leader.id, 'a new leader');
    expect(follower.node.status().term).toBeGreaterThan(term);
    await cluster.close();
    cluster.members.clear();
    follower.node.campaign(); // closed: ignored, no throw
  });

  test('transferLeadership moves the leader', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('x', '1');
    const target = ['a', 'b', 'c'].find((id) => id !== leader.id)!;
    await leader.node.transferLeadership(target);
    const now = await cluster.waitForLeader();
    expect(now.id).toBe(target);
  });

  test('close() rejects pending requests with NodeClosedError and later calls too', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    // Cut the leader off so the proposal cannot commit, then close it.
    cluster.network.isolate(leader.id);
    const pending = leader.kv.put('k', 'v').catch((e: unknown) => e);
    const read = leader.node.read().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    await cluster.stop(leader.id);
    expect(await pending).toBeInstanceOf(NodeClosedError);
    expect(await read).toBeInstanceOf(NodeClosedError);
    await expect(leader.node.propose(new Uint8Array([1]))).rejects.toBeInstanceOf(NodeClosedError);
  });
});
