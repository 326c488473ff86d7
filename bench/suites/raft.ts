/**
 * @weft/raft benchmarks:
 * (a) 3 RaftNodes in one process, memory transport and stores: committed
 *     proposals/s at 1, 64 and 256 concurrent proposers, with messages passed
 *     by reference and with the binary codec on every message;
 * (b) 3 processes over TCP with LevelDB (fsync on) against a 3-member etcd 3.4
 *     on loopback, both driven by equally light clients (bench/raft/kv-client.ts
 *     and bench/raft/etcd-put-client.ts): 64 loops sharing one connection to the
 *     leader, 256-byte values, alternating rounds; puts/s, and server CPU per
 *     acknowledged put from /proc;
 * (c) failover: ms from kill -9 of the leader to the next acknowledged put,
 *     over at least 10 failovers.
 */
import type { BenchContext, BenchRow } from '../row';
import { median, quantile, spreadOf } from '../stats';
import { inProcessCommitsPerSecond } from '../raft/in-process';
import { EtcdCluster, findEtcd } from '../raft/etcd-cluster';
import { EtcdClient } from '../raft/etcd-client';
import { EtcdPutClient } from '../raft/etcd-put-client';
import { failoverSamples } from '../raft/failover';
import { KvClient } from '../raft/kv-client';
import { ProcessCluster } from '../raft/process-cluster';
import { putRound, type LoadRound } from '../raft/put-load';

const LOOPS = 64;
const VALUE = 'x'.repeat(256);
const ELECTION_TIMEOUT_MS = 1000;

const us = (r: LoadRound, cpu: number): number => (cpu / r.puts) * 1e6;

async function inProcessRows(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const durationMs = Math.max(300, Math.round(1500 * ctx.scale));
  const rounds = Math.max(1, Math.round(3 * ctx.scale));
  for (const proposers of [1, 64, 256]) {
    const byRef: number[] = [];
    const codec: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const serialize of order) (serialize ? codec : byRef).push(await inProcessCommitsPerSecond(proposers, durationMs, serialize));
      ratios.push(codec[r]! / byRef[r]!);
    }
    ctx.log(`in-process ${proposers} proposers: by reference ${Math.round(median(byRef))}, binary codec ${Math.round(median(codec))} commits/s`);
    const common = `3 nodes, one process, MemoryTransportNetwork + memory stores, 16-byte commands, counter state machine, ${proposers} proposers each waiting for its commit; median of ${rounds} alternating ${durationMs} ms rounds`;
    rows.push({
      name: `raft in-process ${proposers} proposers`,
      value: median(byRef),
      unit: 'commits/s',
      ...(rounds > 1 ? { spread: spreadOf(byRef, 'value') } : {}),
      ...(proposers === 256 ? { target: '>= 100,000' } : {}),
      note: `${common}; messages passed by reference (no codec, no copies)`,
    });
    rows.push({
      name: `raft in-process ${proposers} proposers, binary codec`,
      value: median(codec),
      unit: 'commits/s',
      baseline: median(byRef),
      baselineName: 'same, messages by reference',
      ratio: median(ratios),
      ...(rounds > 1 ? { spread: spreadOf(ratios, 'ratio') } : {}),
      note: `${common}; every message encoded with the binary wire codec at send and decoded + validated at delivery (MemoryTransportNetwork serialize: true, what TcpTransport does minus the socket); ratio = what serialization leaves of the by-reference rate`,
    });
  }
  return rows;
}

