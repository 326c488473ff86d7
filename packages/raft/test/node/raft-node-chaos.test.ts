/**
 * The driver under faults, in real time: 5 RaftNodes over a MemoryTransportNetwork that
 * drops, duplicates and delays (reorders) messages, with a nemesis that
 * partitions (including one-way cuts) and crashes/restarts nodes from their
 * persisted memory stores, while clients run put/get/cas on a few keys
 * through RaftKv. The client history must be linearizable (checked with the
 * package's checker) and every node must end with the same state.
 *
 * Real timers make runs vary; the seeds fix the fault and nemesis choices.
 * (The deterministic simulation of the core lives in test/sim.)
 */
import { cmp, kv as ops, seededRandom } from '@weft/interface';
import { NotLeaderError, ProposalLostError } from '../../src/node';
import { checkLinearizability, kvModel, type KvModelInput, type KvModelOutput, type Operation } from '../../src/testing';
import { MemoryCluster, sleep } from './memory-cluster';

const KEYS = ['x', 'y', 'z'];
const text = (b: Uint8Array | undefined) => (b === undefined ? null : new TextDecoder().decode(b));

async function chaos(seed: number, durationMs: number): Promise<void> {
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // serialize: every message goes through the wire codec and its validation, as over TCP.
  const cluster = new MemoryCluster(ids, seed, { snapshotThreshold: 200, snapshotTrailingEntries: 20 }, true);
  const history: Operation<KvModelInput, KvModelOutput>[] = [];
  const t = () => performance.now();
  try {
    await cluster.startAll();
    await cluster.waitForLeader();
    cluster.network.setFaults({ dropRate: 0.03, duplicateRate: 0.03, minDelayMs: 0, maxDelayMs: 4 });
    let stop = false;
    let seq = 0;

    const client = async (clientId: number): Promise<void> => {
      let target = pick(ids);
      while (!stop) {
        const m = cluster.members.get(target);
        if (!m) {
          target = pick(ids);
          await sleep(5);
          continue;
        }
        const key = pick(KEYS);
        const r = rnd();
        const input: KvModelInput =
          r < 0.4 ? { op: 'get', key } : r < 0.8 ? { op: 'put', key, value: `${clientId}-${++seq}` } : { op: 'cas', key, expected: rnd() < 0.3 ? null : `${pick([0, 1, 2])}-${Math.max(1, seq - Math.floor(rnd() * 5))}`, value: `${clientId}-${++seq}` };
        const call = t();
        try {
          let output: KvModelOutput;
          if (input.op === 'get') output = text((await m.kv.get(input.key))?.value);
          else if (input.op === 'put') {
            await m.kv.put(input.key, input.value);
            output = undefined;
          } else {
            const compare = input.expected === null ? cmp.version(input.key, 'equal', 0) : cmp.value(input.key, 'equal', input.expected);
            output = (await m.kv.txn({ compare: [compare], success: [ops.put(input.key, input.value)] })).succeeded;
          }
          history.push({ clientId, input, call, return: t(), output });
        } catch (err) {
          if (err instanceof NotLeaderError) {
            target = err.leaderId ?? pick(ids);
            if (err.leaderId === null) await sleep(5);
          } else if (err instanceof ProposalLostError) {
            // never committed: the operation did not happen
          } else if (input.op !== 'get') {
            // RequestTimeoutError, NodeClosedError, NodeFailedError: outcome unknown
            history.push({ clientId, input, call, unknown: true });
            target = pick(ids);
          } else target = pick(ids);
        }
      }
    };

    const nemesis = async (): Promise<void> => {
      const down = new Set<string>();
      while (!stop) {
        await sleep(150 + rnd() * 150);
        if (stop) break;
        const a = rnd();
        if (a < 0.25) {
          const minority = [pick(ids), pick(ids)];
          cluster.network.partition(minority, ids.filter((id) => !minority.includes(id)));
        } else if (a < 0.4) {
          cluster.network.cut(pick(ids), pick(ids));
        } else if (a < 0.6) {
          cluster.network.heal();
        } else if (a < 0.8 && down.size < 2) {
          const victim = pick(ids.filter((id) => !down.has(id)));
          down.add(victim);
          await cluster.stop(victim);
        } else if (down.size > 0) {
          const back = pick([...down]);
          down.delete(back);
          await cluster.start(back);
        }
      }
      cluster.network.heal();
      for (const id of down) await cluster.start(id);
    };

    const clients = Array.from({ length: 4 }, (_, i) => client(i));
    const nem = nemesis();
    await sleep(durationMs);
    stop = true;
    await nem;
    await Promise.all(clients);
    cluster.network.setFaults({ dropRate: 0, duplicateRate: 0, maxDelayMs: 0 });

    // Convergence: a final write through the leader, then every node applies it and all states match.
    const leader = await cluster.waitForLeader(15_000);
    await leader.kv.put('final', `${seed}`);
    const target = leader.node.status().appliedIndex;
    await cluster.waitFor(() => [...cluster.members.values()].every((m) => m.node.status().appliedIndex >= target), 'convergence', 15_000);
    const states = [...cluster.members.values()].map((m) => KEYS.map((k) => text(m.store.get(k)?.value)).join('|'));
    expect(new Set(states).size).toBe(1);

    expect(cluster.network.stats().malformed).toBe(0);
    expect(cluster.network.stats().handlerErrors).toBe(0);
    const writes = history.filter((o) => o.input.op !== 'get' && !o.unknown).length;
    expect(writes).toBeGreaterThan(20);
    const verdict = checkLinearizability(kvModel, history);
    if (verdict.result === 'illegal') throw new Error(`seed ${seed}: history not linearizable:\n${verdict.explanation.message}`);
    expect(verdict.result).toBe('ok');
  } finally {
    await cluster.close();
  }
}

/** More seeds with WEFT_RAFT_CHAOS_SEEDS=N (default 3), e.g. for a soak run. */
const SEEDS = Array.from({ length: Number(process.env.WEFT_RAFT_CHAOS_SEEDS ?? '3') || 3 }, (_, i) => i + 1);

describe('RaftNode under faults (5 nodes, MemoryTransportNetwork)', () => {
  test.each(SEEDS)('seed %i: linearizable history and converged replicas', async (seed) => {
    await chaos(seed, 3000);
  }, 60_000);
});
