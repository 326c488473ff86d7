/**
 * Runs dnsperf (Debian `dnsperf` 2.x, /usr/bin/dnsperf) once and reads its
 * report. dnsperf 2.10 reports queries sent / completed / lost, response
 * codes, average packet sizes, queries per second, and the average, min, max
 * and standard deviation of latency — no percentiles; with `-v` it prints
 * one line per query (`> NOERROR ep-0001 A 0.000123`: rcode, name, type,
 * latency in seconds), from which percentiles can be computed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { SocketAddress } from '@weft/interface';

export const DNSPERF = '/usr/bin/dnsperf';

/** The load: the same for every server. */
export interface DnsperfLoad {
  /** Query file (`name TYPE` per line). */
  readonly dataFile: string;
  /** `-c`: client sockets. */
  readonly clients: number;
  /** `-T`: threads (each a sender and a receiver). */
  readonly threads: number;
  /** `-q`: most queries outstanding. */
  readonly maxOutstanding: number;
  /** `-l`: seconds to send for. */
  readonly seconds: number;
  /** `-t`: seconds a query may take before it is counted lost. */
  readonly timeoutSeconds: number;
  /** `-Q`: queries/s cap (none: as fast as answers come). */
  readonly maxQps?: number;
  /** `-v`: collect each query's latency. */
  readonly perQuery?: boolean;
}

/** What one dnsperf run reported. */
export interface DnsperfReport {
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  /** Response codes and their counts, e.g. `{ NOERROR: 1000 }`. */
  readonly rcodes: Record<string, number>;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly runSeconds: number;
  readonly qps: number;
  /** Seconds. */
  readonly latencyAvg: number;
  readonly latencyMin: number;
  readonly latencyMax: number;
  readonly latencyStdDev: number;
  /** Per-query latencies in seconds (answered queries only), with `perQuery`. */
  readonly latencies?: number[];
}

/** Whether dnsperf is installed. */
export function dnsperfInstalled(): boolean {
  return existsSync(DNSPERF);
}

/** The command-line flags for `load` against `server` (also for the row's note). */
export function dnsperfArgs(server: SocketAddress, load: DnsperfLoad): string[] {
  const args = ['-s', server.host, '-p', String(server.port), '-m', 'udp', '-d', load.dataFile];
  args.push('-c', String(load.clients), '-T', String(load.threads), '-q', String(load.maxOutstanding), '-l', String(load.seconds), '-t', String(load.timeoutSeconds));
  if (load.maxQps !== undefined) args.push('-Q', String(load.maxQps));
  if (load.perQuery) args.push('-v');
  return args;
}

function num(out: string, re: RegExp, what: string): number {
  const m = re.exec(out);
  if (!m) throw new Error(`dnsperf: no "${what}" in its report:\n${out.slice(-2000)}`);
  return Number(m[1]);
}

/** Reads dnsperf's report (stdout). @throws Error naming the first line that is missing. */
export function parseDnsperf(out: string, perQuery: boolean): DnsperfReport {
  const rcodes: Record<string, number> = {};
  const rc = /^\s*Response codes:\s*(.*)$/m.exec(out);
  if (rc) for (const m of rc[1]!.matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1]!] = Number(m[2]);
  const lat = /^\s*Average Latency \(s\):\s*([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/m.exec(out);
  if (!lat) throw new Error(`dnsperf: no "Average Latency" in its report:\n${out.slice(-2000)}`);
  let latencies: number[] | undefined;
  if (perQuery) {
    latencies = [];
    for (const m of out.matchAll(/^> (\S+) \S+ \S+ ([\d.]+)$/gm)) latencies.push(Number(m[2]));
  }
  return {
    sent: num(out, /^\s*Queries sent:\s*(\d+)/m, 'Queries sent'),
    completed: num(out, /^\s*Queries completed:\s*(\d+)/m, 'Queries completed'),
    lost: num(out, /^\s*Queries lost:\s*(\d+)/m, 'Queries lost'),
    rcodes,
    requestBytes: num(out, /^\s*Average packet size:\s*request (\d+)/m, 'Average packet size'),
    responseBytes: num(out, /^\s*Average packet size:.*response (\d+)/m, 'Average packet size'),
    runSeconds: num(out, /^\s*Run time \(s\):\s*([\d.]+)/m, 'Run time'),
    qps: num(out, /^\s*Queries per second:\s*([\d.]+)/m, 'Queries per second'),
    latencyAvg: Number(lat[1]),
    latencyMin: Number(lat[2]),
    latencyMax: Number(lat[3]),
    latencyStdDev: num(out, /^\s*Latency StdDev \(s\):\s*([\d.]+)/m, 'Latency StdDev'),
    ...(latencies ? { latencies } : {}),
  };
}

/**
 * Runs dnsperf with `load` against `server` and parses its report. Killed
 * (and rejected) when it runs 15 s past `seconds + timeoutSeconds`.
 */
export async function runDnsperf(server: SocketAddress, load: DnsperfLoad): Promise<DnsperfReport> {
  const child = spawn(DNSPERF, dnsperfArgs(server, load), { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (c: string) => out.push(c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => err.length < 100 && err.push(c));
  const boundMs = (load.seconds + load.timeoutSeconds + 15) * 1000;
  const killer = setTimeout(() => child.kill('SIGKILL'), boundMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    if (code !== 0) throw new Error(`dnsperf exited with ${String(code)}: ${err.join('').trim().slice(0, 2000)}`);
    return parseDnsperf(out.join(''), load.perQuery === true);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
