import fc from 'fast-check';
import type { Entry, Message, MessageType } from '../../src/core/types';
import { MalformedPacketError } from '@weft/interface';
import { decodeMessage, encodeMessage, FrameDecoder, MessageEncodeError, messageEncodingLength, writeFrameHeader } from '../../src/transport';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/**
 * Hand-assembled from the wire layout documented in docs/raft.md (not produced
 * by the encoder): a MsgApp from "n1" to "n2", term 5, logTerm 4, index 9,
 * one normal entry (term 5, index 10, data "hi"), commit 8.
 */
const MSG_APP_HEX = [
  ['01', 'version 1'],
  ['03', 'type code 3 = MsgApp'],
  ['000f', 'flags: logTerm | index | entries | commit'],
  ['0002 6e31', 'from "n1"'],
  ['0002 6e32', 'to "n2"'],
  ['0000000000000005', 'term 5'],
  ['0000000000000004', 'logTerm 4'],
  ['0000000000000009', 'index 9'],
  ['00000001', 'entry count 1'],
  ['0000000000000005', '  entry term 5'],
  ['000000000000000a', '  entry index 10'],
  ['00', '  entry type normal'],
  ['00000002 6869', '  entry data "hi"'],
  ['0000000000000008', 'commit 8'],
]
  .map(([h]) => h)
  .join('');

