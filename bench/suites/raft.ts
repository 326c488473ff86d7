/**
 * @weft/raft benchmarks:
 * (a) 3 RaftNodes in one process, memory transport and stores: committed
 *     proposals/s at 1, 64 and 256 concurrent proposers;
 * (b) 3 processes over TCP with LevelDB (fsync on): puts/s of 256-byte values
 *     at 64 concurrent clients, against a 3-member etcd 3.4 on loopback driven
 *     by the same load through the `etcd3` client, in the same run;
 * (c) failover: ms from kill -9 of the leader to the first acknowledged write.
 */
import { Etcd3 } from 'etcd3';
import type { BenchContext, BenchRow } from '../row';
import { inProcessCommitsPerSecond } from '../raft/in-process';
import { EtcdCluster, findEtcd } from '../raft/etcd-cluster';
import { LeaderClient, ProcessCluster } from '../raft/process-cluster';

const CLIENTS = 64;
const VALUE = 'x'.repeat(256);
const ELECTION_TIMEOUT_MS = 1000;

/** Runs `clients` loops of `put` for `ms`; returns acknowledged puts per second. */
async function putLoad(put: (key: string) => Promise<void>, clients: number, ms: number): Promise<number> {
  let stop = false;
  let done = 0;
  let counting = false;
  const loops = Array.from({ length: clients }, async (_, c) => {
    let i = 0;
    while (!stop) {
      await put(`bench/${c}/${i++ % 1000}`);
      if (counting) done++;
    }
  });
  await new Promise((r) => setTimeout(r, Math.min(1000, ms / 4)));
  counting = true;
  const start = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const n = done;
  stop = true;
  await Promise.all(loops);
  return n / elapsed;
}

export default async function raft(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const durationMs = Math.round(1500 * ctx.scale);

  for (const proposers of [1, 64, 256]) {
    const v = await inProcessCommitsPerSecond(proposers, durationMs);
    ctx.log(`in-process ${proposers} proposers: ${Math.round(v)} commits/s`);
    rows.push({
      name: `raft in-process ${proposers} proposers`,
      value: v,
      unit: 'commits/s',
      target: proposers === 256 ? '>= 100,000' : undefined,
      note: '3 nodes, one process, MemoryTransportNetwork + memory stores, 16-byte commands, counter state machine',
    });
  }

  // (b) and (c): 3 processes over TCP + LevelDB.
  const loadMs = Math.round(5000 * ctx.scale);
  const cluster = new ProcessCluster({ electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatIntervalMs: 100 });
  let ours = 0;
  let failoverMs = NaN;
  try {
    await cluster.start();
    await cluster.waitForLeader();
    const client = new LeaderClient(cluster);
    try {
      ours = await putLoad(async (key) => void (await client.call({ op: 'put', key, value: VALUE })), CLIENTS, loadMs);
      ctx.log(`tcp+leveldb: ${Math.round(ours)} puts/s`);

      // (c) failover: a light writer runs; kill -9 the leader; time to the first write acknowledged after the kill.
      const leader = await cluster.waitForLeader();
      await client.call({ op: 'put', key: 'failover/warm', value: VALUE });
      const t0 = process.hrtime.bigint();
      await cluster.kill(leader);
      await client.call({ op: 'put', key: 'failover/after', value: VALUE }, 60_000);
      failoverMs = Number(process.hrtime.bigint() - t0) / 1e6;
      ctx.log(`failover: ${Math.round(failoverMs)} ms`);
    } finally {
      client.close();
    }
  } finally {
    await cluster.destroy();
  }

  const etcdBin = findEtcd();
  let etcd: number | undefined;
  let etcdNote = '';
  if (etcdBin) {
    const ec = new EtcdCluster(etcdBin);
    let client: Etcd3 | undefined;
    try {
      await ec.start();
      const any = new Etcd3({ hosts: ec.clientUrls });
      const deadline = Date.now() + 20_000;
      try {
        for (;;) {
          try {
            await any.put('bench/ready').value('1');
            break;
          } catch (err) {
            if (Date.now() > deadline) throw new Error(`etcd not ready: ${(err as Error).message}\n${ec.log()}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } finally {
        any.close();
      }
      // Drive etcd's leader directly, as our client drives ours (no follower forwarding hop).
      let leaderUrl = ec.clientUrls[0]!;
      for (const url of ec.clientUrls) {
        const probe = new Etcd3({ hosts: url });
        try {
          const st = await probe.maintenance.status();
          if (st.leader === st.header.member_id) leaderUrl = url;
        } finally {
          probe.close();
        }
      }
      client = new Etcd3({ hosts: leaderUrl });
      const c = client;
      etcd = await putLoad(async (key) => void (await c.put(key).value(VALUE)), CLIENTS, loadMs);
      ctx.log(`etcd: ${Math.round(etcd)} puts/s`);
    } finally {
      client?.close();
      await ec.destroy();
    }
  } else {
    etcdNote = '; etcd not installed (no /usr/bin/etcd): no baseline';
  }

  rows.push({
    name: 'raft tcp+leveldb vs etcd',
    value: ours,
    unit: 'puts/s',
    baseline: etcd,
    baselineName: etcd === undefined ? undefined : 'etcd 3.4, 3 members',
    ratio: etcd === undefined ? undefined : ours / etcd,
    target: 'ratio >= 1.0',
    note: `3 processes on 127.0.0.1, LevelDB fsync on, ${CLIENTS} concurrent clients, 256-byte values, ${loadMs} ms; our client: JSON lines over TCP to the leader; etcd: etcd3 gRPC client to the etcd leader${etcdNote}`,
  });
  rows.push({
    name: 'raft failover',
    value: failoverMs,
    unit: 'ms',
    ratio: failoverMs / ELECTION_TIMEOUT_MS,
    target: 'ratio <= 3',
    note: `kill -9 of the leader to the first acknowledged put; electionTimeoutMs ${ELECTION_TIMEOUT_MS} (randomized in [1000, 2000)), pre-vote + check-quorum on; ratio = ms / electionTimeoutMs`,
  });
  return rows;
}
