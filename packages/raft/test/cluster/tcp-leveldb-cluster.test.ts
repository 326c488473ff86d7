/**
 * Three OS processes, each a RaftNode with a TcpTransport on 127.0.0.1 and a
 * LevelStorage (fsync on), serving a KvStore. A put loop runs while the leader
 * is killed with SIGKILL; a new leader must be elected, the killed node must
 * rejoin from its LevelDB directory, and every acknowledged write must be
 * readable (linearizably) on every node afterwards.
 */
import { LeaderClient, ProcessCluster } from '../../../../bench/raft/process-cluster';
import { KvClient } from '../../../../bench/raft/kv-client';

jest.setTimeout(120_000);

describe('3-process cluster over TCP with LevelDB', () => {
  let cluster: ProcessCluster | undefined;
  let client: LeaderClient | undefined;

  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
  });

  test('kill -9 the leader: a new leader is elected and no acknowledged write is lost after restart', async () => {
    cluster = new ProcessCluster({ electionTimeoutMs: 500, heartbeatIntervalMs: 50 });
    await cluster.start();
    const first = await cluster.waitForLeader();
    client = new LeaderClient(cluster);
    const acked = new Map<string, string>();
    let seq = 0;
    const putSome = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const key = `k${++seq}`;
        const value = `v${seq}`;
        await client!.call({ op: 'put', key, value });
        acked.set(key, value);
      }
    };

    await putSome(50);
    // A writer keeps going while the leader dies; it stops once 20 writes were acknowledged after the kill.
    let stop = false;
    const writer = (async () => {
      while (!stop) await putSome(1);
    })();
    await new Promise((r) => setTimeout(r, 100));
    await cluster.kill(first);
    const ackedAtKill = acked.size;
    const second = await cluster.waitForLeader(20_000);
    expect(second).not.toBe(first);
    const deadline = Date.now() + 30_000;
    while (acked.size < ackedAtKill + 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await writer;
    expect(acked.size).toBeGreaterThanOrEqual(ackedAtKill + 20);

    await cluster.startNode(first);
    await cluster.waitForLeader(20_000);
    await putSome(10);

    // Every acknowledged write is on every node, the restarted one included.
    for (const id of cluster.ids) {
      const c = await KvClient.connect(cluster.clientAddress(id));
      try {
        const deadline = Date.now() + 20_000;
        for (const [key, value] of acked) {
          let got = await c.request({ op: 'get', key });
          while (!got.ok && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
            got = await c.request({ op: 'get', key });
          }
          if (!got.ok || got.value !== value) {
            throw new Error(`node ${id}: ${key} expected ${value}, got ${JSON.stringify(got)}\n${cluster.log(id)}`);
          }
        }
      } finally {
        c.close();
      }
    }
    expect(acked.size).toBeGreaterThanOrEqual(80);
  });
});