describe('message codec', () => {
  test('decodes hand-assembled MsgApp bytes', () => {
    const buf = bytes(MSG_APP_HEX);
    const m = decodeMessage(buf);
    expect(m).toMatchObject({ type: 'MsgApp', from: 'n1', to: 'n2', term: 5, logTerm: 4, index: 9, commit: 8 });
    expect(m.entries).toHaveLength(1);
    expect(m.entries![0]).toMatchObject({ term: 5, index: 10, type: 'normal' });
    expect(new TextDecoder().decode(m.entries![0]!.data)).toBe('hi');
    // and the encoder produces exactly these bytes
    expect(hex(encodeMessage(m).buf)).toBe(hex(buf));
  });

  const id = fc.constantFrom('n1', 'n2', 'node-ü', 'x'.repeat(40));
  const num = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  const data = fc.uint8Array({ maxLength: 64 });
  const confState = fc.record({
    voters: fc.array(id, { maxLength: 4 }),
    learners: fc.array(id, { maxLength: 2 }),
    votersOutgoing: fc.array(id, { maxLength: 2 }),
    learnersNext: fc.array(id, { maxLength: 2 }),
    autoLeave: fc.boolean(),
  });
  const wireTypes: MessageType[] = ['MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgSnap', 'MsgHeartbeat', 'MsgHeartbeatResp', 'MsgTransferLeader', 'MsgTimeoutNow', 'MsgReadIndex', 'MsgReadIndexResp'];
  const message: fc.Arbitrary<Message> = fc
    .record(
      {
        type: fc.constantFrom(...wireTypes),
        term: fc.integer({ min: 0, max: 1e12 }),
        logTerm: num,
        index: fc.integer({ min: 0, max: 1e12 }),
        nEntries: fc.integer({ min: 0, max: 5 }),
        entryData: data,
        commit: num,
        reject: fc.boolean(),
        rejectHint: num,
        snapshot: fc.record({ meta: fc.record({ index: num, term: num, confState }), data }),
        context: data,
        entryType: fc.constantFrom<Entry['type']>('normal', 'conf-change'),
      },
      { requiredKeys: ['type', 'term'] },
    )
    .map((r) => {
      const m: Record<string, unknown> = { type: r.type, from: 'n1', to: 'n2', term: r.term };
      for (const k of ['logTerm', 'commit', 'reject', 'rejectHint', 'snapshot', 'context'] as const) if (r[k] !== undefined) m[k] = r[k];
      if (r.index !== undefined) m.index = r.index;
      if (r.nEntries !== undefined) {
        const base = r.index ?? 0;
        m.entries = Array.from({ length: r.nEntries }, (_, i) => ({ term: Math.min(r.term, i + 1), index: base + 1 + i, type: r.entryType ?? 'normal', data: r.entryData ?? new Uint8Array(0) }));
      }
      return m as unknown as Message;
    });

  test('round-trip: decode(encode(m)) equals m; encodingLength matches; works at an offset', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: 7 }), (m, offset) => {
        const len = messageEncodingLength(m);
        const { buf, bytes: n } = encodeMessage(m);
        expect(n).toBe(len);
        expect(buf.length).toBe(len);
        const roundTrip = decodeMessage(buf);
        expect(normalize(roundTrip)).toEqual(normalize(m));
        const big = new Uint8Array(len + offset + 3);
        const r = encodeMessage(m, big, offset);
        expect(r.bytes).toBe(len);
        expect(hex(big.subarray(offset, offset + len))).toBe(hex(buf));
        expect(normalize(decodeMessage(big, offset, offset + len))).toEqual(normalize(m));
      }),
      { numRuns: 300 },
    );
  });

  test('every truncation of a valid message throws MalformedPacketError (layer raft-message)', () => {
    const { buf } = encodeMessage({
      type: 'MsgSnap',
      from: 'n1',
      to: 'n2',
      term: 3,
      snapshot: { meta: { index: 7, term: 2, confState: { voters: ['n1', 'n2'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: Uint8Array.of(1, 2, 3) },
    });
    for (let n = 0; n < buf.length; n++) {
      expect(() => decodeMessage(buf.subarray(0, n))).toThrow(MalformedPacketError);
      expect(() => decodeMessage(buf.subarray(0, n))).toThrow(expect.objectContaining({ layer: 'raft-message', code: 'ERR_MALFORMED_PACKET' }));
    }
  });

  const base = () => encodeMessage({ type: 'MsgHeartbeat', from: 'n1', to: 'n2', term: 1, commit: 0 }).buf;
  test.each([
    ['bad version', (b: Uint8Array) => (b[0] = 2), /unsupported version 2/],
    ['unknown type code', (b: Uint8Array) => (b[1] = 200), /unknown type code 200/],
    ['local-only type (MsgHup)', (b: Uint8Array) => (b[1] = 0), /local-only/],
    ['unknown flag bit', (b: Uint8Array) => (b[2] = 0x80), /unknown flag bits/],
  ])('rejects %s', (_name, mutate, re) => {
    const b = base();
    mutate(b);
    expect(() => decodeMessage(b)).toThrow(re);
  });

  test('rejects trailing bytes, from == to, empty id, unsafe integers, non-contiguous entries, entry term above message term', () => {
    const b = base();
    const long = new Uint8Array(b.length + 1);
    long.set(b);
    expect(() => decodeMessage(long)).toThrow(/trailing/);
    expect(() => decodeMessage(encodeMessage({ type: 'MsgHeartbeat', from: 'n1', to: 'n1', term: 1 }).buf)).toThrow(/from and to/);
    expect(() => decodeMessage(encodeMessage({ type: 'MsgHeartbeat', from: '', to: 'n1', term: 1 }).buf)).toThrow(/from is empty/);
    const unsafe = encodeMessage({ type: 'MsgHeartbeat', from: 'n1', to: 'n2', term: 1 }).buf;
    unsafe.set([0xff, 0xff, 0xff, 0xff], unsafe.length - 8);
    expect(() => decodeMessage(unsafe)).toThrow(/not a safe integer/);
    const e = (index: number, term = 1): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });
    expect(() => decodeMessage(encodeMessage({ type: 'MsgApp', from: 'n1', to: 'n2', term: 1, index: 4, logTerm: 1, entries: [e(5), e(7)] }).buf)).toThrow(/expected 6/);
    expect(() => decodeMessage(encodeMessage({ type: 'MsgApp', from: 'n1', to: 'n2', term: 1, index: 4, logTerm: 1, entries: [e(5, 2)] }).buf)).toThrow(/above the message term/);
    // An entry count the frame cannot hold is refused before allocating.
    const hb = encodeMessage({ type: 'MsgApp', from: 'n1', to: 'n2', term: 1, index: 0, entries: [] }).buf;
    hb.set([0xff, 0xff, 0xff, 0xff], hb.length - 4);
    expect(() => decodeMessage(hb)).toThrow(/does not fit/);
  });

  test('random bytes never throw anything but MalformedPacketError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeMessage(b);
        } catch (err) {
          expect(err).toBeInstanceOf(MalformedPacketError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('FrameDecoder', () => {
  const frame = (payload: number[]) => {
    const b = new Uint8Array(4 + payload.length);
    writeFrameHeader(b, 0, payload.length);
    b.set(payload, 4);
    return b;
  };

  test('reassembles frames split at every byte boundary', () => {
    const stream = new Uint8Array([...frame([1, 2, 3]), ...frame([]), ...frame([9])]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const got: number[][] = [];
      d.push(stream.slice(0, cut), (p) => got.push(Array.from(p)));
      d.push(stream.slice(cut), (p) => got.push(Array.from(p)));
      expect(got).toEqual([[1, 2, 3], [], [9]]);
      expect(d.bufferedBytes).toBe(0);
    }
  });

  test('a declared length above the limit throws MalformedPacketError (layer raft-frame)', () => {
    const d = new FrameDecoder(16);
    expect(() => d.push(frame(new Array(17).fill(0)), () => {})).toThrow(/^raft-frame: declared length 17 exceeds the limit of 16/);
    expect(() => new FrameDecoder(16).push(frame(new Array(17).fill(0)), () => {})).toThrow(MalformedPacketError);
    expect(() => new FrameDecoder(-1)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'maxFrameBytes' }));
  });

  test('encoding an unknown type or into a short buffer throws MessageEncodeError', () => {
    const m: Message = { type: 'MsgHeartbeat', from: 'n1', to: 'n2', term: 1 };
    expect(() => encodeMessage(m, new Uint8Array(messageEncodingLength(m) - 1))).toThrow(MessageEncodeError);
    expect(() => encodeMessage({ ...m, type: 'MsgNope' as MessageType })).toThrow(expect.objectContaining({ name: 'MessageEncodeError', code: 'ERR_RAFT_MESSAGE_ENCODE' }));
  });
});

/** Views and absent fields compare by value. */
function normalize(m: Message): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)));
}
