/** RaftNode.progress(): the leader's view of each member's replication (what a membership reconciler judges catch-up by). */
import { MemoryCluster } from './memory-cluster';

describe('RaftNode.progress', () => {
  let cluster: MemoryCluster;
  afterEach(async () => {
    await cluster.close();
  });

  test('on the leader: match per member, up to the last index once replicated; undefined on a follower and after close', async () => {
    cluster = new MemoryCluster(['a', 'b', 'c']);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await leader.kv.put('k', 'v');
    const last = leader.node.status().lastIndex;
    await cluster.waitFor(() => Object.values(leader.node.progress() ?? {}).every((p) => p.match === last), 'every member matched');
    const p = leader.node.progress()!;
    expect(Object.keys(p).sort()).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) expect(p[id]!.next).toBe(last + 1);
    // A member that is stopped falls behind in the leader's view.
    const lagging = ['a', 'b', 'c'].find((id) => id !== leader.id)!;
    await cluster.stop(lagging);
    await leader.kv.put('k2', 'v');
    await cluster.waitFor(() => leader.node.progress()![lagging]!.match < leader.node.status().lastIndex, 'the stopped member behind');
    const follower = [...cluster.members.values()].find((m) => m.id !== leader.id)!;
    expect(follower.node.progress()).toBeUndefined();
    await leader.node.close();
    expect(leader.node.progress()).toBeUndefined();
  });
});
