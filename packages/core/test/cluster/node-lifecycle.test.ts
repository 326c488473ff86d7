/**
 * Node lifecycle on top of the managers' dynamic Raft membership (WeftNode):
 * `promote` records the desired role (the node's `onRoleChange` sees it),
 * `demote` of the Raft leader hands leadership off and removes it from the
 * managers (listNodes reports it a worker), `setAvailability`, `leave()` of a
 * worker (its endpoint released, its id refused afterwards) and of a manager
 * (removed from Raft, the cluster keeps working), and the last manager
 * refused. Real TCP between managers on loopback.
 */
import { StoreUnavailableError } from '@weft/interface';
import { ManagerRemovalRefusedError, NodeNotFoundError, NodeRemovedError, RemoteStore, RoleChangeRefusedError } from '../../src';
import { LocalCluster } from '../../src/testing';
import { eventually, pingEventually } from '../support/traffic';

const voters = (cluster: LocalCluster, id: string): string[] => [...cluster.raftStoreOf(id)!.node.status().confState.voters].sort();

describe('node lifecycle', () => {
  it('promote, demote of the leader, availability, leave of a worker and of a manager, and the last manager refused', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 2, underlay: 'memory', storage: 'memory', node: { heartbeatIntervalMs: 100 } });
    try {
      const roles = async (): Promise<string> =>
        (await cluster.node('w2').listNodes())
          .filter((n) => cluster.nodes.has(n.id))
          .map((n) => `${n.id}:${n.role}`)
          .join();
      await eventually(async () => (await roles()) === 'm1:manager,m2:manager,m3:manager,w1:worker,w2:worker', 'roles listed');
      await eventually(async () => (await cluster.node('m1').listNodes()).every((n) => n.status === 'ready'), 'every node ready');

      // Availability (recorded; `active` by default).
      await cluster.node('m1').setAvailability('w1', 'drain');
      const listed = await cluster.node('w2').listNodes();
      expect(listed.map((n) => [n.id, n.availability])).toEqual([
        ['m1', 'active'],
        ['m2', 'active'],
        ['m3', 'active'],
        ['w1', 'drain'],
        ['w2', 'active'],
      ]);
      await expect(cluster.node('w1').setAvailability('w2', 'pause')).rejects.toBeInstanceOf(RoleChangeRefusedError);

      // Promote: a desired role the node's process acts on.
      const w2Roles: string[] = [];
      await cluster.node('w2').onRoleChange((r) => w2Roles.push(r));
      await expect(cluster.node('w1').promote('w2')).rejects.toBeInstanceOf(RoleChangeRefusedError);
      await expect(cluster.node('m1').promote('nope')).rejects.toBeInstanceOf(NodeNotFoundError);
      await cluster.node('m1').promote('w2');
      await eventually(async () => w2Roles.join() === 'manager', 'w2 told to become a manager');

      // Demote the Raft leader from another manager: leadership moves first, then it leaves the voters.
      const leader = await cluster.awaitRaftLeader();
      const leaderRoles: string[] = [];
      await cluster.node(leader).onRoleChange((r) => leaderRoles.push(r));
      const [a, b] = cluster.managerIds.filter((id) => id !== leader) as [string, string];
      await eventually(async () => cluster.raftStoreOf(leader)!.managerList().every((m) => m.reachable), 'the leader hears from every manager');
      await cluster.node(a).demote(leader);
      expect(voters(cluster, a)).toEqual([a, b].sort());
      expect(cluster.raftStoreOf(leader)!.membershipStats.transfers).toBeGreaterThanOrEqual(1);
      await eventually(async () => leaderRoles.join() === 'worker', 'the demoted manager told to become a worker');
      await eventually(async () => (await cluster.node(a).listNodes()).find((n) => n.id === leader)?.role === 'worker', 'listed as a worker');
      const next = await cluster.awaitRaftLeader();
      expect([a, b]).toContain(next);
      await cluster.node(a).createNetwork({ name: 'life', attachable: true });

      // A worker leaves: its endpoint is released, it is closed, and its id is refused afterwards.
      const x = await cluster.node('w1').attach('life', { name: 'x' });
      const y = await cluster.node(a).attach('life', { name: 'y' });
      await pingEventually(y, x.ip);
      await cluster.node('w1').leave();
      await expect(cluster.node('w1').listNodes()).rejects.toThrow(/closed/);
      const inspect = await cluster.node(a).inspectNetwork('life');
      expect(Object.values(inspect.Containers).map((c) => c.Name)).toEqual(['y']);
      expect((await cluster.node(a).listNodes()).map((n) => n.id)).not.toContain('w1');
      await eventually(async () => cluster.node(a).isRemoved('w1'), 'w1 marked removed');
      await cluster.crash('w1'); // LocalCluster's bookkeeping: the node is already closed
      await expect(cluster.restart('w1')).rejects.toBeInstanceOf(NodeRemovedError);

      // A manager (the current leader) leaves: it hands leadership off and is removed from Raft; the other one carries on alone.
      const stays = next === a ? b : a;
      const leaving = cluster.node(next);
      await leaving.leave();
      await expect(leaving.listNodes()).rejects.toThrow(/closed/);
      await cluster.crash(next);
      await eventually(async () => voters(cluster, stays).join() === stays, `${stays} alone a voter`);
      await cluster.node(stays).createNetwork({ name: 'after-leave' });
      expect((await cluster.node(stays).listNodes()).map((n) => n.id)).not.toContain(next);

      // The last manager cannot leave or be demoted.
      await expect(cluster.node(stays).leave()).rejects.toBeInstanceOf(ManagerRemovalRefusedError);
      await expect(cluster.node(stays).demote(stays)).rejects.toThrow(/last manager/);
      await cluster.node(stays).createNetwork({ name: 'still-works' });
    } finally {
      await cluster.close();
    }
  }, 90_000);

  it('with mutual TLS and the worker store policy: a worker lists nodes, watches its role and leaves; a manager is demoted', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 1, tls: true, underlay: 'memory', storage: 'memory', node: { heartbeatIntervalMs: 100 } });
    try {
      const w1 = cluster.node('w1');
      await eventually(async () => (await w1.listNodes()).filter((n) => n.role === 'manager').length === 3, 'the worker lists 3 managers');
      const told: string[] = [];
      await w1.onRoleChange((r) => told.push(r));
      await cluster.node('m1').promote('w1');
      await eventually(async () => told.join() === 'manager', 'w1 told');
      await cluster.node('m1').createNetwork({ name: 'tls-life', attachable: true });
      await w1.attach('tls-life', { name: 'x' });
      await w1.leave();
      expect((await cluster.node('m1').listNodes()).map((n) => n.id)).not.toContain('w1');
      expect(Object.keys((await cluster.node('m1').inspectNetwork('tls-life')).Containers)).toEqual([]);
      // Its certificate is refused from then on: a store client as w1 is never served.
      const asW1 = new RemoteStore({ endpoints: [cluster.raftStoreOf('m1')!.serverAddress!], tls: cluster.controlTlsOf('w1')!, requestTimeoutMs: 1000, reconnectMs: 200 });
      try {
        await expect(asW1.get('weft/cluster')).rejects.toBeInstanceOf(StoreUnavailableError);
      } finally {
        await asW1.close();
      }

      await eventually(async () => cluster.raftStoreOf(await cluster.awaitRaftLeader())!.managerList().every((m) => m.reachable), 'the leader hears from every manager');
      await cluster.node('m1').demote('m3');
      await eventually(async () => (await cluster.node('m2').listNodes()).find((n) => n.id === 'm3')?.role === 'worker', 'm3 listed as a worker');
      // The removed replica stops serving the store (workers fail over) and its requests fail at once.
      await eventually(async () => cluster.raftStoreOf('m3')!.removed, 'm3 sees itself removed');
      expect(cluster.raftStoreOf('m3')!.serverAddress).toBeUndefined();
      await expect(cluster.raftStoreOf('m3')!.get('weft/cluster')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(voters(cluster, 'm1')).toEqual(['m1', 'm2']);
      await cluster.node('m2').createNetwork({ name: 'tls-after' });
    } finally {
      await cluster.close();
    }
  }, 90_000);
});
