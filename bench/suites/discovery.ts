/**
 * Service discovery benchmarks (`npm run bench -- discovery`):
 * - `dns queries/s`: @weft/core's embedded DnsServer against dnsmasq, both
 *   serving the same 1,000 names (A records) and driven by the same dnsperf
 *   command, alternating rounds (bench/discovery/dns-throughput.ts). Needs
 *   Debian's `dnsperf` and `dnsmasq-base`; without them the row is reported
 *   failing with no figure.
 * - `vip vs direct`: UDP datagrams/s to a service VIP with one backend
 *   against the same traffic to that backend directly, two userspace data
 *   planes over UDP on loopback, alternating rounds
 *   (bench/discovery/vip-throughput.ts).
 */
import { cpus } from 'node:os';
import type { BenchContext, BenchRow } from '../row';
import { median, quantile, spreadOf } from '../stats';
import { Dnsmasq, DNSMASQ } from '../discovery/dnsmasq';
import { DNSPERF, dnsperfInstalled } from '../discovery/dnsperf';
import { dnsThroughput, type DnsSide } from '../discovery/dns-throughput';
import { vipThroughput } from '../discovery/vip-throughput';

/** `n` with thousands separators and `digits` decimals. */
const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** `min–max` of `xs`. */
const range = (xs: readonly number[], digits = 0): string => `${num(Math.min(...xs), digits)}–${num(Math.max(...xs), digits)}`;
const ms = (s: number): string => `${(s * 1000).toFixed(3)} ms`;
const pct = (x: number): string => `${Math.round(x * 100)}%`;
/** Largest of `xs` (a loop: `Math.max(...xs)` overflows the stack for 10⁵ values); NaN for none. */
const maxOf = (xs: readonly number[]): number => xs.reduce((m, x) => (x > m ? x : m), xs.length === 0 ? NaN : -Infinity);

/** dnsperf's load, the same for both servers. */
const DNS_LOAD = { clients: 8, threads: 1, maxOutstanding: 100, timeoutSeconds: 2 } as const;

async function dnsRow(ctx: BenchContext): Promise<BenchRow> {
  const name = 'dns queries/s';
  const target = 'ratio >= 0.5';
  const missing = [dnsperfInstalled() ? undefined : `${DNSPERF} (Debian dnsperf)`, Dnsmasq.installed() ? undefined : `${DNSMASQ} (Debian dnsmasq-base)`].filter((m) => m !== undefined);
  if (missing.length > 0) {
    ctx.log(`dns: skipped, not installed: ${missing.join(', ')}`);
    return { name, value: NaN, unit: 'queries/s', baselineName: 'dnsmasq', target, pass: false, note: `not measured: ${missing.join(' and ')} not installed (apt-get install dnsperf dnsmasq-base)` };
  }
  const pairs = 5;
  const seconds = Math.max(1, Math.round(4 * ctx.scale));
  const latencyPairs = 3;
  const latencySeconds = Math.max(1, Math.round(3 * ctx.scale));
  const copies = 10;
  ctx.log(`dns: ${pairs} pairs of ${seconds} s throughput rounds, then ${latencyPairs} pairs of ${latencySeconds} s latency rounds`);
  const r = await dnsThroughput({ pairs, seconds, latencyPairs, latencySeconds, latencyLoad: 0.5, copies, load: DNS_LOAD, log: ctx.log });
  const side = (label: string, s: DnsSide): string => {
    const rc = Object.entries(s.rcodes)
      .map(([k, v]) => `${k} ${num(v)}`)
      .join(', ');
    return (
      `${label}: ${range(s.qps)}/s, server CPU ${median(s.cpuUs).toFixed(1)} µs per answered query (median; server busy ${pct(median(s.busy))} of a core), dnsperf's average latency at saturation ${ms(median(s.satLatencyAvg))}; ` +
      `${num(s.sent)} sent, ${num(s.lost)} lost (${((100 * s.lost) / s.sent).toFixed(3)}%), rcodes ${rc}; response ${s.responseBytes} bytes; ` +
      `at ${num(r.latencyRate)}/s: p50 ${ms(quantile(s.latencies, 0.5))}, p99 ${ms(quantile(s.latencies, 0.99))}, max ${ms(maxOf(s.latencies))} over ${num(s.latencies.length)} answered queries, ${num(s.latencyLost)} lost`
    );
  };
  return {
    name,
    value: median(r.weft.qps),
    unit: 'queries/s',
    baseline: median(r.dnsmasq.qps),
    baselineName: 'dnsmasq 2.90, same names, same dnsperf load',
    ratio: median(r.ratios),
    spread: spreadOf(r.ratios, 'ratio'),
    target,
    note:
      `Weft: DnsServer of @weft/core in a node child process of its own (bench/discovery/dns-server-child.ts), answering from dnsScopeOf over a network record and 1,000 endpoint records (ep-0000…ep-0999 → 10.20.0.2…), no upstreams, TTL 0, one listener on 127.0.0.1; ` +
      `baseline: dnsmasq (${r.dnsmasqFlags}) with the same 1,000 names as a hosts file; ` +
      `load: dnsperf 2.10 \`${r.dnsperfFlags}\` against each (UDP, ${DNS_LOAD.maxOutstanding} queries outstanding at most; query file: the 1,000 names type A ×${copies}, shuffled with a fixed seed); three processes (dnsperf, the server under load, the idle other server) on ${cpus().length} cores, the bench process waiting; ` +
      `before measuring, ${r.verified} sampled names resolved (node:dns Resolver) to the same single address on both; ` +
      `${pairs} alternating pairs of ${seconds} s rounds after an uncounted warm-up pair; value and baseline = medians, ratio = median of per-pair ratios; ` +
      `${side('Weft', r.weft)}; ${side('dnsmasq', r.dnsmasq)}; ` +
      `the Weft server counted ${num(r.weftCounted.queries)} queries received and ${num(r.weftCounted.answeredLocal)} answered in the throughput rounds; ` +
      `latency figures come from ${latencyPairs} alternating pairs of ${latencySeconds} s rounds at a fixed rate (-Q ${num(r.latencyRate)}, half the slower server's median, same for both) with dnsperf -v (one line per query: dnsperf 2.10 reports only average/min/max/stddev itself), p50/p99 nearest rank over all their queries; ` +
      `server CPU is utime+stime from /proc over each dnsperf run, busy = that over dnsperf's run time; Weft's answers are 7 bytes longer (no name compression)`,
  };
}

