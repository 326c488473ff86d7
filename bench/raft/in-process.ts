/**
 * Benchmark (a): 3 RaftNodes in one process over a MemoryTransportNetwork with memory
 * stores; `proposers` concurrent loops each propose a 16-byte command and wait
 * for it to commit and apply. Returns committed proposals per second. With
 * `serialize`, every message is encoded with the binary wire codec at send and
 * decoded and validated at delivery (as over TCP); without it messages pass by
 * reference.
 */
import { RaftNode, MemoryTransportNetwork, memoryStores, type StateMachine } from '@weft/raft';

/** A minimal deterministic state machine: counts applied commands. */
class CounterMachine implements StateMachine<number> {
  count = 0;
  apply(): number {
    return ++this.count;
  }
  snapshot(): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, this.count);
    return b;
  }
  restore(data: Uint8Array): void {
    this.count = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(0);
  }
}

export async function inProcessCommitsPerSecond(proposers: number, durationMs: number, serialize = false): Promise<number> {
  const ids = ['n1', 'n2', 'n3'];
  const network = new MemoryTransportNetwork({ seed: 1, serialize });
  const nodes: RaftNode<number>[] = [];
  try {
    for (const id of ids) {
      const node = await RaftNode.create<number>({
        id,
        peers: ids,
        stateMachine: new CounterMachine(),
        transport: network.transport(id),
        stores: memoryStores(),
        electionTimeoutMs: 300,
        heartbeatIntervalMs: 30,
        snapshotThreshold: 50_000,
      });
      nodes.push(node.start());
    }
    const deadline = Date.now() + 10_000;
    let leader: RaftNode<number> | undefined;
    while (!leader && Date.now() < deadline) {
      leader = nodes.find((n) => n.isLeader);
      if (!leader) await new Promise((r) => setTimeout(r, 10));
    }
    if (!leader) throw new Error('no leader elected within 10 s');
    const l = leader;
    const command = new Uint8Array(16).fill(7);
    let stop = false;
    let commits = 0;
    const worker = async (): Promise<void> => {
      while (!stop) {
        await l.propose(command);
        commits++;
      }
    };
    // Warm up, then measure.
    const warm = Date.now() + 300;
    const workers = Array.from({ length: proposers }, () => worker());
    while (Date.now() < warm) await new Promise((r) => setTimeout(r, 20));
    const start = process.hrtime.bigint();
    const before = commits;
    await new Promise((r) => setTimeout(r, durationMs));
    const done = commits - before;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    stop = true;
    await Promise.all(workers);
    return done / seconds;
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    await network.close();
  }
}
