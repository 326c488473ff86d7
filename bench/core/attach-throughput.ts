/**
 * Row `core attach throughput`: attaches/s on one network with a fixed number
 * of requests in flight spread round-robin over the managers, against plain
 * `put`s through the same managers' `RaftStore` (`node.store`) with the same
 * spread and the same number in flight, on the same cluster, in alternating
 * rounds. Between attach rounds every endpoint is detached (not timed) and
 * every node has dropped the network again.
 */
import type { Attachment, WeftNode } from '@weft/core';
import type { LocalCluster } from '@weft/core/testing';
import { networkGone } from './reachability';
import { sleep, until } from './wait';

export interface WindowResult {
  /** Completed operations per second over the counted window. */
  readonly rate: number;
  /** Operations that rejected (anywhere in the round). */
  readonly errors: number;
  readonly firstError?: unknown;
}

/**
 * Runs `inFlight` loops of `op(loop, i)` (each loop awaits its previous op)
 * for `warmMs` uncounted, then counts completions for `windowMs`, then stops
 * and waits for every loop's last op. Ops that reject are counted apart and
 * the loop goes on (after a pause, so a failing op cannot spin).
 */
export async function windowed(inFlight: number, warmMs: number, windowMs: number, op: (loop: number, i: number) => Promise<void>): Promise<WindowResult> {
  let stop = false;
  let counting = false;
  let done = 0;
  let errors = 0;
  let firstError: unknown;
  const hardStop = performance.now() + warmMs + windowMs + 60_000;
  const loops = Array.from({ length: inFlight }, async (_, c) => {
    for (let i = 0; !stop && performance.now() < hardStop; i++) {
      try {
        await op(c, i);
        if (counting) done++;
      } catch (err) {
        errors++;
        firstError ??= err;
        await sleep(10);
      }
    }
  });
  await sleep(warmMs);
  counting = true;
  const start = performance.now();
  await sleep(windowMs);
  const n = done;
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  await Promise.all(loops);
  return { rate: n / elapsed, errors, ...(firstError !== undefined ? { firstError } : {}) };
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error once all have settled. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let first: unknown;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await fn(item).catch((err: unknown) => (first ??= err));
      }
    }),
  );
  if (first !== undefined) throw first;
}

export interface AttachThroughputResult {
  readonly attachRates: number[];
  readonly putRates: number[];
  /** attach rate / put rate of each counted pair of rounds. */
  readonly ratios: number[];
  readonly attachErrors: number;
  readonly putErrors: number;
  /** Byte length of one endpoint record as JSON: the size of every put value. */
  readonly valueBytes: number;
  /** Txns committed, lost to another manager's txn, and attaches/detaches carried, summed over the managers' batchers (whole run). */
  readonly batches: { commits: number; conflicts: number; operations: number };
  /** How the loops were spread: loops per manager id. */
  readonly loops: Record<string, number>;
}

export async function attachThroughput(
  cluster: LocalCluster,
  options: {
    pairs: number;
    warmMs: number;
    windowMs: number;
    inFlight: number;
    log: (m: string) => void;
    /** `spread`: loops round-robin over the managers; `leader`: every loop on the Raft leader's node (one entry point, as one client). */
    entry?: 'spread' | 'leader';
  },
): Promise<AttachThroughputResult> {
  const ids = options.entry === 'leader' ? [await cluster.awaitRaftLeader()] : cluster.managerIds;
  const nodes: WeftNode[] = ids.map((id) => cluster.node(id));
  const loops: Record<string, number> = {};
  for (let c = 0; c < options.inFlight; c++) loops[ids[c % ids.length]!] = (loops[ids[c % ids.length]!] ?? 0) + 1;
  const spread = options.entry !== 'leader';
  const net = await nodes[0]!.createNetwork({ name: spread ? 'bench-throughput-spread' : 'bench-throughput', attachable: true, subnet: spread ? '10.212.0.0/16' : '10.211.0.0/16' });
  // One attach to size the put values like an endpoint record.
  const sizer = await nodes[0]!.attach(net.name, { name: 'sizer' });
  const valueBytes = Buffer.byteLength(JSON.stringify(sizer.record));
  await sizer.detach();
  const everyNode: WeftNode[] = cluster.managerIds.map((id) => cluster.node(id));
  const value = 'x'.repeat(valueBytes);

  let round = 0;
  const attachRound = async (): Promise<WindowResult> => {
    const r = round++;
    const made: Attachment[] = [];
    const result = await windowed(options.inFlight, options.warmMs, options.windowMs, async (c, i) => {
      made.push(await nodes[c % nodes.length]!.attach(net.name, { name: `r${r}-c${c}-${i}` }));
    });
    // Not timed: detach everything with the same spread and number in flight, then let every node drop the network.
    await forEachLimited(made, options.inFlight, (a) => a.detach());
    await until(async () => (await Promise.all(everyNode.map((n) => networkGone(n, net.id)))).every(Boolean), 'every node to drop the throughput network', 60_000, 20);
    return result;
  };
  const putRound = (): Promise<WindowResult> =>
    windowed(options.inFlight, options.warmMs, options.windowMs, async (c, i) => {
      await nodes[c % nodes.length]!.store.put(`bench/put/${c}/${i % 1000}`, value);
    });

  const attachRates: number[] = [];
  const putRates: number[] = [];
  const ratios: number[] = [];
  let attachErrors = 0;
  let putErrors = 0;
  const note = (what: string, w: WindowResult): string =>
    `${what} ${Math.round(w.rate)}/s${w.errors > 0 ? ` (${w.errors} errors, first: ${String((w.firstError as Error)?.message ?? w.firstError)})` : ''}`;

  // Warm-up pair (not counted): activates the network on every manager, JIT, LevelDB caches.
  const wa = await attachRound();
  const wp = await putRound();
  options.log(`attach throughput warm-up: ${note('attach', wa)}, ${note('put', wp)}`);
  for (let p = 0; p < options.pairs; p++) {
    let a: WindowResult;
    let u: WindowResult;
    // Alternate which goes first, so drifting machine load hits both alike.
    if (p % 2 === 0) {
      a = await attachRound();
      u = await putRound();
    } else {
      u = await putRound();
      a = await attachRound();
    }
    attachRates.push(a.rate);
    putRates.push(u.rate);
    ratios.push(a.rate / u.rate);
    attachErrors += a.errors;
    putErrors += u.errors;
    options.log(`attach throughput pair ${p + 1}/${options.pairs}: ${note('attach', a)}, ${note('put', u)}, ratio ${(a.rate / u.rate).toFixed(3)}`);
  }
  const batches = { commits: 0, conflicts: 0, operations: 0 };
  for (const n of nodes) {
    batches.commits += n.stats.batches.commits;
    batches.conflicts += n.stats.batches.conflicts;
    batches.operations += n.stats.batches.operations;
  }
  return { attachRates, putRates, ratios, attachErrors, putErrors, valueBytes, batches, loops };
}
