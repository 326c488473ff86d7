import { ConfChangeRejectedError, MemoryStorage, ProposalDroppedError, RawNode } from '../../src/core';
import { enc, Network, seeded } from './network';

const ids = ['a', 'b', 'c'];

function cluster(opts: ConstructorParameters<typeof Network>[1] = {}, members = ids): Network {
  const net = new Network(members, opts);
  net.flush();
  net.elect('a');
  expect(net.leaders()).toEqual(['a']);
  return net;
}

describe('pre-vote (thesis §9.6)', () => {
  it('a partitioned node rejoining does not disrupt the leader; its term never grew', () => {
    const net = cluster({ preVote: true, checkQuorum: true });
    const term = net.node('a').status().term;
    net.isolate('c');
    net.tick(100); // c times out many times while alone
    expect(net.node('c').status().term).toBe(term); // pre-votes fail, term unchanged
    expect(net.node('c').status().role).toBe('pre-candidate');
    net.heal();
    net.tick(5);
    expect(net.leaders()).toEqual(['a']);
    expect(net.node('a').status().term).toBe(term);
    expect(net.node('c').status()).toMatchObject({ role: 'follower', leader: 'a', term });
  });

  it('without pre-vote the same rejoin forces a new election (the disruption pre-vote prevents)', () => {
    const net = cluster({ preVote: false, checkQuorum: false });
    const term = net.node('a').status().term;
    net.isolate('c');
    net.tick(50);
    expect(net.node('c').status().term).toBeGreaterThan(term + 1);
    net.heal();
    net.tick(40);
    expect(net.node('a').status().term).toBeGreaterThan(term);
  });
});

describe('check-quorum and leader lease (thesis §6.2)', () => {
  it('a leader that cannot reach a majority steps down within an election timeout; the majority elects a new one', () => {
    const net = cluster({ checkQuorum: true, preVote: true });
    net.isolate('a');
    net.tick(25);
    expect(net.node('a').status().role).toBe('follower');
    const newLeaders = net.leaders();
    expect(newLeaders).toHaveLength(1);
    expect(newLeaders[0]).not.toBe('a');
  });

  it('a follower that heard from its leader within the election timeout ignores vote requests', () => {
    const net = cluster({ checkQuorum: true, preVote: false });
    const term = net.node('a').status().term;
    net.node('b').step({ type: 'MsgVote', from: 'c', to: 'b', term: term + 1, index: 100, logTerm: term });
    net.flush();
    expect(net.node('b').status()).toMatchObject({ term, leader: 'a', role: 'follower' });
    expect(net.peer('b').sent.some((m) => m.type === 'MsgVoteResp' && m.to === 'c')).toBe(false);
  });

  it('without a leader recently heard, the same vote request is granted', () => {
    const net = cluster({ checkQuorum: true, preVote: false });
    const term = net.node('a').status().term;
    net.isolate('b');
    net.tick(10); // electionTimeout without heartbeats (b may start campaigning itself)
    net.heal();
    const bTerm = net.node('b').status().term;
    net.node('b').step({ type: 'MsgVote', from: 'c', to: 'b', term: bTerm + 1, index: 100, logTerm: term });
    net.flush();
    expect(net.peer('b').sent.some((m) => m.type === 'MsgVoteResp' && m.to === 'c' && !m.reject)).toBe(true);
  });
});

