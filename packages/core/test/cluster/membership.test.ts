/**
 * Dynamic Raft membership of the managers (RaftStore, real TcpTransport on
 * 127.0.0.1, LevelDB storage): the managers registry is the desired
 * membership and the leader's reconciler makes it real. A manager joins a
 * running cluster (`join: true` + `addManager`), every replica dials it, a
 * killed leader is replaced and, restarted from its LevelDB storage, rejoins
 * and catches up; `removeManager` is refused when it would leave the
 * remaining managers without a reachable majority, and for the last manager;
 * removing the leader hands leadership off first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionsError } from '@weft/interface';
import { LevelStorage } from '@weft/raft/level';
import { ManagerRemovalRefusedError, OperationTimeoutError } from '../../src';
import { RaftStore, type ManagerAddress } from '../../src/store/raft-store';
import { RaftStoreCluster } from '../support/raft-cluster';
import { freePorts } from '../support/ports';
import { sleep, until } from '../../../../test-support/wait';

const timing = { electionTimeoutMs: 300, heartbeatIntervalMs: 30, requestTimeoutMs: 5000 };
const text = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v).toString());
const voters = (s: RaftStore): string[] => [...s.node.status().confState.voters].sort();

/** Managers opened one by one, each with LevelDB storage in one temp dir. */
class Managers {
  readonly open = new Map<string, RaftStore>();
  readonly dir = mkdtempSync(join(tmpdir(), 'weft-membership-'));
  constructor(readonly addresses: Map<string, ManagerAddress>) {}

  static async create(ids: string[]): Promise<Managers> {
    const ports = await freePorts(2 * ids.length);
    return new Managers(new Map(ids.map((id, i) => [id, { id, raft: { host: '127.0.0.1', port: ports[2 * i]! }, store: { host: '127.0.0.1', port: ports[2 * i + 1]! } }])));
  }

  addr(id: string): ManagerAddress {
    return this.addresses.get(id)!;
  }

  /** Opens `id` knowing only `known` (itself included), from its LevelDB directory. */
  async start(id: string, known: string[], joining: boolean): Promise<RaftStore> {
    const stores = await LevelStorage.open(join(this.dir, id));
    try {
      const s = await RaftStore.open({ id, join: joining, managers: known.map((k) => this.addr(k)), stores, ...timing });
      this.open.set(id, s);
      return s;
    } catch (err) {
      await stores.close();
      throw err;
    }
  }

  async stop(id: string): Promise<void> {
    await this.open.get(id)?.close();
    this.open.delete(id);
  }

  async leader(): Promise<RaftStore> {
    let found: RaftStore | undefined;
    await until(() => (found = [...this.open.values()].find((s) => s.isLeader)) !== undefined, 'a leader', 10_000);
    return found!;
  }