async function vipRow(ctx: BenchContext): Promise<BenchRow> {
  const pairs = 6;
  const windowMs = Math.max(300, Math.round(1000 * ctx.scale));
  const o = { pairs, warmMs: 200, windowMs, window: 64, batch: 16 };
  ctx.log(`vip vs direct: ${pairs} pairs of ${windowMs} ms rounds`);
  const r = await vipThroughput({ ...o, log: ctx.log });
  const mb = (pps: number): string => ((pps * r.datagramBytes) / 1e6).toFixed(1);
  const through = r.sent.vip > 0 ? r.rewrittenOut.vip / r.sent.vip : NaN;
  const balanced = Math.abs(through - 1) <= 0.01 && r.rewrittenOut.direct === 0;
  return {
    name: 'vip vs direct',
    value: median(r.vip),
    unit: 'datagrams/s',
    baseline: median(r.direct),
    baselineName: 'same traffic to the backend address',
    ratio: median(r.ratios),
    spread: spreadOf(r.ratios, 'ratio'),
    target: 'ratio >= 0.8',
    ...(balanced ? {} : { pass: false }),
    note:
      `2 UserspaceDataPlanes in ONE process (sender's and receiver's planes share one thread), default UDP underlay on ${r.underlay.a} and ${r.underlay.b}; network ${r.network.subnet} (VNI ${r.network.vni}, MTU ${r.network.mtu}); client endpoint ${'10.40.0.2'} on A, backend endpoint 10.40.0.3 on B; ` +
      `VIP ${r.vipAddress} with that one backend (up), set on both planes; ${r.datagramBytes}-byte UDP datagrams from a fresh client socket per round to VIP:9000 or 10.40.0.3:9000, received by the same socket bound on the backend; ` +
      `same loop both modes (bench/core/udp-round.ts, the loop of core encrypted vs plaintext): batches of ${o.batch} per setImmediate, at most ${o.window} unacknowledged (the receiver's count, read in-process), ${o.warmMs} ms warm-up then ${windowMs} ms counted at the receiving socket; ` +
      `${pairs} alternating pairs after a warm-up pair; value and baseline = medians (${mb(median(r.vip))} vs ${mb(median(r.direct))} MB/s of payload), ratio = median of per-pair ratios; process CPU (both planes) per delivered datagram, median: vip ${median(r.cpuUs.vip).toFixed(1)} µs, direct ${median(r.cpuUs.direct).toFixed(1)} µs; ` +
      `vip ${range(r.vip)}/s, direct ${range(r.direct)}/s; written off as lost: ${r.lost.vip} vip, ${r.lost.direct} direct; ` +
      `through the balancer: A's lb.rewrittenOut rose by ${num(r.rewrittenOut.vip)} for ${num(r.sent.vip)} datagrams sent in the VIP rounds (${(through * 100).toFixed(2)}%; ${r.newFlows} new flows) and by ${num(r.rewrittenOut.direct)} in the direct rounds${balanced ? '' : ' — NOT as expected, so the row is marked failing'}`,
  };
}

export default async function discovery(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(await dnsRow(ctx));
  rows.push(await vipRow(ctx));
  return rows;
}
