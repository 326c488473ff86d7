/**
 * Failover samples for the raft benchmark: repeatedly kill -9 the leader of a
 * running ProcessCluster and time how long until a put is acknowledged again.
 */
import { LeaderClient, type ProcessCluster } from './process-cluster';

/**
 * Runs `count` failovers. Each: wait until the three nodes agree on a leader;
 * one client (LeaderClient) puts once through it, so it knows the leader;
 * kill -9 the leader; from the kill, the same client retries one put until it
 * is acknowledged (a refused connection or NotLeaderError moves it to the
 * hinted leader or the next node, 20 ms between attempts; no other load runs);
 * then the killed node is restarted on its data directory before the next
 * sample. Returns ms from the kill to the acknowledgement, one per failover.
 */
export async function failoverSamples(cluster: ProcessCluster, count: number, value: string, log: (m: string) => void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const leader = await cluster.waitForLeader();
    const client = new LeaderClient(cluster);
    try {
      await client.call({ op: 'put', key: `failover/${i}/before`, value });
      const t0 = process.hrtime.bigint();
      await cluster.kill(leader);
      await client.call({ op: 'put', key: `failover/${i}/after`, value }, 60_000);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      samples.push(ms);
      log(`failover ${i + 1}/${count}: ${Math.round(ms)} ms (killed ${leader})`);
    } finally {
      client.close();
    }
    await cluster.startNode(leader);
  }
  return samples;
}
