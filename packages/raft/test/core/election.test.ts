import type { Message } from '../../src/core/types';
import { drain, entriesOf, nodeWith, storageWith } from './fixtures';
import { Network } from './network';

const vote = (from: string, to: string, term: number, index: number, logTerm: number): Message => ({
  type: 'MsgVote',
  from,
  to,
  term,
  index,
  logTerm,
});

describe('leader election (Raft paper §5.2)', () => {
  it('§5.2 a follower that hears from no leader for an election timeout becomes candidate, increments its term and votes for itself', () => {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const n = nodeWith('a', s, { electionTick: 10 });
    let ticks = 0;
    while (n.status().role === 'follower' && ticks < 100) {
      n.tick();
      ticks++;
    }
    const st = n.status();
    expect(st.role).toBe('candidate');
    expect(st.term).toBe(2);
    expect(st.vote).toBe('a');
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(ticks).toBeLessThan(20);
    const msgs = drain(n, s);
    expect(msgs.filter((m) => m.type === 'MsgVote').map((m) => m.to).sort()).toEqual(['b', 'c']);
    // Figure 2: the new term and vote are persisted (hard state) before the vote requests go out.
    expect(s.initialState().hardState).toEqual({ term: 2, vote: 'a', commit: 1 });
  });

  it('§5.2 randomized election timeouts fall in [electionTick, 2*electionTick) and differ between nodes', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const n = nodeWith('a', storageWith(['a', 'b', 'c'], [1]), { electionTick: 10, seed });
      let ticks = 0;
      while (n.status().role === 'follower' && ticks < 100) {
        n.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      seen.add(ticks);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it('§5.2 a candidate that receives votes from a majority becomes leader and appends an empty entry of its term (§8)', () => {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const n = nodeWith('a', s);
    n.campaign();
    drain(n, s);
    n.step({ type: 'MsgVoteResp', from: 'b', to: 'a', term: 2 });
    const st = n.status();
    expect(st.role).toBe('leader');
    expect(st.leader).toBe('a');
    drain(n, s);
    expect(entriesOf(s).pop()).toEqual({ index: 3, term: 2 });
  });

  it('§5.2 a candidate rejected by a majority returns to follower and keeps its term', () => {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const n = nodeWith('a', s);
    n.campaign();
    n.step({ type: 'MsgVoteResp', from: 'b', to: 'a', term: 2, reject: true });
    expect(n.status().role).toBe('candidate');
    n.step({ type: 'MsgVoteResp', from: 'c', to: 'a', term: 2, reject: true });
    expect(n.status()).toMatchObject({ role: 'follower', term: 2 });
  });

  it('§5.2 a split vote leads to a new election in a higher term after another timeout', () => {
    const s = storageWith(['a', 'b', 'c', 'd'], [1]);
    const n = nodeWith('a', s);
    n.campaign();
    n.step({ type: 'MsgVoteResp', from: 'b', to: 'a', term: 2 });
    n.step({ type: 'MsgVoteResp', from: 'c', to: 'a', term: 2, reject: true });
    expect(n.status().role).toBe('candidate');
    for (let i = 0; i < 20; i++) n.tick();
    expect(n.status()).toMatchObject({ role: 'candidate', term: 3 });
  });

  it('§5.2 each server votes for at most one candidate per term, first come first served', () => {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const n = nodeWith('a', s);
    n.step(vote('b', 'a', 2, 2, 1));
    n.step(vote('c', 'a', 2, 2, 1));
    n.step(vote('b', 'a', 2, 2, 1)); // a repeat of the granted request is granted again
    const resps = drain(n, s).filter((m) => m.type === 'MsgVoteResp');
    expect(resps.map((m) => [m.to, m.reject ?? false])).toEqual([
      ['b', false],
      ['c', true],
      ['b', false],
    ]);
    expect(s.initialState().hardState.vote).toBe('b');
  });

  it('§5.4.1 election restriction: a vote is denied to a candidate whose log is less up to date', () => {
    // a's log: index 2 term 1, index 3 term 2.
    const cases: [number, number, boolean][] = [
      // [candidate lastIndex, lastTerm, granted]
      [3, 1, false], // lower last term, even with an equal index
      [9, 1, false], // lower last term, longer log
      [2, 2, false], // same last term, shorter log
      [3, 2, true], // same last term and length
      [4, 2, true], // same last term, longer
      [2, 3, true], // higher last term, shorter
    ];
    for (const [index, logTerm, granted] of cases) {
      const s = storageWith(['a', 'b', 'c'], [1, 2]);
      const n = nodeWith('a', s);
      n.step(vote('b', 'a', 5, index, logTerm));
      const resp = drain(n, s).find((m) => m.type === 'MsgVoteResp');
      expect([index, logTerm, !(resp?.reject ?? false)]).toEqual([index, logTerm, granted]);
    }
  });

  it('§5.1 a server that sees a higher term adopts it and becomes follower (a leader steps down)', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    net.flush();
    net.elect('a');
    expect(net.node('a').status().role).toBe('leader');
    const term = net.node('a').status().term;
    net.node('a').step({ type: 'MsgAppResp', from: 'b', to: 'a', term: term + 3, index: 0 });
    expect(net.node('a').status()).toMatchObject({ role: 'follower', term: term + 3, leader: null });
  });

  it('§5.1 a request with a stale term is rejected: an old leader learns the new term and steps down', () => {
    const net = new Network(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    net.flush();
    net.elect('a');
    net.isolate('a');
    net.elect('b');
    expect(net.node('b').status().role).toBe('leader');
    expect(net.leaders().sort()).toEqual(['a', 'b']); // a does not know yet
    net.heal();
    net.propose('a', 'stale'); // old leader still accepts locally, but cannot commit
    net.tick(1);
    expect(net.leaders()).toEqual(['b']);
    expect(net.node('a').status().term).toBe(net.node('b').status().term);
    for (const id of ['a', 'b', 'c']) expect(net.peer(id).applied).not.toContain('stale');
  });

  it('§5.1 a vote request with a stale term is rejected with the current term, and the candidate adopts it', () => {
    const s = storageWith(['a', 'b', 'c'], [1], { term: 7 });
    const n = nodeWith('a', s);
    n.step(vote('b', 'a', 3, 9, 5));
    const resp = drain(n, s).find((m) => m.type === 'MsgVoteResp');
    expect(resp).toMatchObject({ to: 'b', term: 7, reject: true });
    const sb = storageWith(['a', 'b', 'c'], [1], { term: 2 });
    const b = nodeWith('b', sb);
    b.campaign();
    b.step(resp as Message);
    expect(b.status()).toMatchObject({ role: 'follower', term: 7 });
  });

  it('§5.2 at most one leader per term across many seeded elections with message loss', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new Network(['a', 'b', 'c', 'd', 'e'], { preVote: seed % 2 === 0 }, seed * 10);
      let k = seed;
      net.filter = () => (k = (k * 1103515245 + 12345) % 2147483648) % 5 !== 0; // drop ~20%
      const leaderOfTerm = new Map<number, string>();
      for (let t = 0; t < 200; t++) {
        net.tick(1);
        for (const id of net.leaders()) {
          const term = net.node(id).status().term;
          const prev = leaderOfTerm.get(term);
          expect(prev === undefined || prev === id).toBe(true);
          leaderOfTerm.set(term, id);
        }
      }
      expect(leaderOfTerm.size).toBeGreaterThan(0);
    }
  });
});

describe('persistent state (Raft paper Figure 2)', () => {
  it('a node restarted from storage keeps its term and vote and does not vote twice in that term', () => {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const n = nodeWith('a', s);
    n.step(vote('b', 'a', 2, 2, 1));
    drain(n, s);
    const restarted = nodeWith('a', s);
    expect(restarted.status()).toMatchObject({ term: 2, vote: 'b' });
    restarted.step(vote('c', 'a', 2, 2, 1));
    const resp = drain(restarted, s).find((m) => m.type === 'MsgVoteResp');
    expect(resp?.reject).toBe(true);
  });

  it('a restarted cluster recovers its log and membership and elects a leader again', () => {
    const net = new Network(['a', 'b', 'c']);
    net.flush();
    net.elect('a');
    net.propose('a', 'x');
    net.tick(1);
    for (const id of ['a', 'b', 'c']) net.restart(id);
    net.flush();
    net.tick(40);
    expect(net.leaders()).toHaveLength(1);
    const l = net.leaders()[0] as string;
    net.propose(l, 'y');
    net.tick(1);
    for (const id of ['a', 'b', 'c']) expect(net.peer(id).applied).toEqual(['x', 'y']);
  });
});
