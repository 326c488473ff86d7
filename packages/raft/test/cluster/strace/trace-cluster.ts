/**
 * Runs a 3-process cluster (bench/raft/process-cluster.ts) with strace
 * attached to every node, sends `puts` marked puts to the leader from one
 * client (`concurrency` in flight), and returns the durability checks of
 * ./durability-checks.ts. Everything it starts is stopped and every temp
 * file removed before it returns or throws.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient } from '../../../../../bench/raft/kv-client';
import { ProcessCluster } from '../../../../../bench/raft/process-cluster';
import { checkFollowerAppends, checkLeaderAcks, markerIndexes, sentRaftMessages, type AckedPut, type CheckResult, type NodeTrace } from './durability-checks';
import { parseStrace } from './strace-log';
import { StraceSession } from './strace-session';

export interface TraceClusterOptions {
  puts: number;
  concurrency: number;
  /** UNSAFE: run the nodes with LevelDB `sync: false` (the negative control). */
  unsafeNoSync?: boolean;
}

export interface TraceClusterResult {
  leaderId: string;
  acked: number;
  leader: CheckResult;
  /** One result per follower. */
  followers: Record<string, CheckResult>;
  /** Markers some follower's append responses covered (checked on at least one follower). */
  coveredByFollowers: number;
}

export async function traceCluster(o: TraceClusterOptions): Promise<TraceClusterResult> {
  const dir = mkdtempSync(join(tmpdir(), `weft-durability-${process.pid}-`));
  const cluster = new ProcessCluster({ electionTimeoutMs: 1000, heartbeatIntervalMs: 100, unsafeNoSync: o.unsafeNoSync ?? false });
  const sessions = new Map<string, StraceSession>();
  let client: KvClient | undefined;
  try {
    await cluster.start();
    const leaderId = await cluster.waitForLeader();
    for (const id of cluster.ids) sessions.set(id, await StraceSession.attach(cluster.pid(id)!, join(dir, `${id}.trace`)));
    client = await KvClient.connect(cluster.clientAddress(leaderId));
    const c = client;
    const acked: AckedPut[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.puts) {
          const n = next++;
          const marker = `DURABLE#${String(n).padStart(4, '0')}#`;
          const res = await c.request({ op: 'put', key: `durable/${n}`, value: `${marker}value` }, 20_000);
          if (!res.ok) throw new Error(`put ${n}: ${res.error}: ${res.message}`);
          acked.push({ requestId: res.id, marker });
        }
      }),
    );
    // One more round of heartbeats so the followers' last responses are in the trace.
    await new Promise((r) => setTimeout(r, 300));
    const traces = new Map<string, NodeTrace>();
    for (const id of cluster.ids) {
      const text = await sessions.get(id)!.stop();
      sessions.delete(id);
      traces.set(id, { id, events: parseStrace(text), dataDir: cluster.dataDir(id), clientPort: cluster.ports(id).clientPort });
    }
    const raftPorts = new Set(cluster.ids.map((id) => cluster.ports(id).raftPort));
    const leader = traces.get(leaderId)!;
    const leaderResult = checkLeaderAcks(leader, c.localPort, acked);
    const indexOf = markerIndexes(sentRaftMessages(leader, raftPorts), acked.map((a) => a.marker));
    const followers: Record<string, CheckResult> = {};
    const covered = new Set<string>();
    for (const id of cluster.ids) {
      if (id === leaderId) continue;
      const r = checkFollowerAppends(traces.get(id)!, sentRaftMessages(traces.get(id)!, raftPorts), indexOf);
      for (const m of r.covered) covered.add(m);
      followers[id] = { checked: r.checked, violations: r.violations };
    }
    return { leaderId, acked: acked.length, leader: leaderResult, followers, coveredByFollowers: covered.size };
  } finally {
    client?.close();
    for (const s of sessions.values()) await s.stop().catch(() => '');
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
