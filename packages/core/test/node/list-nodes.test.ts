/**
 * `listNodes()` on any node: every node with its role, underlay address,
 * status judged by the managers from heartbeats, and the Raft leader. A
 * crashed worker turns `down` (seen from a worker), comes back `ready` after
 * a restart; when the leader crashes, the new leader is the one listed.
 */
import { LocalCluster } from '../../src/testing';

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('listNodes', () => {
  it('lists every node with role, address, status and the leader; tracks a crash and a restart', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, control: 'memory', underlay: 'memory', storage: 'memory', node: { heartbeatIntervalMs: 100 } });
    try {
      const w1 = cluster.node('w1');
      await eventually(async () => (await w1.listNodes()).every((n) => n.status === 'ready'), 'every node ready');
      const listed = await w1.listNodes();
      expect(listed.map((n) => [n.id, n.role])).toEqual([
        ['m1', 'manager'],
        ['m2', 'manager'],
        ['m3', 'manager'],
        ['w1', 'worker'],
        ['w2', 'worker'],
      ]);
      for (const n of listed) expect(n.address).toBe(cluster.node(n.id).dataPlane.info.address);
      const leader = await cluster.awaitRaftLeader();
      await eventually(async () => (await w1.listNodes()).filter((n) => n.leader).map((n) => n.id).join() === leader, 'the leader to be listed');

      await cluster.crash('w2');
      await eventually(async () => (await w1.listNodes()).find((n) => n.id === 'w2')?.status === 'down', 'w2 down');
      expect((await w1.listNodes()).filter((n) => n.status === 'down').map((n) => n.id)).toEqual(['w2']);
      await cluster.restart('w2');
      await eventually(async () => (await w1.listNodes()).find((n) => n.id === 'w2')?.status === 'ready', 'w2 ready again');

      await cluster.crash(leader);
      const next = await cluster.awaitRaftLeader();
      expect(next).not.toBe(leader);
      await eventually(async () => {
        const l = await w1.listNodes();
        return l.filter((n) => n.leader).map((n) => n.id).join() === next && l.find((n) => n.id === leader)?.status === 'down';
      }, 'the new leader listed and the old one down');
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
