/**
 * A whole Weft cluster in one process with `LocalCluster` from
 * `@weft/core/testing` — for orchestrator authors who test their code
 * against real Weft behaviour: 3 managers (Raft in memory), 2 workers, real
 * UDP on loopback, and a fault: worker w2 partitioned away, then healed.
 * While it is cut off, the rest of the cluster keeps working (a new endpoint
 * is attached); after the heal, w2 catches up with it by itself.
 *
 *   npx tsx examples/cluster-in-one-process.ts
 */
import { LocalCluster } from '@weft/core/testing';
import { Report } from './support/report';
import { pingUntil } from './support/traffic';

/** What the example saw, for its test. */
export interface ClusterExampleReport {
  lines: string[];
  /** Error name of the ping across the partition (it must fail). */
  duringPartition: string;
  /** RTT (ms) of the pings after the heal: to the old and to the new endpoint. */
  afterHeal: { toOld: number; toNew: number };
}

export async function main(print: (line: string) => void = () => undefined): Promise<ClusterExampleReport> {
  const report = new Report(print);
  report.say('LocalCluster: a Weft cluster in one process, with a partition and a heal');
  // Raft and storage in memory: fast, nothing left on disk. (Defaults: Raft over TCP, LevelDB in a temp dir.)
  const cluster = await report.step('start 3 managers + 2 workers', async (note) => {
    const c = await LocalCluster.start({ managers: 3, workers: 2, control: 'memory', storage: 'memory', underlay: 'udp' });
    note(`nodes ${[...c.nodes.keys()].join(', ')}; Raft leader ${await c.awaitRaftLeader()}; w2's data plane at ${c.addressOf('w2')}`);
    return c;
  });
  try {
    const [a, b] = await report.step('network "app", endpoint a on w1 and b on w2, ping', async (note) => {
      await cluster.node('m1').createNetwork({ name: 'app', attachable: true });
      const eps = [await cluster.node('w1').attach('app', { name: 'a' }), await cluster.node('w2').attach('app', { name: 'b' })] as const;
      note(`a ${eps[0].ip} -> b ${eps[1].ip}: reply in ${(await pingUntil(eps[0], eps[1].ip)).toFixed(2)} ms`);
      return eps;
    });

    const { duringPartition, c } = await report.step('partition w2 away from everyone else', async (note) => {
      cluster.partition(['m1', 'm2', 'm3', 'w1'], ['w2']); // data plane, store connections and Raft messages across the cut are dropped
      const lost = await a.endpoint.ping(b.ip, { timeoutMs: 500 }).then(
        () => 'none (reached!)',
        (err: unknown) => (err as Error).name,
      );
      note(`ping a -> b across the cut: ${lost}`);
      // The majority side keeps working: a new endpoint on m2 is attached and reachable from w1.
      const created = await cluster.node('m2').attach('app', { name: 'c' });
      note(`attached c ${created.ip} on m2 meanwhile; a -> c: reply in ${(await pingUntil(a, created.ip)).toFixed(2)} ms`);
      const known = (await cluster.node('w2').programmedState()).networks[0]?.remote.map((r) => r.ip) ?? [];
      note(`w2's data plane knows remote endpoints [${known.join(', ')}] (not c: it cannot hear the store)`);
      return { duringPartition: lost, c: created };
    });

    const afterHeal = await report.step('heal: w2 reconnects, resyncs and reaches everyone', async (note) => {
      cluster.heal();
      const toOld = await pingUntil(b, a.ip, 15_000);
      const toNew = await pingUntil(b, c.ip, 15_000); // only works once w2 has programmed c from the store
      note(`b -> a: reply in ${toOld.toFixed(2)} ms; b -> c (attached during the partition): reply in ${toNew.toFixed(2)} ms`);
      return { toOld, toNew };
    });
    report.say(`Done in ${report.elapsedMs()} ms.`);
    return { lines: report.lines, duringPartition, afterHeal };
  } finally {
    await cluster.close(); // every node stopped, temp storage removed
  }
}

if (require.main === module) {
  main((line) => console.log(line)).catch((err: unknown) => {
    console.error('example failed:', err);
    process.exitCode = 1;
  });
}