  async close(): Promise<void> {
    for (const id of [...this.open.keys()]) await this.stop(id);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('managers membership', () => {
  it('one manager bootstraps, two join one at a time, every replica dials the new ones; a killed leader is replaced and rejoins from LevelDB', async () => {
    const c = await Managers.create(['m1', 'm2', 'm3']);
    try {
      const m1 = await c.start('m1', ['m1'], false);
      await c.leader();
      await until(() => m1.managerList().length === 1 && m1.managerList()[0]!.voter, 'the registry seeded');
      expect(m1.managerList()).toEqual([{ ...c.addr('m1'), voter: true, leader: true, reachable: true }]);
      await m1.put('before', '1');

      const m2 = await c.start('m2', ['m1', 'm2'], true);
      expect(m2.node.status().confState.voters).toEqual([]); // waits to be added
      await m1.addManager(c.addr('m2'));
      expect(voters(m1)).toEqual(['m1', 'm2']);
      await until(() => voters(m2).join() === 'm1,m2', 'm2 applied its addition');

      // m3 knows only m1; it is added through m2 (a follower: the registry write is forwarded to the leader).
      const m3 = await c.start('m3', ['m1', 'm3'], true);
      await m2.addManager(c.addr('m3'));
      expect(voters(m2)).toEqual(['m1', 'm2', 'm3']);
      for (const s of [m1, m2, m3]) {
        await until(() => voters(s).join() === 'm1,m2,m3', `${s.id} applied the 3 voters`);
        await until(() => s.managerList().length === 3, `${s.id}'s registry view`);
        for (const other of ['m1', 'm2', 'm3'].filter((o) => o !== s.id)) {
          await until(() => s.raftAddressOf(other)?.port === c.addr(other).raft.port, `${s.id} dialling ${other}`);
        }
      }
      expect(m3.managerList().map((m) => [m.id, m.voter, m.store.port])).toEqual(['m1', 'm2', 'm3'].map((id) => [id, true, c.addr(id).store.port]));
      // Writes replicate to every replica (m3 forwards to the leader; it caught up with the earlier history).
      await m3.put('k', 'v');
      for (const s of [m1, m2, m3]) {
        expect(text((await s.get('k'))?.value)).toBe('v');
        expect(text((await s.get('before'))?.value)).toBe('1');
      }

      // Kill the leader: the other two (m2 and m3, which knew nothing of each other at start) elect a new one.
      const old = await c.leader();
      await c.stop(old.id);
      const next = await c.leader();
      expect(next.id).not.toBe(old.id);
      const survivor = [...c.open.values()].find((s) => s !== next)!;
      await survivor.put('after', '2');
      // Restarted from its LevelDB storage knowing only itself (join is ignored: storage holds state): it finds the others from its registry and catches up.
      const back = await c.start(old.id, [old.id], true);
      await until(async () => text((await back.get('after'))?.value) === '2', `${old.id} catching up`, 15_000);
      expect(voters(back)).toEqual(['m1', 'm2', 'm3']);
      expect(back.isLeader).toBe(false);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('a manager restarted on new addresses is re-registered with addManager: every replica dials the new address and it catches up', async () => {
    const c = await Managers.create(['m1', 'm2', 'm3']);
    try {
      for (const id of ['m1', 'm2', 'm3']) await c.start(id, ['m1', 'm2', 'm3'], false);
      const leader = await c.leader();
      for (const s of c.open.values()) await until(() => s.managerList().length === 3, `${s.id}'s registry seeded`);
      const moved = ['m1', 'm2', 'm3'].find((id) => id !== leader.id)!;
      await c.stop(moved);
      const [raftPort, storePort] = await freePorts(2);
      c.addresses.set(moved, { id: moved, raft: { host: '127.0.0.1', port: raftPort! }, store: { host: '127.0.0.1', port: storePort! } });
      await leader.put('while-away', '1');
      const back = await c.start(moved, ['m1', 'm2', 'm3'], false);
      await leader.addManager(back.managerAddress);
      const added = (await leader.get(leader.managerKey(moved)))!;
      for (const s of c.open.values()) {
        await until(() => s.managerList().find((m) => m.id === moved)?.raft.port === raftPort, `${s.id}'s registry has the new address`).catch((e: unknown) => {
          // What each replica saw, to tell a slow catch-up from a stall.
          for (const x of c.open.values()) console.log(x.id, JSON.stringify({ status: x.node.status(), managers: x.managerList(), dials: x.raftAddressOf(moved), progress: x.node.progress(), stats: x.membershipStats, leaderVar: leader.id, added: added.value.toString() }));
          throw e;
        });
        if (s !== back) await until(() => s.raftAddressOf(moved)?.port === raftPort, `${s.id} dialling the new address`);
      }
      await until(async () => text((await back.get('while-away'))?.value) === '1', 'the moved manager catching up', 15_000);
      await back.put('from-moved', '2'); // forwarded to the leader's store address from the registry
      expect(text((await leader.get('from-moved'))?.value)).toBe('2');
    } finally {
      await c.close();
    }
  }, 60_000);

  it('removeManager: the quorum guard refuses removals that leave no reachable majority; a dead manager and then the rest go, never the last', async () => {
    const cluster = await RaftStoreCluster.start({ size: 3, level: false });
    try {
      const leader = await cluster.leader();
      // A cluster bootstrapped from the static list seeds its registry.
      await until(() => leader.managerList().filter((m) => m.voter && m.reachable).length === 3, 'registry seeded, all reachable');
      const dead = [...cluster.stores.keys()].find((id) => id !== leader.id)!;
      const live = [...cluster.stores.keys()].find((id) => id !== leader.id && id !== dead)!;
      await cluster.stopOne(dead);
      await until(() => leader.managerList().find((m) => m.id === dead)?.reachable === false, 'the dead manager judged unreachable', 10_000);
      // A follower's guard asks the leader for its view (followers do not hear each other).
      const follower = cluster.stores.get(live)!;

      for (const [caller, target] of [
        [leader, live],
        [leader, leader.id],
        [follower, leader.id],
        [follower, live],
      ] as const) {
        const err = await caller.removeManager(target).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ManagerRemovalRefusedError);
        expect((err as ManagerRemovalRefusedError).reason).toMatch(/only 1 of the 2 remaining managers are reachable/);
      }
      // Nothing changed.
      expect(voters(leader)).toHaveLength(3);
      expect(leader.managerList()).toHaveLength(3);

      expect(follower.managerList().find((m) => m.id === dead)?.reachable).toBe(false); // the leader's view, published on request
      await follower.removeManager(dead);
      expect(voters(follower)).toEqual([leader.id, live].sort());
      await until(() => voters(leader).length === 2 && leader.managerList().length === 2, 'the leader applied the removal');
      await leader.put('still', 'ok');
      await follower.removeManager(dead); // idempotent

      // Two live managers: removing one leaves 1 of 1 reachable.
      await leader.removeManager(live);
      expect(voters(leader)).toEqual([leader.id]);
      await leader.put('alone', 'ok');
      const last = await leader.removeManager(leader.id, { force: true }).catch((e: unknown) => e);
      expect(last).toBeInstanceOf(ManagerRemovalRefusedError);
      expect((last as Error).message).toMatch(/last manager/);
      expect(voters(leader)).toEqual([leader.id]);

      await expect(leader.removeManager('')).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(leader.addManager({ id: 'x', raft: { host: '127.0.0.1', port: 70000 }, store: { host: '127.0.0.1', port: 1 } })).rejects.toBeInstanceOf(InvalidOptionsError);
    } finally {
      await cluster.close();
    }
  }, 60_000);

  it('removing the leader hands leadership to another voter first; an unreachable new manager times out with a typed error', async () => {
    const cluster = await RaftStoreCluster.start({ size: 3, level: false });
    try {
      const leader = await cluster.leader();
      await until(() => leader.managerList().filter((m) => m.reachable).length === 3, 'the leader hears from all 3');
      const follower = [...cluster.stores.values()].find((s) => s !== leader)!;
      await follower.removeManager(leader.id);
      expect(voters(follower)).not.toContain(leader.id);
      expect(leader.membershipStats.transfers).toBeGreaterThanOrEqual(1);
      const next = await until(() => [...cluster.stores.values()].some((s) => s.isLeader && s !== leader), 'a new leader').then(() => [...cluster.stores.values()].find((s) => s.isLeader && s !== leader)!);
      expect(next.managerList().map((m) => m.id)).not.toContain(leader.id);
      await follower.put('after-transfer', 'ok');
      expect(text((await next.get('after-transfer'))?.value)).toBe('ok');

      // A manager that never starts: the record is written, the wait is bounded; removeManager cancels it.
      const [p1, p2] = await freePorts(2);
      const ghost = { id: 'ghost', raft: { host: '127.0.0.1', port: p1! }, store: { host: '127.0.0.1', port: p2! } };
      const err = await next.addManager(ghost, { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationTimeoutError);
      expect(next.managerList().map((m) => m.id)).toContain('ghost');
      await next.removeManager('ghost', { force: true });
      await until(() => !next.managerList().some((m) => m.id === 'ghost'), 'ghost gone');
      await sleep(100);
      expect(voters(next)).not.toContain('ghost');
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
