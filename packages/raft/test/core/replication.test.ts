import type { Message } from '../../src/core/types';
import { drain, entriesOf, nodeWith, storageWith } from './fixtures';
import { RawNode } from '../../src/core';
import { enc, Network, seeded } from './network';

/** Makes `a` leader of term `term` over a prepared storage by granting it votes. */
function leaderOf(s: ReturnType<typeof storageWith>, opts: Parameters<typeof nodeWith>[2] = {}): ReturnType<typeof nodeWith> {
  const n = nodeWith('a', s, opts);
  n.campaign();
  const term = n.status().term;
  n.step({ type: 'MsgVoteResp', from: 'b', to: 'a', term });
  n.step({ type: 'MsgVoteResp', from: 'c', to: 'a', term });
  expect(n.status().role).toBe('leader');
  return n;
}

const app = (m: Message[], to?: string): Message[] => m.filter((x) => x.type === 'MsgApp' && (to === undefined || x.to === to));

describe('log replication (Raft paper §5.3, §5.4)', () => {
  it('§5.3 a follower rejects AppendEntries whose previous entry does not match, with a hint of its log', () => {
    const s = storageWith(['a', 'b', 'c'], [1, 1]); // indexes 2,3 at term 1
    const n = nodeWith('b', s);
    n.step({ type: 'MsgApp', from: 'a', to: 'b', term: 3, index: 5, logTerm: 3, entries: [], commit: 1 });
    n.step({ type: 'MsgApp', from: 'a', to: 'b', term: 3, index: 3, logTerm: 2, entries: [], commit: 1 });
    const resps = drain(n, s).filter((m) => m.type === 'MsgAppResp');
    expect(resps.map((m) => ({ reject: m.reject, index: m.index, hint: m.rejectHint, logTerm: m.logTerm }))).toEqual([
      { reject: true, index: 5, hint: 3, logTerm: 1 },
      { reject: true, index: 3, hint: 3, logTerm: 1 },
    ]);
    expect(entriesOf(s).map((e) => e.term)).toEqual([1, 1]);
  });

  it('§5.3 a conflicting entry and all that follow it are deleted and replaced by the leader\'s', () => {
    const s = storageWith(['a', 'b', 'c'], [1, 2, 2, 2]); // 2:1 3:2 4:2 5:2
    const n = nodeWith('b', s);
    const e = (index: number, term: number): { index: number; term: number; type: 'normal'; data: Uint8Array } => ({
      index,
      term,
      type: 'normal',
      data: enc(`${index}@${term}`),
    });
    n.step({ type: 'MsgApp', from: 'a', to: 'b', term: 3, index: 2, logTerm: 1, entries: [e(3, 2), e(4, 3)], commit: 1 });
    const resp = drain(n, s).find((m) => m.type === 'MsgAppResp');
    expect(resp).toMatchObject({ index: 4 });
    expect(resp?.reject).toBeFalsy();
    expect(entriesOf(s)).toEqual([
      { index: 2, term: 1 },
      { index: 3, term: 2 },
      { index: 4, term: 3 },
    ]);
  });

  it('§5.5 AppendEntries is idempotent: a duplicate does not truncate entries that follow it', () => {
    const s = storageWith(['a', 'b', 'c'], [1, 2, 2]);
    const n = nodeWith('b', s);
    const dup: Message = {
      type: 'MsgApp', from: 'a', to: 'b', term: 2, index: 2, logTerm: 1,
      entries: [{ index: 3, term: 2, type: 'normal', data: new Uint8Array([1]) }], commit: 1,
    };
    n.step(dup);
    drain(n, s);
    expect(entriesOf(s)).toEqual([
      { index: 2, term: 1 },
      { index: 3, term: 2 },
      { index: 4, term: 2 },
    ]);
  });

  it('§5.3 a follower learns the commit index from the leader and applies entries up to it', () => {
    const net = new Network(['a', 'b', 'c']);
    net.flush();
    net.elect('a');
    for (let i = 0; i < 5; i++) net.node('a').propose(enc(`v${i}`));
    net.flush();
    net.tick(1);
    for (const id of ['b', 'c']) {
      expect(net.peer(id).applied).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
      expect(net.node(id).status().commit).toBe(net.node('a').status().commit);
    }
  });

  it('§5.4.2 a leader does not commit an entry from a previous term by counting replicas', () => {
    // Figure 8: index 4 (term 2) sits on a majority, but only the current
    // term's entry commits it.
    const s = storageWith(['a', 'b', 'c'], [1, 1, 2]); // 2:1 3:1 4:2
    const n = leaderOf(s, {}); // term 3, appends 5:3
    drain(n, s);
    expect(n.status().commit).toBe(1);
    n.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 3, index: 4 });
    expect(n.status().commit).toBe(1); // a majority holds 4, but its term is 2
    n.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 3, index: 5 });
    expect(n.status().commit).toBe(5); // committing 5:3 commits 4 too (Log Matching)
  });

  it('§5.3 the leader probes back quickly after rejections using the follower\'s term hint (fast back-off)', () => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: false, preVote: false });
    net.flush();
    net.elect('a');
    // b misses 50 entries; once reachable it is caught up without probing entry by entry.
    net.cut('a', 'b');
    for (let i = 0; i < 50; i++) net.node('a').propose(enc(`x${i}`));
    net.flush();
    net.heal();
    const before = net.peer('a').sent.length;
    net.tick(3);
    const rejects = net.peer('b').sent.slice().filter((m) => m.type === 'MsgAppResp' && m.reject);
    expect(net.peer('b').applied).toHaveLength(50);
    expect(rejects.length).toBeLessThanOrEqual(2);
    expect(net.peer('a').sent.length - before).toBeLessThan(40);
  });

  it('§5.3 a follower with a long divergent tail is repaired in a few round trips (one per term, not per entry)', () => {
    // b has 30 entries of term 2 after index 2 that the leader (term 4) never had.
    const sa = storageWith(['a', 'b', 'c'], [1, 3, 3, 3]);
    const sb = storageWith(['a', 'b', 'c'], [1, ...Array.from({ length: 30 }, () => 2)]);
    const a = leaderOf(sa);
    const b = nodeWith('b', sb);
    let msgs = drain(a, sa);
    let rounds = 0;
    for (; rounds < 20; rounds++) {
      const toB = app(msgs, 'b');
      if (toB.length === 0) break;
      for (const m of toB) b.step(m);
      const back = drain(b, sb).filter((m) => m.type === 'MsgAppResp');
      for (const m of back) a.step(m);
      msgs = drain(a, sa);
      if (back.every((m) => !m.reject) && entriesOf(sb).length === entriesOf(sa).length) break;
    }
    expect(entriesOf(sb)).toEqual(entriesOf(sa));
    expect(rounds).toBeLessThanOrEqual(3);
  });

  it('§5.3 (thesis §10.2) the leader pipelines up to maxInflightMsgs MsgApps to a replicating follower, then waits', () => {
    const sa = storageWith(['a', 'b', 'c'], [1]);
    const a = leaderOf(sa, { maxInflightMsgs: 3 });
    drain(a, sa);
    // Bring b into replicate state.
    a.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 2, index: 3 });
    drain(a, sa);
    expect(a.status().progress?.b?.state).toBe('replicate');
    const sent: Message[] = [];
    for (let i = 0; i < 10; i++) {
      a.propose(enc(`p${i}`));
      sent.push(...app(drain(a, sa), 'b'));
    }
    expect(sent.length).toBe(3);
    // An acknowledgement frees the window: more is sent, batched.
    a.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 2, index: 6 });
    const more = app(drain(a, sa), 'b');
    expect(more.length).toBeGreaterThanOrEqual(1);
    expect(more.flatMap((m) => m.entries ?? []).map((e) => e.index)).toEqual([7, 8, 9, 10, 11, 12, 13]);
  });

  it('§5.3 in probe state the leader sends one MsgApp and waits for its answer', () => {
    const sa = storageWith(['a', 'b', 'c'], [1]);
    const a = leaderOf(sa);
    drain(a, sa);
    expect(a.status().progress?.b?.state).toBe('probe');
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) {
      a.propose(enc(`p${i}`));
      sent.push(...app(drain(a, sa), 'b'));
    }
    expect(sent).toHaveLength(0); // the probe from becoming leader is still unanswered
    a.step({ type: 'MsgHeartbeatResp', from: 'b', to: 'a', term: 2 });
    const after = app(drain(a, sa), 'b');
    expect(after).toHaveLength(1);
  });

  it('Figure 2: a Ready carries entries to persist before the messages that acknowledge them (mustSync)', () => {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const b = nodeWith('b', s);
    b.step({
      type: 'MsgApp', from: 'a', to: 'b', term: 2, index: 2, logTerm: 1,
      entries: [{ index: 3, term: 2, type: 'normal', data: enc('x') }], commit: 1,
    });
    const rd = b.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([3]);
    expect(rd.mustSync).toBe(true);
    expect(rd.hardState?.term).toBe(2);
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'MsgAppResp', index: 3 })]);
  });

  it('entries replaced while their Ready is being persisted are handed out again (Ready ordering with concurrent steps)', () => {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const b = nodeWith('b', s);
    const e = (index: number, term: number): { index: number; term: number; type: 'normal'; data: Uint8Array } => ({
      index, term, type: 'normal', data: enc(`${index}@${term}`),
    });
    b.step({ type: 'MsgApp', from: 'a', to: 'b', term: 2, index: 2, logTerm: 1, entries: [e(3, 2), e(4, 2), e(5, 2)], commit: 1 });
    const r1 = b.ready();
    expect(r1.entries.map((x) => x.index)).toEqual([3, 4, 5]);
    // While r1 is being persisted, a new leader overwrites index 5.
    b.step({ type: 'MsgApp', from: 'c', to: 'b', term: 3, index: 4, logTerm: 2, entries: [e(5, 3)], commit: 1 });
    s.append(r1.entries);
    if (r1.hardState) s.setHardState(r1.hardState);
    b.advance();
    const r2 = b.ready();
    s.append(r2.entries);
    b.advance();
    expect(r2.entries.map((x) => `${x.index}@${x.term}`)).toContain('5@3');
    expect(entriesOf(s)).toEqual([
      { index: 2, term: 1 },
      { index: 3, term: 2 },
      { index: 4, term: 2 },
      { index: 5, term: 3 },
    ]);
    // The acknowledgement of the replacement travels with the Ready that persists it.
    expect(r2.messages).toEqual([expect.objectContaining({ type: 'MsgAppResp', to: 'c', index: 5 })]);
  });

  it('batching: proposals made between two Readies travel in one MsgApp per follower, split at maxSizePerMsg', () => {
    const sa = storageWith(['a', 'b', 'c'], [1]);
    const a = leaderOf(sa, {});
    drain(a, sa);
    a.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 2, index: 3 });
    a.step({ type: 'MsgAppResp', from: 'c', to: 'a', term: 2, index: 3 });
    drain(a, sa);
    for (let i = 0; i < 100; i++) a.propose(enc(`p${i}`));
    const msgs = app(drain(a, sa));
    expect(msgs.map((m) => [m.to, m.entries?.length])).toEqual([
      ['b', 100],
      ['c', 100],
    ]);
    // With a small maxSizePerMsg the same batch is split (pipelined) into several messages.
    const sb = storageWith(['a', 'b', 'c'], [1]);
    const small = new RawNode({ id: 'a', storage: sb, applied: 1, random: seeded(1), maxSizePerMsg: 200, preVote: false });
    small.campaign();
    small.step({ type: 'MsgVoteResp', from: 'b', to: 'a', term: 2 });
    drain(small, sb);
    small.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 2, index: 3 });
    drain(small, sb);
    for (let i = 0; i < 100; i++) small.propose(enc(`p${i}`));
    const split = app(drain(small, sb), 'b');
    expect(split.length).toBeGreaterThan(5);
    expect(split.flatMap((m) => m.entries ?? []).map((e) => e.index)).toEqual(Array.from({ length: 100 }, (_, i) => i + 4));
    for (const m of split) expect((m.entries ?? []).reduce((n, e) => n + e.data.length + 16, 0)).toBeLessThanOrEqual(200);
  });
});
