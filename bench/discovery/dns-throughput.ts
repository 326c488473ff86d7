/**
 * Row `dns queries/s`: Weft's embedded DnsServer against dnsmasq, both
 * driven by the same dnsperf command (only the port differs) over the same
 * 1,000 names, on the same machine in the same run.
 *
 * Process layout: dnsperf, dnsmasq and the Weft server (a node child
 * process, bench/discovery/dns-server-child.ts) are three processes; the
 * bench process only starts them and waits, so neither server shares a
 * thread with the load generator or with the other. Only one server is
 * loaded at a time (the other idles).
 *
 * Two kinds of rounds, each alternating which server goes first:
 * - throughput: dnsperf as fast as answers come, with `maxOutstanding`
 *   queries in flight; queries/s, lost queries, dnsperf's average latency
 *   (at saturation), and the server's CPU time (/proc) per answered query;
 * - latency: dnsperf at a fixed rate (`-Q`, the same for both, below both
 *   servers' capacity) with `-v`, which prints each query's latency: p50 and
 *   p99 over every query of those rounds (dnsperf 2.10 itself reports only
 *   average, min, max and standard deviation).
 */
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SocketAddress } from '@weft/interface';
import { processCpuSeconds } from '../proc-cpu';
import { median } from '../stats';
import { Dnsmasq, dnsmasqArgs } from './dnsmasq';
import { dnsperfArgs, runDnsperf, type DnsperfLoad, type DnsperfReport } from './dnsperf';
import { hostsFile, ipOf, NAME_COUNT, nameOf, queryFile } from './names';
import { WeftDnsProcess } from './weft-dns-process';

export type DnsServerName = 'weft' | 'dnsmasq';

/** The load, the same for both servers. */
export interface DnsLoad {
  readonly clients: number;
  readonly threads: number;
  readonly maxOutstanding: number;
  readonly timeoutSeconds: number;
}

export interface DnsBenchOptions {
  /** Throughput pairs (counted), after one uncounted warm-up pair. */
  readonly pairs: number;
  /** Seconds per throughput round (`-l`). */
  readonly seconds: number;
  /** Latency pairs. */
  readonly latencyPairs: number;
  /** Seconds per latency round. */
  readonly latencySeconds: number;
  /** Fraction of the slower server's median queries/s the latency rounds are paced at (`-Q`). */
  readonly latencyLoad: number;
  /** Copies of the 1,000 names in the query file. */
  readonly copies: number;
  readonly load: DnsLoad;
  readonly log: (m: string) => void;
}

/** One server's figures over the counted rounds. */
export interface DnsSide {
  /** Queries/s per throughput round. */
  readonly qps: number[];
  /** Server process CPU (user + system, all threads) per answered query, µs, per throughput round. */
  readonly cpuUs: number[];
  /** Server process CPU seconds per second of the round (1 = one core busy), per throughput round. */
  readonly busy: number[];
  /** dnsperf's average latency per throughput round (at saturation), s. */
  readonly satLatencyAvg: number[];
  /** Sums over the throughput rounds. */
  sent: number;
  completed: number;
  lost: number;
  /** Response codes over the throughput rounds. */
  readonly rcodes: Record<string, number>;
  /** Average response size dnsperf saw, bytes. */
  responseBytes: number;
  /** Every answered query's latency in the latency rounds, s. */
  readonly latencies: number[];
  /** Sums over the latency rounds. */
  latencySent: number;
  latencyLost: number;
  /** Achieved queries/s of each latency round. */
  readonly latencyQps: number[];
}

export interface DnsBenchResult {
  readonly weft: DnsSide;
  readonly dnsmasq: DnsSide;
  /** weft / dnsmasq queries/s per throughput pair. */
  readonly ratios: number[];
  /** The `-Q` of the latency rounds. */
  readonly latencyRate: number;
  /** Names checked to resolve to the same address on both before measuring. */
  readonly verified: number;
  /** The Weft server's own counters over the counted throughput rounds: received, answered from the scope. */
  readonly weftCounted: { queries: number; answeredLocal: number };
  /** dnsperf's command line of a throughput round (server and port elided) and dnsmasq's. */
  readonly dnsperfFlags: string;
  readonly dnsmasqFlags: string;
}

function emptySide(): DnsSide {
  return { qps: [], cpuUs: [], busy: [], satLatencyAvg: [], sent: 0, completed: 0, lost: 0, rcodes: {}, responseBytes: 0, latencies: [], latencySent: 0, latencyLost: 0, latencyQps: [] };
}

/** `resolve4(name)` at `at`, one try of 1 s; undefined on any failure. */
async function ask(at: SocketAddress, name: string): Promise<string[] | undefined> {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([`${at.host}:${at.port}`]);
  try {
    return await r.resolve4(name);
  } catch {
    return undefined;
  } finally {
    r.cancel();
  }
}

/** Asks both servers every `step`-th name; throws at the first that either does not answer with exactly its address. */
async function verify(servers: Record<DnsServerName, SocketAddress>, step: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < NAME_COUNT; i += step) {
    const want = ipOf(i);
    for (const [who, at] of Object.entries(servers)) {
      const got = await ask(at, nameOf(i));
      if (got?.length !== 1 || got[0] !== want) throw new Error(`setup: ${who} answers ${nameOf(i)} with ${JSON.stringify(got)}, expected [${want}]`);
    }
    n++;
  }
  return n;
}