/** Waits (bounded) until etcd answers a put, then returns the client URL of its leader. */
async function etcdLeader(ec: EtcdCluster): Promise<string> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    for (const url of ec.clientUrls) {
      let c: EtcdClient | undefined;
      try {
        c = await EtcdClient.connect(url, 1000);
        const st = await c.status(1000);
        if (st.leader !== 0n && st.leader === st.memberId) {
          await c.put('bench/ready', '1', 2000);
          return url;
        }
      } catch (err) {
        last = (err as Error).message;
      } finally {
        c?.close();
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd has no leader within 20 s (last error: ${last})\n${ec.log()}`);
}

export default async function raft(ctx: BenchContext): Promise<BenchRow[]> {
  const rows = await inProcessRows(ctx);

  const rounds = Math.max(3, Math.round(6 * ctx.scale));
  const windowMs = Math.max(1000, Math.round(3000 * ctx.scale));
  const warmupMs = 500;
  const load = { loops: LOOPS, warmupMs, windowMs };
  const failovers = Math.max(3, Math.round(10 * ctx.scale));

  const cluster = new ProcessCluster({ electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatIntervalMs: 100 });
  const etcdBin = findEtcd();
  const ec = etcdBin ? new EtcdCluster(etcdBin) : undefined;
  const ours: LoadRound[] = [];
  const theirs: LoadRound[] = [];
  let failoverMs: number[] = [];
  try {
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const kv = await KvClient.connect(cluster.clientAddress(leader));
    let etcd: EtcdPutClient | undefined;
    try {
      const ourPut = async (key: string): Promise<void> => {
        const res = await kv.request({ op: 'put', key, value: VALUE });
        if (!res.ok) throw new Error(`put ${key}: ${res.error}: ${res.message}`);
      };
      const ourRound = async (): Promise<void> => {
        const r = await putRound(ourPut, { ...load, serverPids: cluster.pids() });
        ours.push(r);
        ctx.log(`ours: ${Math.round(r.putsPerSecond)} puts/s, server ${us(r, r.serverCpuSeconds).toFixed(0)} µs CPU/put, client ${us(r, r.clientCpuSeconds).toFixed(0)} µs CPU/put`);
      };
      if (ec) {
        await ec.start();
        etcd = await EtcdPutClient.connect(await etcdLeader(ec));
      }
      const client = etcd;
      const etcdRound = async (): Promise<void> => {
        const r = await putRound(async (key) => void (await client!.put(key, VALUE)), { ...load, serverPids: ec!.pids() });
        theirs.push(r);
        ctx.log(`etcd: ${Math.round(r.putsPerSecond)} puts/s, server ${us(r, r.serverCpuSeconds).toFixed(0)} µs CPU/put, client ${us(r, r.clientCpuSeconds).toFixed(0)} µs CPU/put`);
      };
      for (let i = 0; i < rounds; i++) {
        if (!client) await ourRound();
        else if (i % 2 === 0) {
          await ourRound();
          await etcdRound();
        } else {
          await etcdRound();
          await ourRound();
        }
      }
      // The writes really landed: read one key back from each store.
      const mine = await kv.request({ op: 'get', key: 'bench/0/0' });
      if (!mine.ok || mine.value !== VALUE) throw new Error(`our cluster does not hold bench/0/0: ${JSON.stringify(mine).slice(0, 200)}`);
      if (ec) {
        // Through the independent node:http2 client, from another member: the hand-rolled client's puts landed.
        const check = await EtcdClient.connect(ec.clientUrls[0]!);
        try {
          const v = await check.get('bench/0/0');
          if (v === undefined || Buffer.from(v).toString() !== VALUE) throw new Error('etcd does not hold bench/0/0 after the load');
        } finally {
          check.close();
        }
      }
    } finally {
      kv.close();
      etcd?.close();
      await ec?.destroy();
    }
    failoverMs = await failoverSamples(cluster, failovers, VALUE, ctx.log);
  } finally {
    await cluster.destroy();
  }

  const both = theirs.length === ours.length && theirs.length > 0;
  const tput = ours.map((r) => r.putsPerSecond);
  const cpu = ours.map((r) => us(r, r.serverCpuSeconds));
  const etcdTput = theirs.map((r) => r.putsPerSecond);
  const etcdCpu = theirs.map((r) => us(r, r.serverCpuSeconds));
  const tputRatios = tput.map((v, i) => v / etcdTput[i]!);
  const cpuRatios = cpu.map((v, i) => v / etcdCpu[i]!);
  const clientUs = (rs: LoadRound[]): string => median(rs.map((r) => us(r, r.clientCpuSeconds))).toFixed(0);
  const sides =
    `3 server processes each side on 127.0.0.1, every write fsynced before it is acknowledged (ours: LevelDB sync batches; etcd: its WAL); ` +
    `${LOOPS} loops share ONE connection to the leader, one put each in flight (${LOOPS} in flight), 256-byte values, keys bench/<loop>/<i mod 1000>. ` +
    `Ours: bench/raft/node-process.ts, JSON lines over TCP (bench/raft/kv-client.ts). etcd 3.4 (Debian etcd-server, default settings): gRPC KV.Put, one HTTP/2 stream per put on one TCP connection, HTTP/2 frames, header block and PutRequest protobuf written by hand (bench/raft/etcd-put-client.ts); both clients coalesce the requests of one turn into one write; ` +
    `a key is read back from each store after the load (etcd's through node:http2, bench/raft/etcd-client.ts). ${rounds} rounds per side, alternating, ${warmupMs} ms warm-up + ${windowMs} ms window each; both clusters stay up (the idle one only heartbeats)`;
  const noEtcd = '; etcd not installed (no /usr/bin/etcd, Debian package etcd-server): no baseline';
  rows.push({
    name: 'raft tcp+leveldb vs etcd',
    value: median(tput),
    unit: 'puts/s',
    ...(both ? { baseline: median(etcdTput), baselineName: 'etcd 3.4, 3 members', ratio: median(tputRatios), spread: spreadOf(tputRatios, 'ratio') } : { spread: spreadOf(tput, 'value') }),
    target: 'ratio >= 1.0',
    note: `${sides}; ratio = median of per-round ratios${both ? `; client CPU per put (median): ours ${clientUs(ours)} µs, etcd's ${clientUs(theirs)} µs` : noEtcd}`,
  });
  rows.push({
    name: 'raft server CPU per put vs etcd',
    value: median(cpu),
    unit: 'µs CPU/put',
    ...(both ? { baseline: median(etcdCpu), baselineName: 'etcd 3.4, 3 members', ratio: median(cpuRatios), spread: spreadOf(cpuRatios, 'ratio') } : { spread: spreadOf(cpu, 'value') }),
    target: 'ratio <= 1.0',
    note: `user + system CPU of the three server processes (all threads, /proc/PID/stat) in each round's window ÷ puts acknowledged in it; same load as the row above; lower is better${both ? '' : noEtcd}`,
  });
  rows.push({
    name: 'raft failover',
    value: median(failoverMs),
    unit: 'ms',
    ratio: median(failoverMs) / ELECTION_TIMEOUT_MS,
    spread: spreadOf(failoverMs, 'value'),
    target: 'ratio <= 3',
    note:
      `median of ${failoverMs.length} kill -9 failovers (p90 in the next row); each: one client puts once through the leader, the leader is killed, the same client retries one put ` +
      `(following NotLeader hints, else the next node, 20 ms apart; no other load) until acknowledged; ms from the kill to that acknowledgement; the killed node is restarted before the next. ` +
      `electionTimeoutMs ${ELECTION_TIMEOUT_MS} (randomized in [1000, 2000)), heartbeat 100 ms, pre-vote + check-quorum on; ratio = median ms / electionTimeoutMs`,
  });
  rows.push({
    name: 'raft failover p90',
    value: quantile(failoverMs, 0.9),
    unit: 'ms',
    ratio: quantile(failoverMs, 0.9) / ELECTION_TIMEOUT_MS,
    note: `90th percentile (nearest rank) of the same ${failoverMs.length} failovers; ratio = ms / electionTimeoutMs`,
  });
  return rows;
}
