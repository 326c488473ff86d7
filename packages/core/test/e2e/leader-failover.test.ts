import type { Attachment } from '../../src';
import { LocalCluster } from '../../src/testing';
import { ep, eventually, pingEventually } from '../support/traffic';

/** Kill -9 of the Raft leader (a crash: no leave, no transfer) while attaches and detaches go on. */
describe('the Raft leader dies during churn', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ managers: 3, workers: 2, control: 'tcp', underlay: 'udp', storage: 'level' });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('elects a new leader; traffic never stops; attaches continue; no address is ever given twice; the old leader restarts from LevelDB and catches up', async () => {
    const leader = await cluster.awaitRaftLeader();
    const survivors = [...cluster.nodes.keys()].filter((id) => id !== leader);
    const [s1, s2] = survivors as [string, string];
    await cluster.node(s1).createNetwork({ name: 'app', subnet: '10.210.0.0/24', attachable: true });
    const x = await cluster.node(s1).attach('app', { name: 'x' });
    const y = await cluster.node(s2).attach('app', { name: 'y' });
    await pingEventually(x, y.ip);

    // Continuous traffic between endpoints on surviving nodes, every ping must succeed.
    let stop = false;
    let pings = 0;
    const failures: string[] = [];
    const traffic = (async () => {
      while (!stop) {
        try {
          await ep(x).ping(y.ip, { timeoutMs: 1000 });
          pings += 1;
        } catch (err) {
          failures.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    // Churn on the survivors: attach, then detach, with names reused; live addresses must stay unique.
    const live = new Map<string, Attachment>();
    const seenWhileLive: string[] = [];
    let churnOps = 0;
    const churnErrors: unknown[] = [];
    const churn = async (nodeId: string, k: number): Promise<void> => {
      // Five name slots: each step detaches the slot's endpoint (if any) and attaches a new one under the same name.
      const slots: (Attachment | undefined)[] = [];
      for (let i = 0; i < 30; i++) {
        const slot = i % 5;
        try {
          const old = slots[slot];
          if (old !== undefined) {
            slots[slot] = undefined;
            live.delete(old.id);
            await old.detach();
            churnOps += 1;
          }
          const a = await cluster.node(nodeId).attach('app', { name: `c${k}-${slot}` });
          if ([...live.values()].some((o) => o.ip === a.ip)) seenWhileLive.push(a.ip);
          live.set(a.id, a);
          slots[slot] = a;
          churnOps += 1;
        } catch (err) {
          churnErrors.push(err);
        }
      }
    };
    const churning = Promise.all(survivors.slice(0, 3).map((id, k) => churn(id, k)));
    await new Promise((r) => setTimeout(r, 200));
    const opsBeforeCrash = churnOps;
    await cluster.crash(leader);
    const newLeader = await cluster.awaitRaftLeader(15_000);
    expect(newLeader).not.toBe(leader);
    await churning;
    stop = true;
    await traffic;

    expect(failures).toEqual([]);
    expect(pings).toBeGreaterThan(10);
    expect(seenWhileLive).toEqual([]);
    expect(churnErrors.map(String)).toEqual([]);
    expect(churnOps).toBeGreaterThan(60);
    expect(opsBeforeCrash).toBeLessThan(churnOps / 2); // the crash happened early in the churn, not after it

    // New networks and attaches work under the new leader.
    await cluster.node(s2).createNetwork({ name: 'after', attachable: true });
    const p = await cluster.node(s1).attach('after', { name: 'p' });
    const q = await cluster.node(s2).attach('after', { name: 'q' });
    await pingEventually(p, q.ip);

    // The old leader restarts from its LevelDB directory and catches up.
    const restarted = await cluster.restart(leader);
    await eventually(async () => (await restarted.listNetworks()).some((n) => n.name === 'after'), 'the restarted manager to see the new network', 15_000);
    const r = await restarted.attach('after', { name: 'r' });
    await pingEventually(r, p.ip);
    await pingEventually(q, r.ip);

    // Every endpoint the store holds has a unique address per network.
    const app = await restarted.inspectNetwork('app');
    const ips = Object.values(app.Containers).map((c) => c.IPv4Address);
    expect(new Set(ips).size).toBe(ips.length);
  }, 120_000);
});