const flagsOf = (load: DnsperfLoad): string =>
  dnsperfArgs({ host: '127.0.0.1', port: 0 }, load)
    .join(' ')
    .replace(/-s \S+ -p \S+ /, '')
    .replace(/-d \S+/, '-d <queries>');

const pct = (x: number): string => `${Math.round(x * 100)}%`;

export async function dnsThroughput(o: DnsBenchOptions): Promise<DnsBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-dns-'));
  let weft: WeftDnsProcess | undefined;
  let dnsmasq: Dnsmasq | undefined;
  try {
    const hosts = join(dir, 'hosts');
    const queries = join(dir, 'queries');
    writeFileSync(hosts, hostsFile());
    writeFileSync(queries, queryFile(o.copies));
    weft = await WeftDnsProcess.start();
    dnsmasq = await Dnsmasq.start(hosts, async (at) => (await ask(at, nameOf(0))) !== undefined);
    const servers: Record<DnsServerName, { address: SocketAddress; pid: number }> = { weft, dnsmasq };
    const verified = await verify({ weft: weft.address, dnsmasq: dnsmasq.address }, 10);
    o.log(`dns: both servers answer ${verified} sampled names with the same address (weft ${weft.address.port}, dnsmasq ${dnsmasq.address.port})`);

    const satLoad: DnsperfLoad = { dataFile: queries, ...o.load, seconds: o.seconds };
    const sides: Record<DnsServerName, DnsSide> = { weft: emptySide(), dnsmasq: emptySide() };
    const round = async (who: DnsServerName, load: DnsperfLoad): Promise<{ r: DnsperfReport; cpuUs: number; busy: number }> => {
      const pid = servers[who].pid;
      const cpu0 = processCpuSeconds(pid);
      const r = await runDnsperf(servers[who].address, load);
      const cpu = processCpuSeconds(pid) - cpu0;
      return { r, cpuUs: (cpu * 1e6) / r.completed, busy: cpu / r.runSeconds };
    };
    // Warm-up pair (not counted): JIT, socket buffers, page cache.
    for (const who of ['weft', 'dnsmasq'] as const) await round(who, { ...satLoad, seconds: Math.min(2, o.seconds) });

    const ratios: number[] = [];
    const before = await weft.counters();
    for (let i = 0; i < o.pairs; i++) {
      const order: DnsServerName[] = i % 2 === 0 ? ['weft', 'dnsmasq'] : ['dnsmasq', 'weft'];
      const got: Partial<Record<DnsServerName, number>> = {};
      for (const who of order) {
        const { r, cpuUs, busy } = await round(who, satLoad);
        const s = sides[who];
        s.qps.push(r.qps);
        s.cpuUs.push(cpuUs);
        s.busy.push(busy);
        s.satLatencyAvg.push(r.latencyAvg);
        s.sent += r.sent;
        s.completed += r.completed;
        s.lost += r.lost;
        for (const [k, v] of Object.entries(r.rcodes)) s.rcodes[k] = (s.rcodes[k] ?? 0) + v;
        s.responseBytes = r.responseBytes;
        got[who] = r.qps;
      }
      ratios.push(got.weft! / got.dnsmasq!);
      o.log(
        `dns pair ${i + 1}/${o.pairs}: weft ${Math.round(got.weft!)}/s (${sides.weft.cpuUs.at(-1)!.toFixed(1)} µs CPU/query, busy ${pct(sides.weft.busy.at(-1)!)}), dnsmasq ${Math.round(got.dnsmasq!)}/s (${sides.dnsmasq.cpuUs.at(-1)!.toFixed(1)} µs CPU/query, busy ${pct(sides.dnsmasq.busy.at(-1)!)}), ratio ${ratios.at(-1)!.toFixed(3)}`,
      );
    }
    const after = await weft.counters();

    const latencyRate = Math.max(1000, Math.floor((o.latencyLoad * Math.min(median(sides.weft.qps), median(sides.dnsmasq.qps))) / 1000) * 1000);
    const latLoad: DnsperfLoad = { ...satLoad, seconds: o.latencySeconds, maxQps: latencyRate, perQuery: true };
    o.log(`dns latency: ${o.latencyPairs} pairs of ${o.latencySeconds} s at -Q ${latencyRate}`);
    for (let i = 0; i < o.latencyPairs; i++) {
      const order: DnsServerName[] = i % 2 === 0 ? ['weft', 'dnsmasq'] : ['dnsmasq', 'weft'];
      for (const who of order) {
        const { r } = await round(who, latLoad);
        const s = sides[who];
        for (const l of r.latencies ?? []) s.latencies.push(l);
        s.latencySent += r.sent;
        s.latencyLost += r.lost;
        s.latencyQps.push(r.qps);
      }
    }
    return {
      weft: sides.weft,
      dnsmasq: sides.dnsmasq,
      ratios,
      latencyRate,
      verified,
      weftCounted: { queries: after.queries! - before.queries!, answeredLocal: after.answeredLocal! - before.answeredLocal! },
      dnsperfFlags: flagsOf(satLoad),
      dnsmasqFlags: dnsmasqArgs(0, '<hosts>').join(' ').replace('--port=0', '--port=<free port>'),
    };
  } finally {
    await Promise.allSettled([weft?.stop(), dnsmasq?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
