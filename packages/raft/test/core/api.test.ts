import {
  ConfChangeDecodeError,
  decodeConfChange,
  encodeConfChange,
  MemoryStorage,
  ProposalDroppedError,
  RaftUsageError,
  RawNode,
} from '../../src/core';
import { InvalidOptionsError, isWeftError } from '@weft/interface';
import type { ConfChange } from '../../src/core/types';
import { drain, nodeWith, storageWith } from './fixtures';
import { seeded } from './network';

const base = () => ({ id: 'a', storage: new MemoryStorage(), random: seeded(1) });

describe('RawNode options (zod)', () => {
  it.each([
    [{ id: '' }, 'id', /^RawNode: option "id" .* \(got ""\)$/],
    [{ electionTick: 0 }, 'electionTick', /^RawNode: option "electionTick" .*\(got 0\)$/],
    [{ heartbeatTick: 10, electionTick: 10 }, 'electionTick', /^RawNode: option "electionTick" must be greater than heartbeatTick/],
    [{ maxInflightMsgs: 1.5 }, 'maxInflightMsgs', /^RawNode: option "maxInflightMsgs" .*\(got 1\.5\)$/],
    [{ random: 4 }, 'random', /^RawNode: option "random" must be a function/],
    [{ storage: {} }, 'storage', /^RawNode: option "storage" must implement RaftStorage/],
    [{ peers: ['a', ''] }, 'peers.1', /^RawNode: option "peers\.1" /],
  ])('rejects %j with a one-line InvalidOptionsError naming the field', (bad, field, msg) => {
    const cfg = { ...base(), ...bad } as unknown as ConstructorParameters<typeof RawNode>[0];
    let err: unknown;
    try {
      new RawNode(cfg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(isWeftError(err, 'ERR_INVALID_OPTIONS')).toBe(true);
    expect((err as InvalidOptionsError).field).toBe(field);
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message).not.toContain('\n');
  });

  it('rejects an applied index beyond the commit index', () => {
    expect(() => new RawNode({ ...base(), applied: 5 })).toThrow(/RawNode: option "applied" .*\(got 5\)/);
    expect(() => new RawNode({ ...base(), applied: 5 })).toThrow(InvalidOptionsError);
  });

  it('bootstraps from peers only when storage is empty', () => {
    const n = new RawNode({ ...base(), peers: ['c', 'a', 'b'] });
    const rd = n.ready();
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([
      [1, 1, 'conf-change'],
      [2, 1, 'conf-change'],
      [3, 1, 'conf-change'],
    ]);
    expect(rd.committedEntries).toHaveLength(3);
    expect(rd.hardState).toEqual({ term: 1, vote: null, commit: 3 });
    expect(n.status().confState.voters).toEqual(['a', 'b', 'c']);
  });
});

describe('RawNode usage', () => {
  it('ready() twice without advance() is a usage error; so is advance() without ready()', () => {
    const n = new RawNode({ ...base(), peers: ['a', 'b'] });
    n.ready();
    expect(n.hasReady()).toBe(false);
    expect(() => n.ready()).toThrow(RaftUsageError);
    n.advance();
    expect(() => n.advance()).toThrow(RaftUsageError);
  });

  it('propose on a follower throws ProposalDroppedError carrying the known leader', () => {
    const n = new RawNode({ ...base(), peers: ['a', 'b'] });
    n.ready();
    n.advance();
    n.step({ type: 'MsgHeartbeat', from: 'b', to: 'a', term: 2, commit: 0 });
    let err: unknown;
    try {
      n.propose(new Uint8Array([1]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProposalDroppedError);
    expect((err as ProposalDroppedError).leader).toBe('b');
    expect((err as ProposalDroppedError).name).toBe('ProposalDroppedError');
  });

  it('step refuses local-only message types', () => {
    const n = new RawNode({ ...base(), peers: ['a'] });
    expect(() => n.step({ type: 'MsgHup', from: 'a', to: 'a', term: 0 })).toThrow(RaftUsageError);
  });

  it('a single voter elects itself and commits a proposal once its own write is persisted', () => {
    const s = new MemoryStorage();
    const n = new RawNode({ id: 'a', storage: s, peers: ['a'], random: seeded(3) });
    let rd = n.ready();
    s.append(rd.entries);
    n.advance();
    n.campaign();
    n.propose(new Uint8Array([42]));
    rd = n.ready();
    expect(rd.softState).toEqual({ leader: 'a', role: 'leader' });
    expect(rd.entries.map((e) => e.index)).toEqual([2, 3]);
    // Its own entries count towards the quorum only once advance() reports them on disk.
    expect(rd.committedEntries).toEqual([]);
    expect(rd.mustSync).toBe(true);
    s.append(rd.entries);
    if (rd.hardState) s.setHardState(rd.hardState);
    n.advance();
    rd = n.ready();
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2, 3]); // 1 was applied with the first Ready
  });
});

describe('a leader counts its own entries only once persisted (thesis §10.2.1)', () => {
  /** Leader a of voters a, b, c in term 2, its no-op (index 3) committed; returns it and its storage. */
  function leader(): { n: RawNode; s: MemoryStorage } {
    const s = storageWith(['a', 'b', 'c'], [1]);
    const n = nodeWith('a', s);
    n.campaign();
    drain(n, s);
    n.step({ type: 'MsgVoteResp', from: 'b', to: 'a', term: 2 });
    drain(n, s);
    n.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 2, index: 3 });
    drain(n, s);
    expect(n.status().commit).toBe(3);
    return { n, s };
  }

  it('one follower’s acknowledgement while the leader’s own write is in flight does not commit', () => {
    const { n, s } = leader();
    n.propose(new Uint8Array([7]));
    const rd = n.ready(); // the driver may send rd.messages now, before persisting rd.entries
    expect(rd.entries.map((e) => e.index)).toEqual([4]);
    expect(rd.messages.some((m) => m.type === 'MsgApp' && m.to === 'b' && m.entries?.[0]?.index === 4)).toBe(true);
    n.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 2, index: 4 });
    expect(n.status().commit).toBe(3); // a and b would be a majority, but a's copy is not durable yet
    s.append(rd.entries);
    n.advance();
    expect(n.status().commit).toBe(4);
  });

  it('two followers’ acknowledgements commit before the leader’s own write finishes', () => {
    const { n } = leader();
    n.propose(new Uint8Array([7]));
    n.ready();
    n.step({ type: 'MsgAppResp', from: 'b', to: 'a', term: 2, index: 4 });
    n.step({ type: 'MsgAppResp', from: 'c', to: 'a', term: 2, index: 4 });
    expect(n.status().commit).toBe(4); // b and c hold it durably: a majority without the leader
  });
});