describe('leadership transfer (thesis §3.10)', () => {
  it('transfers to an up-to-date follower with MsgTimeoutNow; the target wins at once', () => {
    const net = cluster({ checkQuorum: true, preVote: true });
    net.propose('a', 'x');
    const term = net.node('a').status().term;
    net.node('a').transferLeader('b');
    net.flush();
    expect(net.peer('a').sent.some((m) => m.type === 'MsgTimeoutNow' && m.to === 'b')).toBe(true);
    expect(net.leaders()).toEqual(['b']);
    expect(net.node('b').status().term).toBe(term + 1);
    net.propose('b', 'y');
    net.tick(1);
    for (const id of ids) expect(net.peer(id).applied).toEqual(['x', 'y']);
  });

  it('catches a lagging target up first, and drops proposals while the transfer is in progress', () => {
    const net = cluster({ checkQuorum: true, preVote: true });
    net.cut('a', 'c');
    net.propose('a', 'x');
    net.node('a').transferLeader('c');
    net.flush();
    expect(net.leaders()).toEqual(['a']);
    expect(() => net.node('a').propose(enc('y'))).toThrow(ProposalDroppedError);
    net.heal();
    net.tick(2); // heartbeat response from c triggers catch-up, then MsgTimeoutNow
    expect(net.leaders()).toEqual(['c']);
    expect(net.peer('c').applied).toEqual(['x']);
  });

  it('is aborted after an election timeout when the target cannot be reached; proposals resume', () => {
    const net = cluster({ checkQuorum: true, preVote: true });
    net.cut('a', 'c');
    net.propose('a', 'x');
    net.node('a').transferLeader('c');
    net.flush();
    expect(() => net.node('a').propose(enc('y'))).toThrow(ProposalDroppedError);
    net.tick(12, ['a', 'b']);
    expect(net.leaders()).toEqual(['a']);
    net.propose('a', 'z');
    net.tick(1, ['a', 'b']);
    expect(net.peer('b').applied).toEqual(['x', 'z']);
  });

  it('a follower forwards a transfer request to the leader', () => {
    const net = cluster();
    net.node('c').transferLeader('c');
    net.flush();
    expect(net.leaders()).toEqual(['c']);
  });
});

