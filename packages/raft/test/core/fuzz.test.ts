/**
 * Seeded randomized runs of five RawNodes over a lossy, duplicating,
 * reordering network with partitions, crashes/restarts, membership changes
 * and log compaction, checking Raft's safety properties after every step:
 * Election Safety (one leader per term, paper §5.2), Leader Completeness
 * (§5.4.3, checked when a leader first appears), Log Matching (§5.3, checked
 * at the end of each run) and State Machine Safety
 * (no two nodes apply different entries at an index, §5.4.3), and that a
 * ReadIndex answer covers everything committed before the read (thesis §6.4). The big
 * linearizability simulation lives in test/sim; this one targets the core.
 */
import { ConfChangeRejectedError, decodeConfChange, MemoryStorage, ProposalDroppedError, RawNode } from '../../src/core';
import type { ConfState, Entry, Message, NodeId, Ready } from '../../src/core/types';
import { dec, enc, seeded } from './network';

interface FuzzPeer {
  node: RawNode;
  storage: MemoryStorage;
  applied: string[];
  confState: ConfState | undefined;
  up: boolean;
  /** A Ready taken but not yet persisted (the driver is "writing" it); lost on a crash. */
  held?: Ready;
}

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];

interface RunStats {
  issued: number;
  reads: number;
  transfers: number;
  commits: number;
  leaders: number;
  snapshots: number;
  confChanges: number;
  restarts: number;
}

