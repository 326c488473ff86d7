/**
 * The put load of the raft benchmark, identical for our cluster and etcd:
 * `loops` async loops share one client connection, each with one put in
 * flight at a time (so `loops` requests in flight on the connection), keys
 * `bench/<loop>/<i mod 1000>`, the same value everywhere. Counts puts
 * acknowledged in a window after a warm-up, with the CPU the server
 * processes and this (client) process spent in that window.
 */
import { cpuSeconds } from '../proc-cpu';

/** What one load round measured. */
export interface LoadRound {
  /** Acknowledged puts per second in the window. */
  putsPerSecond: number;
  /** Acknowledged puts in the window. */
  puts: number;
  /** CPU seconds of the server processes in the window (sum over processes, all threads). */
  serverCpuSeconds: number;
  /** CPU seconds of this process (the client) in the window. */
  clientCpuSeconds: number;
}

export interface LoadOptions {
  /** Concurrent loops on the one connection. */
  loops: number;
  warmupMs: number;
  windowMs: number;
  /** Server process ids, read at the start and end of the window. */
  serverPids: readonly number[];
}

/**
 * Runs the load with `put` (which must reject unless the write was
 * acknowledged) and returns the window's figures. Rejects with the first
 * failed put once every loop has stopped.
 */
export async function putRound(put: (key: string) => Promise<void>, o: LoadOptions): Promise<LoadRound> {
  let stop = false;
  let acked = 0;
  let failure: unknown;
  const loops = Array.from({ length: o.loops }, async (_, c) => {
    let i = 0;
    while (!stop) {
      try {
        await put(`bench/${c}/${i++ % 1000}`);
      } catch (err) {
        failure ??= err;
        stop = true;
        return;
      }
      acked++;
    }
  });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  await sleep(o.warmupMs);
  const a0 = acked;
  const s0 = cpuSeconds(o.serverPids);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(o.windowMs);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const puts = acked - a0;
  const serverCpuSeconds = cpuSeconds(o.serverPids) - s0;
  const c1 = process.cpuUsage(c0);
  stop = true;
  await Promise.all(loops);
  if (failure !== undefined) throw failure;
  return { putsPerSecond: puts / seconds, puts, serverCpuSeconds, clientCpuSeconds: (c1.user + c1.system) / 1e6 };
}