describe('snapshots and log compaction (paper §7)', () => {
  it('a follower behind the compacted log receives a snapshot, installs it and then catches up', () => {
    const net = cluster();
    net.stop('c');
    for (let i = 0; i < 20; i++) net.propose('a', `v${i}`);
    net.tick(1, ['a', 'b']);
    const idx = net.compact('a');
    expect(net.peer('a').storage.firstIndex()).toBe(idx + 1);
    net.start('c');
    net.tick(2);
    expect(net.peer('a').sent.some((m) => m.type === 'MsgSnap' && m.to === 'c')).toBe(true);
    expect(net.peer('c').storage.snapshot().meta.index).toBe(idx);
    net.propose('a', 'after');
    net.tick(1);
    expect(net.peer('c').applied).toEqual([...Array.from({ length: 20 }, (_, i) => `v${i}`), 'after']);
    expect(net.node('a').status().progress?.c?.state).toBe('replicate');
  });

  it('a lost MsgSnap that is never reported is retried after the snapshot timeout', () => {
    const net = cluster();
    net.stop('c');
    for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
    net.tick(1, ['a', 'b']);
    net.compact('a');
    net.start('c');
    // The first snapshot is lost silently (no reportSnapshot).
    let lost = 0;
    net.filter = (m) => !(m.type === 'MsgSnap' && lost++ === 0);
    net.tick(2);
    expect(net.node('a').status().progress?.c?.state).toBe('snapshot');
    net.tick(40);
    expect(lost).toBeGreaterThan(1);
    expect(net.peer('c').applied).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('a node added after the newest snapshot still catches up from it (its membership predates the node)', () => {
    const net = cluster();
    for (let i = 0; i < 3; i++) net.propose('a', `v${i}`);
    net.tick(1);
    net.compact('a'); // snapshot membership: a, b, c
    net.add('d');
    net.node('a').proposeConfChange({ changes: [{ type: 'add-voter', nodeId: 'd' }] });
    net.tick(3);
    expect(net.peer('d').storage.snapshot().meta.confState.voters).toEqual(['a', 'b', 'c']);
    expect(net.peer('d').confState?.voters).toEqual(['a', 'b', 'c', 'd']);
    net.propose('a', 'after');
    net.tick(1);
    expect(net.peer('d').applied).toEqual(['v0', 'v1', 'v2', 'after']);
  });

  it('a snapshot arriving while committed entries of an un-advanced Ready are being applied is refused until advance()', () => {
    const s = new MemoryStorage();
    const cs = { voters: ['a', 'b', 'c'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    s.applySnapshot({ meta: { index: 1, term: 1, confState: cs }, data: enc('[]') });
    s.setHardState({ term: 1, vote: null, commit: 1 });
    const b = new RawNode({ id: 'b', storage: s, applied: 1, random: seeded(1) });
    b.step({
      type: 'MsgApp', from: 'a', to: 'b', term: 2, index: 1, logTerm: 1,
      entries: [{ index: 2, term: 2, type: 'normal', data: enc('x') }], commit: 2,
    });
    const rd = b.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2]);
    // While the driver persists and applies rd, a snapshot at 5 arrives.
    const snap = { meta: { index: 5, term: 2, confState: cs }, data: enc('["x","y"]') };
    b.step({ type: 'MsgSnap', from: 'a', to: 'b', term: 2, snapshot: snap });
    s.append(rd.entries);
    if (rd.hardState) s.setHardState(rd.hardState);
    b.advance();
    const refused = b.ready();
    expect(refused.snapshot).toBeUndefined();
    expect(refused.messages).toEqual([expect.objectContaining({ type: 'MsgAppResp', index: 2 })]);
    b.advance();
    b.step({ type: 'MsgSnap', from: 'a', to: 'b', term: 2, snapshot: snap });
    const installed = b.ready();
    expect(installed.snapshot?.meta.index).toBe(5);
    expect(installed.messages).toEqual([expect.objectContaining({ type: 'MsgAppResp', index: 5 })]);
  });

  it('§7 a snapshot the follower already covers only fast-forwards its commit index', () => {
    const net = cluster();
    for (let i = 0; i < 3; i++) net.propose('a', `v${i}`);
    net.tick(1);
    const snap = net.peer('a').storage.createSnapshot(net.node('a').status().applied, net.node('a').status().confState, enc('[]'));
    const term = net.node('a').status().term;
    const lastBefore = net.peer('b').storage.lastIndex();
    net.node('b').step({ type: 'MsgSnap', from: 'a', to: 'b', term, snapshot: snap });
    net.flush();
    expect(net.peer('b').storage.lastIndex()).toBe(lastBefore);
    expect(net.peer('b').applied).toEqual(['v0', 'v1', 'v2']);
  });
});

describe('ReadIndex (thesis §6.4)', () => {
  it('a leader answers after a heartbeat round confirms it; a follower forwards and gets the same index', () => {
    const net = cluster();
    net.propose('a', 'x');
    net.node('a').readIndex(enc('r1'));
    net.flush();
    const commit = net.node('a').status().commit;
    expect(net.peer('a').readStates).toEqual([{ index: commit, context: enc('r1') }]);
    expect(net.peer('a').sent.some((m) => m.type === 'MsgHeartbeat' && m.context !== undefined)).toBe(true);
    net.node('c').readIndex(enc('r2'));
    net.flush();
    expect(net.peer('c').readStates).toEqual([{ index: commit, context: enc('r2') }]);
  });

  it('a leader cut off from the majority never answers', () => {
    const net = cluster({ checkQuorum: false });
    net.isolate('a');
    net.node('a').readIndex(enc('r'));
    net.flush();
    expect(net.peer('a').readStates).toEqual([]);
  });

  it('a new leader answers only once it has committed an entry of its term', () => {
    const net = cluster({ checkQuorum: false });
    net.cut('a', 'b');
    net.cut('a', 'c');
    net.node('b').campaign();
    // Deliver only votes: b becomes leader but its empty entry is not yet acknowledged.
    net.filter = (m) => m.type === 'MsgVote' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp';
    net.flush();
    expect(net.node('b').status().role).toBe('leader');
    net.node('b').readIndex(enc('r'));
    net.flush();
    expect(net.peer('b').readStates).toEqual([]);
    net.filter = undefined;
    net.tick(1);
    const st = net.node('b').status();
    expect(net.peer('b').readStates).toEqual([{ index: st.commit, context: enc('r') }]);
  });

  it('a single-node cluster answers at once', () => {
    const net = new Network(['solo']);
    net.flush();
    net.elect('solo');
    net.node('solo').readIndex(enc('r'));
    net.flush();
    expect(net.peer('solo').readStates).toEqual([{ index: net.node('solo').status().commit, context: enc('r') }]);
  });
});

describe('membership changes (thesis §4)', () => {
  it('§4.1 single-server change: adds a voter that catches up and then counts in the quorum', () => {
    const net = cluster();
    net.add('d');
    net.node('a').proposeConfChange({ changes: [{ type: 'add-voter', nodeId: 'd' }] });
    net.tick(3);
    expect(net.peer('a').confState?.voters).toEqual(['a', 'b', 'c', 'd']);
    expect(net.peer('d').confState?.voters).toEqual(['a', 'b', 'c', 'd']);
    // 4 voters: quorum is 3; with b and c down nothing commits.
    net.stop('b');
    net.stop('c');
    const commit = net.node('a').status().commit;
    net.propose('a', 'blocked');
    expect(net.node('a').status().commit).toBe(commit);
    net.start('b');
    net.tick(1);
    expect(net.peer('d').applied).toEqual(['blocked']);
  });

  it('§4.1 only one conf change may be pending at a time', () => {
    const net = cluster();
    net.add('d');
    net.add('e');
    net.cut('a', 'b');
    net.cut('a', 'c');
    net.node('a').proposeConfChange({ changes: [{ type: 'add-voter', nodeId: 'd' }] });
    expect(() => net.node('a').proposeConfChange({ changes: [{ type: 'add-voter', nodeId: 'e' }] })).toThrow(
      ConfChangeRejectedError,
    );
  });

  it('§4.1 a new leader accepts a conf change only after committing an entry of its own term', () => {
    const net = cluster({ checkQuorum: false });
    net.isolate('b');
    net.node('b').campaign();
    net.heal();
    net.filter = (m) => m.type !== 'MsgApp';
    net.flush();
    expect(net.node('b').status().role).toBe('leader');
    expect(() => net.node('b').proposeConfChange({ changes: [{ type: 'remove-node', nodeId: 'c' }] })).toThrow(/not applied yet/);
    net.filter = undefined;
    net.tick(2);
    net.node('b').proposeConfChange({ changes: [{ type: 'remove-node', nodeId: 'c' }] });
    net.tick(2);
    expect(net.peer('b').confState?.voters).toEqual(['a', 'b']);
  });

  it('§4.1 a simple change of more than one voter is refused; an invalid change never enters the log', () => {
    const net = cluster();
    expect(() =>
      net.node('a').proposeConfChange({ changes: [{ type: 'remove-node', nodeId: 'b' }, { type: 'remove-node', nodeId: 'c' }], transition: 'auto' }),
    ).not.toThrow(); // two changes: joint consensus
    net.tick(3);
    expect(net.peer('a').confState).toMatchObject({ voters: ['a'], votersOutgoing: [] });
    expect(() => net.node('a').proposeConfChange({ changes: [{ type: 'remove-node', nodeId: 'a' }] })).toThrow(/removed all voters/);
  });

  it('§4.3 joint consensus: C_old,new needs majorities of both configs, then leaves automatically', () => {
    const net = cluster({}, ['a', 'b', 'c']);
    net.add('d');
    net.add('e');
    // Replace b, c by d, e at once.
    net.node('a').proposeConfChange({
      changes: [
        { type: 'add-voter', nodeId: 'd' },
        { type: 'add-voter', nodeId: 'e' },
        { type: 'remove-node', nodeId: 'b' },
        { type: 'remove-node', nodeId: 'c' },
      ],
    });
    net.tick(6);
    const seen = net.peer('a').confHistory.map((cs) => `${cs.voters.join('')}|${cs.votersOutgoing.join('')}`);
    // bootstrap entries (the config is already abc), then joint C_old,new
    // (incoming ade, outgoing abc), then C_new after the automatic leave
    expect(seen).toEqual(['abc|', 'abc|', 'abc|', 'ade|abc', 'ade|']);
    expect(net.peer('a').confState).toMatchObject({ voters: ['a', 'd', 'e'], votersOutgoing: [] });
    expect(net.peer('d').confState).toMatchObject({ voters: ['a', 'd', 'e'], votersOutgoing: [] });
  });

  it('§4.3 in C_old,new an entry acknowledged by a majority of C_new alone is not committed', () => {
    const net = cluster();
    net.add('d');
    net.add('e');
    net.node('a').proposeConfChange({
      changes: [
        { type: 'add-voter', nodeId: 'd' },
        { type: 'add-voter', nodeId: 'e' },
        { type: 'remove-node', nodeId: 'b' },
        { type: 'remove-node', nodeId: 'c' },
      ],
      transition: 'joint-explicit',
    });
    net.tick(3);
    expect(net.peer('a').confState).toMatchObject({ voters: ['a', 'd', 'e'], votersOutgoing: ['a', 'b', 'c'] });
    net.stop('b');
    net.stop('c');
    const commit = net.node('a').status().commit;
    net.propose('a', 'needs-both');
    net.tick(1, ['a', 'd', 'e']);
    expect(net.node('a').status().commit).toBe(commit); // a,d,e is a majority of C_new only
    net.start('b');
    net.tick(1);
    expect(net.peer('d').applied).toEqual(['needs-both']);
    // Explicit leave.
    net.node('a').proposeConfChange({ changes: [] });
    net.tick(2);
    expect(net.peer('a').confState).toMatchObject({ voters: ['a', 'd', 'e'], votersOutgoing: [] });
  });

  it('§4.2.2 a leader removed from the configuration steps down and the rest elect a new leader', () => {
    const net = cluster();
    net.propose('a', 'x');
    net.node('a').proposeConfChange({ changes: [{ type: 'remove-node', nodeId: 'a' }] });
    net.flush();
    // a hands leadership to a caught-up voter of the new configuration.
    expect(net.peer('a').sent.some((m) => m.type === 'MsgTimeoutNow')).toBe(true);
    net.tick(2);
    expect(net.node('a').status().role).toBe('follower');
    expect(() => net.node('a').propose(enc('y'))).toThrow(ProposalDroppedError);
    net.tick(30, ['b', 'c']);
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    expect(['b', 'c']).toContain(leaders[0]);
    const l = leaders[0] as string;
    expect(net.node(l).status().confState.voters).toEqual(['b', 'c']);
    net.propose(l, 'z');
    net.tick(1, ['b', 'c']);
    expect(net.peer('b').applied).toEqual(['x', 'z']);
  });

  it('§4.2.2 a leader leaving the voters stops accepting proposals, so the survivor of a 2-voter cluster can win its vote', () => {
    const net = cluster({}, ['a', 'b']);
    net.propose('a', 'x');
    net.node('a').proposeConfChange({ changes: [{ type: 'add-learner', nodeId: 'a' }] }); // demote the leader
    expect(() => net.node('a').propose(enc('y'))).toThrow(/leaving the voters/);
    // b acknowledges the change, but never hears that it committed (nor the
    // leadership hand-off a attempts): a steps down after an election timeout.
    net.filter = (m) => !(m.from === 'a' && net.peer('a').confState?.learners.includes('a'));
    net.flush();
    net.tick(12, ['a']);
    expect(net.node('a').status().role).toBe('follower');
    expect(net.node('b').status().confState.voters).toEqual(['a', 'b']); // b has not applied it
    net.filter = undefined;
    net.tick(40);
    expect(net.leaders()).toEqual(['b']);
    expect(net.peer('b').confState).toMatchObject({ voters: ['b'], learners: ['a'] });
    net.propose('b', 'z');
    net.tick(1);
    expect(net.peer('a').applied).toEqual(['x', 'z']);
  });

  it('learners receive the log, never vote or campaign, and are not counted in the quorum', () => {
    const net = cluster();
    net.add('l');
    net.node('a').proposeConfChange({ changes: [{ type: 'add-learner', nodeId: 'l' }] });
    net.tick(2);
    expect(net.peer('a').confState).toMatchObject({ voters: ['a', 'b', 'c'], learners: ['l'] });
    net.propose('a', 'x');
    net.tick(1);
    expect(net.peer('l').applied).toEqual(['x']);
    // The learner never campaigns.
    net.isolate('l');
    net.tick(50, ['l']);
    expect(net.node('l').status()).toMatchObject({ role: 'follower' });
    expect(net.peer('l').sent.some((m) => m.type === 'MsgVote' || m.type === 'MsgPreVote')).toBe(false);
    net.heal();
    // Not counted: with b and c down, a + learner ack is not a quorum.
    net.stop('b');
    net.stop('c');
    const commit = net.node('a').status().commit;
    net.propose('a', 'y');
    net.tick(1, ['a', 'l']);
    expect(net.peer('l').storage.lastIndex()).toBeGreaterThan(commit);
    expect(net.node('a').status().commit).toBe(commit);
    // Promotion to voter.
    net.start('b');
    net.start('c');
    net.tick(1);
    net.node('a').proposeConfChange({ changes: [{ type: 'add-voter', nodeId: 'l' }] });
    net.tick(2);
    expect(net.peer('l').confState).toMatchObject({ voters: ['a', 'b', 'c', 'l'], learners: [] });
  });
});