function run(seed: number, steps: number): RunStats {
  const hold = seed % 4 === 1;
  const rnd = seeded(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const peers = new Map<NodeId, FuzzPeer>();
  const initial = IDS.slice(0, 3);
  const mk = (id: NodeId, storage: MemoryStorage, bootstrap: boolean): RawNode =>
    new RawNode({
      id,
      storage,
      peers: bootstrap ? initial : undefined,
      electionTick: 10,
      heartbeatTick: 1,
      preVote: seed % 3 !== 0,
      checkQuorum: seed % 2 === 0,
      maxInflightMsgs: 4,
      maxSizePerMsg: 64,
      random: seeded(seed * 31 + IDS.indexOf(id)),
    });
  for (const id of IDS) {
    const storage = new MemoryStorage();
    peers.set(id, { node: mk(id, storage, initial.includes(id)), storage, applied: [], confState: undefined, up: true });
  }
  let pool: Message[] = [];
  const cut = new Set<string>();
  const leaderOfTerm = new Map<number, NodeId>();
  const completenessChecked = new Set<number>();
  const appliedAt = new Map<number, string>();
  let proposals = 0;
  const stats = { snapshots: 0, confChanges: 0, restarts: 0, reads: 0, transfers: 0, issued: 0 };
  /** Pending reads: context -> the highest commit index any node knew when the read was issued. */
  const reads = new Map<string, number>();
  let readSeq = 0;
  const maxCommit = (): number => Math.max(...[...peers.values()].map((p) => p.node.status().commit));

  const applyEntry = (p: FuzzPeer, e: Entry): void => {
    const key = `${e.term}:${e.type}:${dec(e.data)}`;
    const prev = appliedAt.get(e.index);
    if (prev !== undefined && prev !== key) {
      throw new Error(`seed ${seed}: state machine safety violated at index ${e.index}: ${prev} vs ${key}`);
    }
    appliedAt.set(e.index, key);
    if (e.type === 'conf-change' && e.index > initial.length) stats.confChanges++;
    if (e.type === 'conf-change') p.confState = p.node.applyConfChange(decodeConfChange(e.data));
    else if (e.data.length > 0) p.applied.push(dec(e.data));
  };

  /** Persists, sends, applies and advances one Ready, in the documented order. */
  const complete = (p: FuzzPeer, rd: Ready): void => {
    if (rd.snapshot) {
      p.storage.applySnapshot(rd.snapshot);
      p.applied = JSON.parse(dec(rd.snapshot.data)) as string[];
      p.confState = rd.snapshot.meta.confState;
    }
    p.storage.append(rd.entries);
    if (rd.hardState) p.storage.setHardState(rd.hardState);
    pool.push(...rd.messages);
    for (const rs of rd.readStates) {
      // ReadIndex safety (thesis §6.4): the read point covers every entry
      // committed anywhere before the read was issued.
      const key = dec(rs.context);
      const floor = reads.get(key);
      if (floor !== undefined && rs.index < floor) {
        throw new Error(`seed ${seed}: read ${key} answered with index ${rs.index} < ${floor} committed before it`);
      }
      if (floor !== undefined) stats.reads++;
      reads.delete(key);
    }
    for (const e of rd.committedEntries) applyEntry(p, e);
    p.node.advance();
  };

  /**
   * Handles a node's Readies. With `hold` (every 4th seed), a Ready may stay
   * taken but unpersisted for a while — messages keep being stepped into the
   * node meanwhile, like a driver awaiting an fsync — and is lost on a crash.
   */
  const processReady = (p: FuzzPeer, allowHold = true): void => {
    const holding = hold && allowHold;
    if (p.held) {
      if (holding && rnd() < 0.5) return;
      const rd = p.held;
      p.held = undefined;
      complete(p, rd);
    }
    for (let i = 0; i < 5 && p.node.hasReady(); i++) {
      const rd = p.node.ready();
      if (holding && rnd() < 0.2) {
        p.held = rd;
        return;
      }
      complete(p, rd);
    }
  };

  /** §5.4.3 Leader Completeness: a new leader's log holds every entry applied (hence committed) anywhere. */
  const checkLeaderCompleteness = (p: FuzzPeer, term: number): void => {
    const first = p.storage.firstIndex();
    for (const [index, key] of appliedAt) {
      if (index < first) continue;
      if (index > p.storage.lastIndex()) {
        throw new Error(`seed ${seed}: leader of term ${term} lacks committed index ${index} (last ${p.storage.lastIndex()})`);
      }
      const e = p.storage.entries(index, index + 1)[0] as Entry;
      if (`${e.term}:${e.type}:${dec(e.data)}` !== key) {
        throw new Error(`seed ${seed}: leader of term ${term} has ${e.term} at committed index ${index}, committed was ${key}`);
      }
    }
  };

  for (let step = 0; step < steps; step++) {
    const r = rnd();
    if (r < 0.02) {
      // new partition: random cut set
      cut.clear();
      if (rnd() < 0.6) {
        for (const a of IDS) for (const b of IDS) if (a !== b && rnd() < 0.25) cut.add(`${a}>${b}`);
      }
    } else if (r < 0.03) {
      // crash or restart a node
      const id = pick(IDS);
      const p = peers.get(id) as FuzzPeer;
      if (p.up) {
        p.up = false;
        p.held = undefined; // a Ready being written when the node crashed is lost
      } else {
        p.up = true;
        stats.restarts++;
        p.node = mk(id, p.storage, false);
        const snap = p.storage.snapshot();
        p.applied = snap.meta.index > 0 ? (JSON.parse(dec(snap.data)) as string[]) : [];
        p.confState = snap.meta.index > 0 ? snap.meta.confState : undefined;
      }
    } else if (r < 0.04) {
      // compact a node's log at its applied index
      const p = peers.get(pick(IDS)) as FuzzPeer;
      const st = p.node.status();
      if (p.up && st.applied > p.storage.firstIndex() + 2 && st.applied <= p.storage.lastIndex()) {
        p.storage.createSnapshot(st.applied, p.confState ?? st.confState, enc(JSON.stringify(p.applied)));
        p.storage.compact(st.applied);
      }
    } else if (r < 0.06) {
      // membership change at whoever thinks it leads: single-server, joint, or a joint leave
      const leaders = IDS.filter((id) => peers.get(id)?.up && peers.get(id)?.node.status().role === 'leader');
      if (leaders.length > 0) {
        const p = peers.get(pick(leaders)) as FuzzPeer;
        const change = (): { type: 'add-voter' | 'add-learner' | 'remove-node'; nodeId: NodeId } => ({
          type: pick(['add-voter', 'add-learner', 'remove-node'] as const),
          nodeId: pick(IDS),
        });
        const kind = rnd();
        try {
          if (kind < 0.6) p.node.proposeConfChange({ changes: [change()] });
          else if (kind < 0.8) p.node.proposeConfChange({ changes: [change(), change()], transition: pick(['auto', 'joint', 'joint-explicit'] as const) });
          else p.node.proposeConfChange({ changes: [] });
        } catch (e) {
          if (!(e instanceof ProposalDroppedError || e instanceof ConfChangeRejectedError)) throw e;
        }
      }
    } else if (r < 0.07) {
      // leadership transfer or a linearizable read
      const p = peers.get(pick(IDS)) as FuzzPeer;
      if (p.up && rnd() < 0.3) {
        p.node.transferLeader(pick(IDS));
        stats.transfers++;
      } else if (p.up) {
        const key = `r${readSeq++}`;
        try {
          const floor = maxCommit();
          p.node.readIndex(enc(key));
          reads.set(key, floor);
          stats.issued++;
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
    } else if (r < 0.2) {
      const p = peers.get(pick(IDS)) as FuzzPeer;
      if (p.up) {
        try {
          p.node.propose(enc(`c${proposals++}`));
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
    } else if (r < 0.5) {
      const p = peers.get(pick(IDS)) as FuzzPeer;
      if (p.up) p.node.tick();
    } else {
      // deliver a few messages: random order, some dropped, some duplicated
      for (let k = 0; k < 4 && pool.length > 0; k++) {
        const i = Math.floor(rnd() * pool.length);
        const m = pool[i] as Message;
        if (rnd() < 0.1) {
          // duplicate: leave it in the pool
        } else {
          pool.splice(i, 1);
        }
        const to = peers.get(m.to);
        if (!to || !to.up || cut.has(`${m.from}>${m.to}`) || rnd() < 0.05) {
          // A transport that notices the failure reports it; one that does
          // not relies on the core's snapshot timeout.
          if (m.type === 'MsgSnap' && rnd() < 0.5) peers.get(m.from)?.node.reportSnapshot(m.to, 'failure');
          continue;
        }
        to.node.step(m);
        if (m.type === 'MsgSnap') stats.snapshots++;
        if (m.type === 'MsgSnap') peers.get(m.from)?.node.reportSnapshot(m.to, 'finish');
      }
      if (pool.length > 2000) pool = pool.slice(-1000);
    }
    for (const p of peers.values()) if (p.up) processReady(p);
    for (const [id, p] of peers) {
      if (!p.up) continue;
      const st = p.node.status();
      if (st.role !== 'leader') continue;
      const prev = leaderOfTerm.get(st.term);
      if (prev !== undefined && prev !== id) throw new Error(`seed ${seed}: two leaders in term ${st.term}: ${prev} and ${id}`);
      leaderOfTerm.set(st.term, id);
      if (!p.held && !completenessChecked.has(st.term)) {
        completenessChecked.add(st.term);
        checkLeaderCompleteness(p, st.term);
      }
    }
  }
  // Calm phase (liveness): everything up, no faults. A leader must emerge and
  // a new command must reach every member of its configuration.
  cut.clear();
  for (const [id, p] of peers) {
    if (!p.up) {
      p.up = true;
      p.node = mk(id, p.storage, false);
      const snap = p.storage.snapshot();
      p.applied = snap.meta.index > 0 ? (JSON.parse(dec(snap.data)) as string[]) : [];
      p.confState = snap.meta.index > 0 ? snap.meta.confState : undefined;
    }
  }
  const settle = (): void => {
    for (let i = 0; i < 200; i++) {
      for (const p of peers.values()) processReady(p, false);
      if (pool.length === 0) return;
      const batch = pool;
      pool = [];
      for (const m of batch) {
        const to = peers.get(m.to);
        if (!to) continue;
        to.node.step(m);
        if (m.type === 'MsgSnap') peers.get(m.from)?.node.reportSnapshot(m.to, 'finish');
      }
    }
  };
  pool = [];
  let done = false;
  for (let round = 0; round < 400 && !done; round++) {
    for (const p of peers.values()) p.node.tick();
    settle();
    const leader = [...peers.values()].find((p) => p.node.status().role === 'leader');
    if (!leader) continue;
    if (!leader.applied.includes('final')) {
      try {
        leader.node.propose(enc('final'));
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
      settle();
    }
    const cs = leader.node.status().confState;
    const members = [...cs.voters, ...cs.learners, ...cs.votersOutgoing];
    done = members.every((id) => peers.get(id)?.applied.includes('final'));
  }
  if (!done) {
    const states = [...peers.values()].map((p) => {
      const st = p.node.status();
      return `${st.id}:${st.role} t${st.term} lead=${st.leader} commit=${st.commit} applied=${st.applied} last=${p.storage.lastIndex()} voters=${st.confState.voters.join(',')}|${st.confState.votersOutgoing.join(',')} learners=${st.confState.learners.join(',')} final=${p.applied.includes('final')} progress=${JSON.stringify(st.progress ?? {})}`;
    });
    throw new Error(`seed ${seed}: no progress after healing all faults\n${states.join('\n')}`);
  }
  checkLogMatching(seed, [...peers.values()].map((p) => p.storage));
  return { commits: appliedAt.size, leaders: leaderOfTerm.size, ...stats };
}

/** §5.3 Log Matching: if two logs hold an entry with the same index and term, they are identical up to it. */
function checkLogMatching(seed: number, logs: MemoryStorage[]): void {
  for (let i = 0; i < logs.length; i++) {
    for (let j = i + 1; j < logs.length; j++) {
      const a = logs[i] as MemoryStorage;
      const b = logs[j] as MemoryStorage;
      const lo = Math.max(a.firstIndex(), b.firstIndex());
      const hi = Math.min(a.lastIndex(), b.lastIndex());
      let agreed = false;
      for (let k = hi; k >= lo; k--) {
        const ea = a.entries(k, k + 1)[0] as Entry;
        const eb = b.entries(k, k + 1)[0] as Entry;
        if (!agreed && ea.term === eb.term) agreed = true;
        if (agreed && (ea.term !== eb.term || dec(ea.data) !== dec(eb.data))) {
          throw new Error(`seed ${seed}: log matching violated at index ${k} between logs ${i} and ${j}`);
        }
      }
    }
  }
}

describe('randomized safety of the core (paper §5.2 Election Safety, §5.4.3 State Machine Safety)', () => {
  const seeds = Number(process.env.RAFT_CORE_FUZZ_SEEDS ?? 60);
  it(`holds over ${seeds} seeded runs with partitions, loss, duplication, restarts, conf changes compaction, joint changes, transfers and ReadIndex`, () => {
    let progress = 0;
    const total = { snapshots: 0, confChanges: 0, restarts: 0, leaders: 0, reads: 0, transfers: 0, issued: 0 };
    const only = process.env.RAFT_CORE_FUZZ_SEED;
    const from = Number(process.env.RAFT_CORE_FUZZ_FROM ?? 1);
    for (let seed = only ? Number(only) : from; seed <= (only ? Number(only) : from + seeds - 1); seed++) {
      let r: RunStats;
      try {
        r = run(seed, 3000);
      } catch (e) {
        throw new Error(`seed ${seed} failed (RAFT_CORE_FUZZ_SEED=${seed} reproduces it): ${(e as Error).message}`, { cause: e });
      }
      if (r.commits > 10) progress++;
      total.snapshots += r.snapshots;
      total.confChanges += r.confChanges;
      total.restarts += r.restarts;
      total.leaders += r.leaders;
      total.reads += r.reads;
      total.transfers += r.transfers;
      total.issued += r.issued;
    }
    if (process.env.RAFT_CORE_FUZZ_VERBOSE) console.log({ seeds, progress, ...total });
    if (only) return; // a single reproduction: safety and liveness were checked above
    // The runs make progress and exercise the features, not just stay safe by doing nothing.
    expect(progress).toBeGreaterThan(seeds / 2);
    expect(total.snapshots).toBeGreaterThan(0);
    expect(total.confChanges).toBeGreaterThan(seeds);
    expect(total.restarts).toBeGreaterThan(seeds);
    expect(total.reads).toBeGreaterThan(seeds / 2);
  });

  // Seeds that once failed (reproduce one with RAFT_CORE_FUZZ_SEED=<n>).
  it.each([
    [12, 'a node added after the newest snapshot ignored it (membership predating it) and never caught up'],
    [43, 'a silently lost MsgSnap left a learner in snapshot state forever'],
    [143, 'a demoted leader with extra uncommitted entries refused the survivor its vote (2-voter config)'],
    [52, 'joint-explicit config with the leader only in the outgoing half: proposals must still flow'],
    [351, 'a learner with a higher term silently ignored a lower-term leader (no pre-vote, no check-quorum)'],
    [2341, 'a snapshot installed while committed entries of an un-advanced Ready were being applied (conf change applied twice)'],
    [2609, "a re-elected leader demoted by its predecessor's change kept its empty entry; the survivor could not win its vote"],
    [6294, 'a stale voter drove the term up and silently dropped the lower-term votes of the only viable candidate'],
    [7561, 'a leader re-elected with its own demotion still unapplied kept accepting proposals; the survivor could not win its vote'],
  ])('regression seed %i: %s', (seed) => {
    expect(() => run(seed, 3000)).not.toThrow();
  });
});

