/**
 * Row `core attach to reachable 3 nodes`: on a network with one endpoint on
 * each of the three managers, the time from calling `attach()` on one node
 * to the first successful ping from every other endpoint of the network to
 * the new one. Repeated (attach, measure, detach, wait until every node has
 * dropped it), rotating the attaching node.
 */
import type { Attachment } from '@weft/core';
import type { LocalCluster } from '@weft/core/testing';
import { firstPing, programmedRemoteIds } from './reachability';
import { until } from './wait';

/** A new ping every 5 ms, each waiting at most 100 ms for its reply. */
export const PING_EVERY_MS = 5;
export const PING_TIMEOUT_MS = 100;
/** An iteration whose endpoint is not reachable from everyone within this bound counts as a failure at the bound. */
export const REACH_BOUND_MS = 3000;

export interface AttachLatencyResult {
  /** ms from the attach() call to the last of the other endpoints' first successful ping, per iteration (bound on failure). */
  readonly reachMs: number[];
  /** ms from the attach() call until it resolved, per iteration. */
  readonly attachMs: number[];
  /** Iterations that hit the bound (or whose attach() failed). */
  readonly failures: number;
}

export async function attachLatency(
  cluster: LocalCluster,
  options: { iterations: number; warmup: number; log: (m: string) => void },
): Promise<AttachLatencyResult> {
  const ids = cluster.managerIds;
  const net = await cluster.node(ids[0]!).createNetwork({ name: 'bench-latency', attachable: true, subnet: '10.210.0.0/16' });
  const bases: Attachment[] = [];
  for (const id of ids) bases.push(await cluster.node(id).attach(net.name, { name: `base-${id}` }));
  const ping = { everyMs: PING_EVERY_MS, pingTimeoutMs: PING_TIMEOUT_MS };
  // Every base reaches every other: the network is programmed everywhere and ARP caches are warm.
  for (const a of bases) {
    for (const b of bases) {
      if (a !== b && (await firstPing(a.endpoint, b.ip, { ...ping, boundMs: 10_000 })) === undefined) throw new Error(`setup: ${a.name} cannot ping ${b.name}`);
    }
  }
  const reachMs: number[] = [];
  const attachMs: number[] = [];
  let failures = 0;
  try {
    for (let k = 0; k < options.warmup + options.iterations; k++) {
      const nodeId = ids[k % ids.length]!;
      const t0 = performance.now();
      let probe: Attachment;
      try {
        probe = await cluster.node(nodeId).attach(net.name, { name: `probe-${k}` });
      } catch (err) {
        // A failed attach counts as unreachable (at the bound); the next iteration goes on.
        options.log(`attach latency: attach on ${nodeId} failed: ${(err as Error)?.message ?? String(err)}`);
        if (k >= options.warmup) {
          reachMs.push(REACH_BOUND_MS);
          attachMs.push(performance.now() - t0);
          failures++;
        }
        continue;
      }
      const tAttached = performance.now();
      const firsts = await Promise.all(bases.map((b) => firstPing(b.endpoint, probe.ip, { ...ping, boundMs: REACH_BOUND_MS - (tAttached - t0) })));
      const missed = firsts.some((t) => t === undefined);
      const reach = missed ? REACH_BOUND_MS : Math.max(...(firsts as number[])) - t0;
      if (k >= options.warmup) {
        reachMs.push(reach);
        attachMs.push(tAttached - t0);
        if (missed) failures++;
        if ((k - options.warmup + 1) % 25 === 0) options.log(`attach latency: ${k - options.warmup + 1}/${options.iterations} done`);
      }
      await probe.detach();
      // Every other node has dropped the probe before the next iteration starts.
      await until(
        async () => {
          for (const id of ids) if (id !== nodeId && (await programmedRemoteIds(cluster.node(id), net.id)).includes(probe.id)) return false;
          return true;
        },
        `${probe.name} to leave every node`,
        10_000,
      );
    }
  } finally {
    for (const b of bases) await b.detach().catch(() => undefined);
  }
  return { reachMs, attachMs, failures };
}
