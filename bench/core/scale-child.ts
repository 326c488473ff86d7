/**
 * Row `core 20 nodes 1000 endpoints`, run in a process of its own by
 * bench/core/scale.ts (`node --expose-gc --import tsx bench/core/scale-child.ts '<json>'`),
 * so its heap figures hold this cluster and nothing else.
 *
 * A LocalCluster of 3 managers + 17 workers with memory Raft transport,
 * memory underlay and memory Raft storage (workers reach the managers'
 * store servers over TCP on loopback, as LocalCluster does); 10 attachable
 * networks; 1,000 endpoints attached with `inFlight` requests in flight,
 * endpoint i on node ⌊i/10⌋ mod 20 and network i mod 10 (so every node has 5
 * endpoints on every network and every network 100 endpoints). Then every
 * node's `programmedState()` is polled until it holds exactly the remote
 * endpoints of its active networks, compared with the endpoint records read
 * from the store. Prints progress on stderr and one `result {json}` line on stdout.
 */
import { KeyLayout, type Attachment, type EndpointRecord, type NetworkInfo, type WeftNode } from '@weft/core';
import { LocalCluster } from '@weft/core/testing';
import { jsonOf } from '@weft/interface';
import { sleep } from './wait';

interface Config {
  managers: number;
  workers: number;
  networks: number;
  endpoints: number;
  inFlight: number;
  /** Give up on convergence after this long (ms). */
  boundMs: number;
}

export interface ScaleResult {
  nodes: number;
  networks: number;
  endpoints: number;
  /** ms from the first attach() call until every node's programmed state was complete. */
  totalMs: number;
  /** ms from the first attach() call until the last attach() resolved. */
  attachMs: number;
  /** ms from the last attach() resolving until every node was complete. */
  convergeMs: number;
  /** CPU time (user + system) the whole process used from the first attach() call until every node was complete, ms. */
  cpuMs: number;
  /** Remote endpoint entries programmed, summed over every node. */
  remoteEntries: number;
  heapUsedBefore: number;
  heapUsedAfter: number;
  externalBefore: number;
  externalAfter: number;
  /** Whether global.gc was there (the process runs with --expose-gc). */
  gc: boolean;
  /** attach() calls that rejected and were retried (same request id), by error name. */
  attachErrors: Record<string, number>;
  /** Attach/detach txns over every node's batchers: committed, lost to another node's txn on the pool, operations carried. */
  batches: { commits: number; conflicts: number; operations: number };
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const log = (m: string): void => void process.stderr.write(`  core scale: ${m}\n`);

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  // Twice: the first pass may only queue finalizers (WeakRefs, FinalizationRegistry) whose objects the second frees.
  gc();
  gc();
}

/** `id ip mac node` of every remote endpoint `node` should hold, by network, from the store's records. */
function expectedFor(node: WeftNode, records: readonly EndpointRecord[]): Map<string, string[]> {
  const active = new Set(records.filter((r) => r.nodeId === node.id).map((r) => r.networkId));
  const out = new Map<string, string[]>();
  for (const net of active) out.set(net, []);
  for (const r of records) if (active.has(r.networkId) && r.nodeId !== node.id) out.get(r.networkId)!.push(`${r.id} ${r.ip} ${r.mac} ${r.nodeId}`);
  for (const list of out.values()) list.sort();
  return out;
}

/** True when `node`'s data plane holds exactly `want`: the same networks, and on each exactly those remote endpoints. */
async function complete(node: WeftNode, want: Map<string, string[]>): Promise<{ ok: boolean; remote: number }> {
  const state = await node.programmedState();
  let remote = 0;
  if (state.networks.length !== want.size) return { ok: false, remote };
  for (const n of state.networks) {
    const w = want.get(n.spec.id);
    remote += n.remote.length;
    if (w === undefined || w.length !== n.remote.length) return { ok: false, remote };
    const have = n.remote.map((r) => `${r.id} ${r.ip} ${r.mac} ${r.peer.id}`).sort();
    for (let i = 0; i < have.length; i++) if (have[i] !== w[i]) return { ok: false, remote };
  }
  return { ok: true, remote };
}

const attachErrors: Record<string, number> = {};