describe('Ready size limits', () => {
  it('maxCommittedSizePerReady spreads committed entries over several Readies (at least one each)', () => {
    const s = new MemoryStorage();
    const n = new RawNode({ id: 'a', storage: s, peers: ['a'], random: seeded(3), maxCommittedSizePerReady: 40 });
    const batches: number[][] = [];
    const pump = (): void => {
      for (let i = 0; i < 50 && n.hasReady(); i++) {
        const rd = n.ready();
        s.append(rd.entries);
        if (rd.hardState) s.setHardState(rd.hardState);
        if (rd.committedEntries.length > 0) batches.push(rd.committedEntries.map((e) => e.index));
        n.advance();
      }
    };
    pump();
    n.campaign();
    pump();
    batches.length = 0;
    for (let i = 0; i < 6; i++) n.propose(new Uint8Array(10)); // 26 bytes each with the 16-byte overhead
    pump();
    expect(batches).toEqual([[3], [4], [5], [6], [7], [8]]);
  });
});

describe('conf change codec', () => {
  const cases: ConfChange[] = [
    { changes: [{ type: 'add-voter', nodeId: 'n1' }], transition: 'auto' },
    {
      changes: [
        { type: 'add-learner', nodeId: 'ünï' },
        { type: 'remove-node', nodeId: 'x' },
      ],
      transition: 'joint-explicit',
      context: new Uint8Array([1, 2, 3]),
    },
    { changes: [], transition: 'auto' },
  ];
  it.each(cases)('round-trips %j', (cc) => {
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('pins the byte layout', () => {
    const bytes = encodeConfChange({ changes: [{ type: 'remove-node', nodeId: 'ab' }], transition: 'joint' });
    expect(Buffer.from(bytes).toString('hex')).toBe('01010001' + '020002' + '6162' + '00');
  });

  it.each([
    ['', /truncated header/],
    ['02000000' + '00', /version: unsupported \(got 2\)/],
    ['01070000' + '00', /transition: unknown code \(got 7\)/],
    ['01000001' + '090001' + '61' + '00', /type: unknown code \(got 9\)/],
    ['01000001' + '000005' + '61', /truncated node id/],
    ['01000000' + '01' + '00000009' + '00', /truncated context/],
    ['01000000' + '00' + 'ff', /1 trailing bytes/],
    ['01000001' + '000000' + '00', /nodeId: empty/],
  ])('rejects %s', (hex, msg) => {
    const b = Buffer.from(hex, 'hex');
    expect(() => decodeConfChange(new Uint8Array(b))).toThrow(ConfChangeDecodeError);
    expect(() => decodeConfChange(new Uint8Array(b))).toThrow(msg);
  });
});
