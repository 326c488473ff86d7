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
 * (b') the same load with mutual TLS on both sides (a second cluster of each,
 *     certificates made in the run, every key ECDSA P-256; ./raft/bench-tls.ts):
 *     each side's puts/s with TLS ÷ plain, and ours ÷ etcd's of that ratio
 *     (the cost of TLS for us against the cost for etcd). The four loads run
 *     in every round, their order reversed every other round;
 * (c) failover: ms from kill -9 of the leader to the next acknowledged put,
 *     over at least 10 failovers.
 */
import type { ConnectionOptions } from 'node:tls';
import type { BenchContext, BenchRow } from '../row';
import { median, quantile, spreadOf } from '../stats';
import { inProcessCommitsPerSecond } from '../raft/in-process';
import { describeTls, etcdBenchTls, ourBenchTls, tlsInfoOf, tlsProbe, type TlsInfo } from '../raft/bench-tls';
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
async function etcdLeader(ec: EtcdCluster, tls?: ConnectionOptions): Promise<string> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    for (const url of ec.clientUrls) {
      let c: EtcdClient | undefined;
      try {
        c = await EtcdClient.connect(url, 1000, tls);
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

  const ids = ['n1', 'n2', 'n3'];
  const [ourCreds, etcdCreds] = await Promise.all([ourBenchTls(ids), etcdBenchTls(ids.length)]);
  const cluster = new ProcessCluster({ ids, electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatIntervalMs: 100 });
  const tlsCluster = new ProcessCluster({
    ids,
    electionTimeoutMs: ELECTION_TIMEOUT_MS,
    heartbeatIntervalMs: 100,
    tls: { caPem: ourCreds.caPem, nodes: ourCreds.nodes, client: ourCreds.clientOptions },
  });
  const etcdBin = findEtcd();
  const ec = etcdBin ? new EtcdCluster(etcdBin) : undefined;
  const ecTls = etcdBin ? new EtcdCluster(etcdBin, etcdCreds) : undefined;
  const ours: LoadRound[] = [];
  const theirs: LoadRound[] = [];
  const oursTls: LoadRound[] = [];
  const theirsTls: LoadRound[] = [];
  const negotiated: Record<string, TlsInfo> = {};
  let failoverMs: number[] = [];
  try {
    await Promise.all([cluster.start(), tlsCluster.start()]);
    const leader = await cluster.waitForLeader();
    const tlsLeader = await tlsCluster.waitForLeader();
    const kv = await KvClient.connect(cluster.clientAddress(leader));
    let kvTls: KvClient | undefined;
    let etcd: EtcdPutClient | undefined;
    let etcdTls: EtcdPutClient | undefined;
    try {
      kvTls = await KvClient.connect(tlsCluster.clientAddress(tlsLeader), 2000, tlsCluster.clientTls);
      const kvOf = (c: KvClient) => async (key: string): Promise<void> => {
        const res = await c.request({ op: 'put', key, value: VALUE });
        if (!res.ok) throw new Error(`put ${key}: ${res.error}: ${res.message}`);
      };
      const round = (label: string, out: LoadRound[], put: (key: string) => Promise<void>, pids: () => number[]) => async (): Promise<void> => {
        const r = await putRound(put, { ...load, serverPids: pids() });
        out.push(r);
        ctx.log(`${label}: ${Math.round(r.putsPerSecond)} puts/s, server ${us(r, r.serverCpuSeconds).toFixed(0)} µs CPU/put, client ${us(r, r.clientCpuSeconds).toFixed(0)} µs CPU/put`);
      };
      const sides = [round('ours', ours, kvOf(kv), () => cluster.pids()), round('ours TLS', oursTls, kvOf(kvTls), () => tlsCluster.pids())];
      if (ec && ecTls) {
        await Promise.all([ec.start(), ecTls.start()]);
        etcd = await EtcdPutClient.connect(await etcdLeader(ec));
        etcdTls = await EtcdPutClient.connect(await etcdLeader(ecTls, etcdCreds.clientOptions), 5000, etcdCreds.clientOptions);
        const e = etcd;
        const et = etcdTls;
        sides.push(round('etcd', theirs, async (key) => void (await e.put(key, VALUE)), () => ec.pids()));
        sides.push(round('etcd TLS', theirsTls, async (key) => void (await et.put(key, VALUE)), () => ecTls.pids()));
      }
      // What was negotiated: the benchmark clients' own connections, and a probe of a Raft / peer port.
      negotiated['ours client port'] = tlsInfoOf(kvTls.tlsSocket!);
      // A worker certificate: the handshake completes (TLS 1.3), then the transport refuses the role; nothing reaches Raft.
      negotiated['ours Raft port'] = await tlsProbe(tlsCluster.ports(tlsLeader).raftPort, ourCreds.clientOptions);
      if (etcdTls && ecTls) {
        negotiated['etcd client port'] = tlsInfoOf(etcdTls.tlsSocket!);
        negotiated['etcd peer port'] = await tlsProbe(Number(new URL(ecTls.peerUrls[0]!).port), { ca: etcdCreds.caPem, cert: etcdCreds.members[1]!.certPem, key: etcdCreds.members[1]!.keyPem });
      }
      for (const [where, info] of Object.entries(negotiated)) ctx.log(`TLS ${where}: ${describeTls(info)}`);
      for (let i = 0; i < rounds; i++) {
        for (const side of i % 2 === 0 ? sides : [...sides].reverse()) await side();
      }
      // The writes really landed: read one key back from each store.
      for (const [name, c] of [
        ['our cluster', kv],
        ['our TLS cluster', kvTls],
      ] as const) {
        const got = await c.request({ op: 'get', key: 'bench/0/0' });
        if (!got.ok || got.value !== VALUE) throw new Error(`${name} does not hold bench/0/0: ${JSON.stringify(got).slice(0, 200)}`);
      }
      if (ec && ecTls) {
        // Through the independent node:http2 client, from another member: the hand-rolled client's puts landed.
        for (const [e, tls] of [
          [ec, undefined],
          [ecTls, etcdCreds.clientOptions],
        ] as const) {
          const check = await EtcdClient.connect(e.clientUrls[0]!, 5000, tls);
          try {
            const v = await check.get('bench/0/0');
            if (v === undefined || Buffer.from(v).toString() !== VALUE) throw new Error(`etcd${tls ? ' (TLS)' : ''} does not hold bench/0/0 after the load`);
          } finally {
            check.close();
          }
        }
      }
    } finally {
      kv.close();
      kvTls?.close();
      etcd?.close();
      etcdTls?.close();
      await ec?.destroy();
      await ecTls?.destroy();
      await tlsCluster.destroy();
    }
    failoverMs = await failoverSamples(cluster, failovers, VALUE, ctx.log);
  } finally {
    await tlsCluster.destroy();
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
    `a key is read back from each store after the load (etcd's through node:http2, bench/raft/etcd-client.ts). ${rounds} rounds per side, alternating, ${warmupMs} ms warm-up + ${windowMs} ms window each; both clusters stay up (the idle one only heartbeats), and so do the two TLS clusters of the rows below, measured in the same rounds`;
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
  const bothTls = both && theirsTls.length === theirs.length && oursTls.length === ours.length;
  const oursTlsTput = oursTls.map((r) => r.putsPerSecond);
  const etcdTlsTput = theirsTls.map((r) => r.putsPerSecond);
  const oursCost = oursTlsTput.map((v, i) => v / tput[i]!);
  const etcdCost = etcdTlsTput.map((v, i) => v / etcdTput[i]!);
  const costRatios = oursCost.map((v, i) => v / etcdCost[i]!);
  const tlsVsTls = oursTlsTput.map((v, i) => v / etcdTlsTput[i]!);
  const cpuMed = (rs: LoadRound[]): string => median(rs.map((r) => us(r, r.serverCpuSeconds))).toFixed(0);
  const tlsWhat = (where: string[]): string => where.filter((w) => negotiated[w]).map((w) => `${w} ${describeTls(negotiated[w]!)}`).join('; ');
  const tlsSetup =
    `mutual TLS, every key ECDSA P-256 made in the run (bench/raft/bench-tls.ts). Ours: a ClusterCa, a manager certificate per node (generateNodeKey → createCsr → ca.issue), Raft over TcpTransport tls = transportTlsFor(role manager), the client port over tlsOptionsFor (TLS 1.3 only, client certificate required), the client with a worker certificate; ` +
    `etcd: its own bench CA, one certificate per member (serverAuth + clientAuth, IP SAN 127.0.0.1) for https client and peer URLs with --client-cert-auth and --peer-client-cert-auth, the same hand-written client over node:tls (ALPN h2) with a client certificate. ` +
    `Negotiated: ${tlsWhat(['ours client port', 'ours Raft port', 'etcd client port', 'etcd peer port'])} (the Raft and peer ports read by a probe from Node; etcd's members talk Go to Go)`;
  const tlsRounds = `${rounds} rounds, each running ours plain, ours TLS, etcd plain, etcd TLS (order reversed every other round), ${warmupMs} ms warm-up + ${windowMs} ms window each, all four clusters up throughout (idle ones only heartbeat); same load, client shape and concurrency as the plain rows`;
  const noEtcdTls = '; etcd not installed: no baseline';
  rows.push({
    name: 'raft tcp+leveldb with TLS vs plain',
    value: median(oursTlsTput),
    unit: 'puts/s',
    baseline: median(tput),
    baselineName: 'ours, plain TCP',
    ratio: median(oursCost),
    spread: spreadOf(oursCost, 'ratio'),
    note: `${tlsSetup}; ${tlsRounds}; ratio = median of per-round (TLS ÷ plain); server CPU per put (median): ${cpuMed(oursTls)} µs with TLS, ${cpuMed(ours)} µs plain`,
  });
  rows.push({
    name: 'etcd with TLS vs plain',
    value: bothTls ? median(etcdTlsTput) : NaN,
    unit: 'puts/s',
    ...(bothTls ? { baseline: median(etcdTput), baselineName: 'etcd 3.4, plain http', ratio: median(etcdCost), spread: spreadOf(etcdCost, 'ratio') } : {}),
    note: `etcd 3.4, 3 members, https client and peer URLs with client-certificate authentication on both; same rounds as the row above; ratio = median of per-round (TLS ÷ plain)${bothTls ? `; server CPU per put (median): ${cpuMed(theirsTls)} µs with TLS, ${cpuMed(theirs)} µs plain` : noEtcdTls}`,
  });
  rows.push({
    name: 'raft tcp+leveldb vs etcd, cost of TLS',
    value: median(oursCost),
    unit: '× plain puts/s',
    ...(bothTls ? { baseline: median(etcdCost), baselineName: "etcd's TLS ÷ plain", ratio: median(costRatios), spread: spreadOf(costRatios, 'ratio') } : {}),
    target: 'ratio >= 0.9',
    note: `value = our puts/s with TLS ÷ plain, baseline = etcd's; ratio = median over rounds of (ours TLS ÷ ours plain) ÷ (etcd TLS ÷ etcd plain), each round's four figures measured back to back; the target (issue 11): what TLS leaves of our rate is at least 0.9 of what it leaves of etcd's${bothTls ? '' : noEtcdTls}`,
  });
  rows.push({
    name: 'raft tcp+leveldb vs etcd, both TLS',
    value: median(oursTlsTput),
    unit: 'puts/s',
    ...(bothTls ? { baseline: median(etcdTlsTput), baselineName: 'etcd 3.4, 3 members, TLS', ratio: median(tlsVsTls), spread: spreadOf(tlsVsTls, 'ratio') } : {}),
    note: `the rows above side by side: ours with TLS ÷ etcd with TLS per round, median${bothTls ? '' : noEtcdTls}`,
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