/**
 * attach() with a fixed request id, retried (bounded) when it rejects, as an
 * orchestrator would: the request id makes a retry return the endpoint an
 * earlier attempt may have created. Rejections are counted by error name.
 */
async function attachRetried(node: WeftNode, network: string, name: string): Promise<Attachment> {
  const requestId = `bench-${name}`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await node.attach(network, { name, requestId });
    } catch (err) {
      const kind = (err as Error)?.name ?? 'unknown';
      attachErrors[kind] = (attachErrors[kind] ?? 0) + 1;
      if (attempt >= 5) throw err;
    }
  }
}

async function main(): Promise<void> {
  const cluster = await LocalCluster.start({
    managers: cfg.managers,
    workers: cfg.workers,
    control: 'memory',
    underlay: 'memory',
    storage: 'memory',
    node: { operationTimeoutMs: 120_000 },
  });
  try {
    const nodes = [...cluster.managerIds, ...cluster.workerIds].map((id) => cluster.node(id));
    log(`${nodes.length} nodes up`);
    const nets: NetworkInfo[] = [];
    for (let j = 0; j < cfg.networks; j++) nets.push(await nodes[0]!.createNetwork({ name: `scale-${j}`, attachable: true }));
    for (const n of nodes) await n.reconciled();
    await sleep(500);
    collect();
    const before = process.memoryUsage();

    const attachments: Attachment[] = [];
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: cfg.inFlight }, async () => {
        while (next < cfg.endpoints) {
          const i = next++;
          const node = nodes[Math.floor(i / cfg.networks) % nodes.length]!;
          attachments.push(await attachRetried(node, nets[i % cfg.networks]!.name, `e${i}`));
        }
      }),
    );
    const tAttached = performance.now();
    log(`${attachments.length} attaches done in ${Math.round(tAttached - t0)} ms`);

    const keys = new KeyLayout('weft/');
    const records: EndpointRecord[] = [];
    for (const net of nets) for (const kv of (await nodes[0]!.store.range({ prefix: keys.endpoints(net.id) })).kvs) records.push(jsonOf<EndpointRecord>(kv));
    if (records.length !== cfg.endpoints) throw new Error(`the store holds ${records.length} endpoint records, not ${cfg.endpoints}`);
    const want = new Map(nodes.map((n) => [n.id, expectedFor(n, records)]));

    const pending = new Set(nodes);
    let remoteEntries = 0;
    let tDone = tAttached;
    const deadline = tAttached + cfg.boundMs;
    while (pending.size > 0) {
      for (const n of [...pending]) {
        const c = await complete(n, want.get(n.id)!);
        if (c.ok) {
          pending.delete(n);
          remoteEntries += c.remote;
          tDone = performance.now();
        }
      }
      if (pending.size === 0) break;
      if (performance.now() > deadline) throw new Error(`${pending.size} nodes not complete ${cfg.boundMs} ms after the last attach: ${[...pending].map((n) => n.id).join(', ')}`);
      await sleep(10);
    }
    const cpu = process.cpuUsage(cpu0);
    log(`every node complete ${Math.round(tDone - tAttached)} ms after the last attach`);
    await sleep(200);
    collect();
    const after = process.memoryUsage();
    const result: ScaleResult = {
      nodes: nodes.length,
      networks: nets.length,
      endpoints: attachments.length,
      totalMs: tDone - t0,
      attachMs: tAttached - t0,
      convergeMs: tDone - tAttached,
      cpuMs: (cpu.user + cpu.system) / 1000,
      remoteEntries,
      heapUsedBefore: before.heapUsed,
      heapUsedAfter: after.heapUsed,
      externalBefore: before.external,
      externalAfter: after.external,
      gc: typeof (globalThis as { gc?: unknown }).gc === 'function',
      attachErrors,
      batches: { commits: 0, conflicts: 0, operations: 0 },
    };
    for (const n of nodes) {
      result.batches.commits += n.stats.batches.commits;
      result.batches.conflicts += n.stats.batches.conflicts;
      result.batches.operations += n.stats.batches.operations;
    }
    process.stdout.write(`result ${JSON.stringify(result)}\n`);
    // Keep what the orchestrator holds (the attachments) alive through the measurement.
    if (attachments.length < 0) log('unreachable');
  } finally {
    await cluster.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`core scale child failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
