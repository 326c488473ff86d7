/**
 * How to test your own orchestrator against Weft with `@weft/core/testing`:
 * a whole cluster in one process per test file (`LocalCluster`), real
 * attach/detach and real packets, and faults (crash, partition) on demand.
 *
 * `placeReplicas` below stands in for the code under test — a scheduler
 * that spreads a service's tasks over the workers.
 */
import type { Attachment, WeftNode } from '@weft/core';
import { LocalCluster } from '@weft/core/testing';

// ---- the code under test (yours) ----

/** Attaches `count` tasks of `service` to `network`, round-robin over `workers`; idempotent per task (requestId). */
async function placeReplicas(workers: WeftNode[], network: string, service: string, count: number): Promise<Attachment[]> {
  const tasks: Attachment[] = [];
  for (let i = 0; i < count; i++) {
    const node = workers[i % workers.length]!;
    tasks.push(await node.attach(network, { name: `${service}.${i}`, service, requestId: `${service}.${i}.on.${node.id}` }));
  }
  return tasks;
}

// ---- the tests ----

/** Pings until a reply or `timeoutMs` (a peer programs a new endpoint from its store watch, a moment after the attach). */
async function reachable(from: Attachment, ip: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await from.endpoint.ping(ip, { timeoutMs: 250 });
      return true;
    } catch {
      // not yet
    }
  }
  return false;
}

describe('placeReplicas on a Weft cluster', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    // Memory Raft and storage keep it fast; data planes use real UDP on 127.0.x.y.
    cluster = await LocalCluster.start({ managers: 1, workers: 3, control: 'memory', storage: 'memory' });
    await cluster.node('m1').createNetwork({ name: 'backend' }); // not attachable: only service tasks may join
  }, 30_000);

  afterAll(async () => {
    await cluster?.close();
  });

  const workers = (): WeftNode[] => cluster.workerIds.map((id) => cluster.node(id));

  it('gives every replica a unique address on its own node, and every replica reaches the others', async () => {
    const tasks = await placeReplicas(workers(), 'backend', 'api', 4);
    expect(new Set(tasks.map((t) => t.ip)).size).toBe(4);
    expect(tasks.map((t) => t.record.nodeId)).toEqual(['w1', 'w2', 'w3', 'w1']);
    for (const t of tasks.slice(1)) expect(await reachable(tasks[0]!, t.ip)).toBe(true);
    // What the cluster reports matches what was placed.
    const inspect = await cluster.node('m1').inspectNetwork('backend');
    expect(Object.values(inspect.Containers).map((c) => c.Name).sort()).toEqual(['api.0', 'api.1', 'api.2', 'api.3']);
    expect(inspect.Peers.map((p) => p.Name)).toEqual(['w1', 'w2', 'w3']);
    for (const t of tasks) await t.detach();
  }, 30_000);

  it('retrying a placement after a timeout does not place the task twice', async () => {
    const [first] = await placeReplicas(workers(), 'backend', 'web', 1);
    const [again] = await placeReplicas(workers(), 'backend', 'web', 1); // same requestId: the same endpoint
    expect(again!.id).toBe(first!.id);
    expect(again!.ip).toBe(first!.ip);
    await first!.detach();
  }, 30_000);

  it('replicas across a partition cannot reach each other until it heals', async () => {
    const [a, b] = await placeReplicas(workers(), 'backend', 'db', 2); // on w1 and w2
    expect(await reachable(a!, b!.ip)).toBe(true);
    cluster.partition(['m1', 'w1', 'w3'], ['w2']);
    try {
      expect(await reachable(a!, b!.ip, 1000)).toBe(false);
    } finally {
      cluster.heal();
    }
    expect(await reachable(a!, b!.ip)).toBe(true);
    await a!.detach();
    await b!.detach();
  }, 30_000);
});
