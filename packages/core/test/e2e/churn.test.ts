import { jsonOf, seededRandom } from '@weft/interface';
import type { Attachment, EndpointRecord, WeftNode } from '../../src';
import { LocalCluster } from '../../src/testing';
import { eventually } from '../support/traffic';

/** What every node's data plane must hold, from the endpoint records in the store (the ground truth). */
async function expectedRemotes(node: WeftNode, all: EndpointRecord[]): Promise<Map<string, string[]>> {
  const mine = new Set(all.filter((e) => e.nodeId === node.id).map((e) => e.networkId));
  const out = new Map<string, string[]>();
  for (const net of mine) {
    out.set(
      net,
      all
        .filter((e) => e.networkId === net && e.nodeId !== node.id)
        .map((e) => `${e.id} ${e.ip} ${e.mac} ${e.nodeId}`)
        .sort(),
    );
  }
  return out;
}

async function programmedRemotes(node: WeftNode): Promise<Map<string, string[]>> {
  const state = await node.programmedState();
  const out = new Map<string, string[]>();
  for (const n of state.networks) {
    out.set(
      n.spec.id,
      n.remote.map((r) => `${r.id} ${r.ip} ${r.mac} ${r.peer.id}`).sort(),
    );
    // Flood entries: exactly one per distinct remote node.
    expect(n.flood.map((p) => p.id).sort()).toEqual([...new Set(n.remote.map((r) => r.peer.id))].sort());
  }
  return out;
}

describe('churn: 1,000 attach/detach operations with names and addresses re-used across nodes', () => {
  it('leaves every node programmed with exactly the live remote endpoints of its active networks (moby#52661, moby#53663)', async () => {
    const cluster = await LocalCluster.start({ managers: 3, workers: 3, control: 'memory', underlay: 'memory', storage: 'memory', seed: 7 });
    try {
      const random = seededRandom(20261202);
      const ids = [...cluster.nodes.keys()];
      const nets = ['churn-a', 'churn-b', 'churn-c'];
      for (const n of nets) await cluster.node('m1').createNetwork({ name: n, attachable: true, subnet: `10.${220 + nets.indexOf(n)}.0.0/24` });
      const live: Attachment[] = [];
      const released: { net: string; ip: string }[] = [];
      let ops = 0;
      let staticReuses = 0;
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      while (ops < 1000) {
        // A burst of concurrent operations, each on a random node.
        const burst = Array.from({ length: 10 }, async () => {
          if (live.length > 0 && random() < 0.45) {
            const i = Math.floor(random() * live.length);
            const a = live.splice(i, 1)[0]!;
            await a.detach();
            released.push({ net: a.networkName, ip: a.ip });
          } else {
            const net = pick(nets);
            const name = `ep${Math.floor(random() * 40)}`;
            const reuse = released.filter((r) => r.net === net);
            const ip = reuse.length > 0 && random() < 0.3 ? reuse.splice(Math.floor(random() * reuse.length), 1)[0]!.ip : undefined;
            try {
              const a = await cluster.node(pick(ids)).attach(net, { name, ...(ip ? { ip } : {}) });
              if (ip !== undefined) staticReuses += 1;
              live.push(a);
            } catch (err) {
              // Name still taken (another burst member holds it) or the address re-taken: both are refusals, not failures.
              const name = (err as Error).name;
              if (name !== 'NameConflictError' && name !== 'AddressInUseError') throw err;
            }
          }
          ops += 1;
        });
        await Promise.all(burst);
      }
      expect(staticReuses).toBeGreaterThan(10);

      const records = async (): Promise<EndpointRecord[]> =>
        (await cluster.node('w1').store.range({ prefix: 'weft/endpoints/' })).kvs.map((kv) => jsonOf<EndpointRecord>(kv));
      expect((await records()).map((r) => r.id).sort()).toEqual(live.map((a) => a.id).sort());

      for (const node of cluster.nodes.values()) {
        await eventually(async () => {
          const want = await expectedRemotes(node, await records());
          const have = await programmedRemotes(node);
          return JSON.stringify([...want].sort()) === JSON.stringify([...have].sort());
        }, `node ${node.id} to converge`);
        // And the node's own desired state agrees with its data plane, read back.
        const desired = node.desiredState();
        const programmed = await node.programmedState();
        expect(programmed.networks.map((n) => [n.spec.id, n.local.map((l) => l.id), n.remote.map((r) => r.id)])).toEqual(
          desired.networks.map((n) => [n.spec.id, n.local.map((l) => l.id), n.remote.map((r) => r.id)]),
        );
      }

      // A full resync with nothing changed makes no data-plane call.
      for (const node of cluster.nodes.values()) {
        const before = node.stats.reconcile.calls;
        await node.resync();
        expect(node.stats.reconcile.calls).toBe(before);
      }
    } finally {
      await cluster.close();
    }
  }, 180_000);
});
