import fc from 'fast-check';
import {
  checkLinearizability,
  InvalidHistoryError,
  kvModel,
  type KvModelInput,
  type KvModelOutput,
  type Operation,
} from '@weft/raft/testing';

type Op = Operation<KvModelInput, KvModelOutput>;

const put = (clientId: number, key: string, value: string, call: number, ret: number): Op => ({
  clientId,
  input: { op: 'put', key, value },
  call,
  return: ret,
});
const get = (clientId: number, key: string, output: string | null, call: number, ret: number): Op => ({
  clientId,
  input: { op: 'get', key },
  call,
  return: ret,
  output,
});
const cas = (clientId: number, key: string, expected: string | null, value: string, output: boolean, call: number, ret: number): Op => ({
  clientId,
  input: { op: 'cas', key, expected, value },
  call,
  return: ret,
  output,
});
const unknownPut = (clientId: number, key: string, value: string, call: number): Op => ({
  clientId,
  input: { op: 'put', key, value },
  call,
  unknown: true,
});

describe('checkLinearizability with the KV model', () => {
  it('accepts a sequential history with the right outputs', () => {
    const h = [put(0, 'x', '1', 0, 10), get(1, 'x', '1', 20, 30), put(0, 'x', '2', 40, 50), get(1, 'x', '2', 60, 70)];
    expect(checkLinearizability(kvModel, h).result).toBe('ok');
  });

  it('rejects a stale read after a completed write and names the key and operations', () => {
    const h = [put(0, 'x', '1', 0, 10), get(1, 'x', null, 20, 30)];
    const r = checkLinearizability(kvModel, h);
    expect(r.result).toBe('illegal');
    if (r.result !== 'illegal') return;
    expect(r.explanation.partition).toBe('x');
    expect(r.explanation.linearized.map((o) => o.input.op)).toEqual(['put']);
    expect(r.explanation.candidates.map((o) => o.input.op)).toEqual(['get']);
    expect(r.explanation.message).toContain('get(x) -> null');
  });

  it('accepts either value for a read concurrent with a write', () => {
    for (const seen of [null, '1']) {
      const h = [put(0, 'x', '1', 0, 10), get(1, 'x', seen, 5, 15)];
      expect(checkLinearizability(kvModel, h).result).toBe('ok');
    }
  });

  // Porcupine's README example (an etcd-like register starting at 0, here at "0").
  it('accepts the classic concurrent read/write example', () => {
    const h = [
      put(0, 'x', '0', -10, -5),
      put(0, 'x', '100', 0, 100),
      get(1, 'x', '100', 25, 75),
      get(2, 'x', '0', 30, 60),
    ];
    expect(checkLinearizability(kvModel, h).result).toBe('ok');
  });

  it('rejects the classic new-old inversion (a later read sees the older value)', () => {
    const h = [
      put(0, 'x', '0', -10, -5),
      put(0, 'x', '200', 0, 100),
      get(1, 'x', '200', 10, 30),
      get(2, 'x', '0', 40, 90),
    ];
    const r = checkLinearizability(kvModel, h);
    expect(r.result).toBe('illegal');
  });

  it('rejects a read of a value nobody wrote', () => {
    const h = [put(0, 'x', '1', 0, 10), get(1, 'x', '7', 0, 30)];
    expect(checkLinearizability(kvModel, h).result).toBe('illegal');
  });

  it('rejects two concurrent compare-and-swaps that both succeed from the same value', () => {
    const h = [cas(0, 'x', null, 'a', true, 0, 10), cas(1, 'x', null, 'b', true, 0, 10)];
    expect(checkLinearizability(kvModel, h).result).toBe('illegal');
    const h2 = [cas(0, 'x', null, 'a', true, 0, 10), cas(1, 'x', null, 'b', false, 0, 10), get(2, 'x', 'a', 11, 12)];
    expect(checkLinearizability(kvModel, h2).result).toBe('ok');
  });

  it('lets an unknown write take effect late, or never', () => {
    expect(checkLinearizability(kvModel, [unknownPut(0, 'x', '1', 0), get(1, 'x', '1', 50, 60)]).result).toBe('ok');
    expect(checkLinearizability(kvModel, [unknownPut(0, 'x', '1', 0), get(1, 'x', null, 50, 60)]).result).toBe('ok');
    const late = [unknownPut(0, 'x', '1', 0), get(1, 'x', null, 10, 20), get(1, 'x', '1', 30, 40)];
    expect(checkLinearizability(kvModel, late).result).toBe('ok');
  });

  it('does not let an unknown write take effect before its call, nor be undone', () => {
    const early = [get(1, 'x', '1', 0, 5), unknownPut(0, 'x', '1', 10)];
    expect(checkLinearizability(kvModel, early).result).toBe('illegal');
    const undone = [unknownPut(0, 'x', '1', 0), get(1, 'x', '1', 10, 20), get(1, 'x', null, 30, 40)];
    expect(checkLinearizability(kvModel, undone).result).toBe('illegal');
  });

  it('treats equal times as concurrent', () => {
    const h = [put(0, 'x', '1', 0, 10), get(1, 'x', null, 10, 20)];
    expect(checkLinearizability(kvModel, h).result).toBe('ok');
  });

  it('checks keys independently and reports the failing key', () => {
    const h = [
      put(0, 'a', '1', 0, 10),
      get(1, 'a', '1', 20, 30),
      put(0, 'b', '1', 0, 10),
      get(1, 'b', null, 20, 30),
      get(1, 'b', '1', 40, 50),
    ];
    const r = checkLinearizability(kvModel, h);
    expect(r.result).toBe('illegal');
    if (r.result === 'illegal') expect(r.explanation.partition).toBe('b');
    expect(r.partitions).toBe(2);
  });

  it('returns unknown when the budget runs out', () => {
    const h: Op[] = [];
    for (let i = 0; i < 12; i++) h.push(put(i, 'x', String(i), 0, 100));
    h.push(get(99, 'x', 'never', 200, 210));
    const r = checkLinearizability(kvModel, h, { budget: 50 });
    expect(r.result).toBe('unknown');
    if (r.result === 'unknown') expect(r.exhausted).toEqual(['x']);
    // with the default budget the memoized search proves it illegal
    expect(checkLinearizability(kvModel, h).result).toBe('illegal');
  });

  it('rejects malformed histories with a typed error', () => {
    expect(() => checkLinearizability(kvModel, [get(0, 'x', null, 10, 5)])).toThrow(InvalidHistoryError);
    expect(() => checkLinearizability(kvModel, [{ clientId: 0, input: { op: 'get', key: 'x' }, call: 0 }])).toThrow(
      /operation #0: return time must be finite/,
    );
    expect(() => checkLinearizability(kvModel, [get(0, 'x', null, NaN, 5)])).toThrow(/call time must be finite/);
    expect(() => checkLinearizability(kvModel, [get(0, 'x', null, 10, 5)])).toThrow(expect.objectContaining({ code: 'ERR_RAFT_INVALID_HISTORY' }));
  });

  it('rejects a bad budget with InvalidOptionsError', () => {
    expect(() => checkLinearizability(kvModel, [], { budget: 0 })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'budget' }));
  });

  it('handles a long history with many overlapping operations quickly', () => {
    // 6 clients, 300 ops on one key, each overlapping its neighbours; outputs from a sequential run.
    const h: Op[] = [];
    let value: string | null = null;
    for (let i = 0; i < 300; i++) {
      const t = i * 10;
      if (i % 3 === 0) {
        value = String(i);
        h.push(put(i % 6, 'x', value, t - 15, t + 15));
      } else h.push(get(i % 6, 'x', value, t - 15, t + 15));
    }
    expect(checkLinearizability(kvModel, h).result).toBe('ok');
  });
});

/** A random operation against a small key set. */
const inputArb: fc.Arbitrary<KvModelInput> = fc.oneof(
  fc.record({ op: fc.constant('get' as const), key: fc.constantFrom('a', 'b') }),
  fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b'), value: fc.constantFrom('1', '2', '3') }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b') }),
  fc.record({
    op: fc.constant('cas' as const),
    key: fc.constantFrom('a', 'b'),
    expected: fc.constantFrom(null, '1', '2'),
    value: fc.constantFrom('1', '2', '3'),
  }),
);

/** Runs the inputs one at a time; op i takes effect at time 10·i, its call/return windows are widened by the given slack. */
function sequentialHistory(
  steps: readonly { input: KvModelInput; before: number; after: number; fate: 'known' | 'unknown' | 'lost' }[],
): Op[] {
  const state = new Map<string, string | null>();
  return steps.map((s, i) => {
    const t = i * 10;
    const cur = state.get(s.input.key) ?? null;
    const [, next] = kvModel.step(cur, s.input, undefined, true);
    let output: KvModelOutput;
    if (s.input.op === 'get') output = cur;
    else if (s.input.op === 'cas') output = cur === s.input.expected;
    if (s.fate !== 'lost') state.set(s.input.key, next);
    const base = { clientId: i % 4, input: s.input, call: t - s.before };
    return s.fate === 'known' ? { ...base, return: t + s.after, output } : { ...base, unknown: true };
  });
}

describe('checkLinearizability properties', () => {
  const stepArb = fc.record({
    input: inputArb,
    before: fc.integer({ min: 0, max: 35 }),
    after: fc.integer({ min: 0, max: 35 }),
    fate: fc.constantFrom('known', 'known', 'known', 'unknown', 'lost'),
  });

  it('accepts every history produced by a sequential execution (overlaps and unknown outcomes included)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), fc.boolean(), (steps, shuffle) => {
        // "lost" ops never took effect; only writes may be lost (a read with an unknown outcome is harmless).
        const h = sequentialHistory(steps);
        const input = shuffle ? [...h].reverse() : h;
        expect(checkLinearizability(kvModel, input).result).toBe('ok');
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a strictly sequential history in which one read returns a wrong value', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { minLength: 1, maxLength: 40 }), fc.nat(), (inputs, pick) => {
        const h = sequentialHistory(inputs.map((input) => ({ input, before: 0, after: 0, fate: 'known' as const })));
        // make each op strictly after the previous one
        const strict: Op[] = h.map((o, i) => ({ ...o, call: i * 10, return: i * 10 + 5 }));
        const reads = strict.map((o, i) => (o.input.op === 'get' ? i : -1)).filter((i) => i >= 0);
        fc.pre(reads.length > 0);
        const at = reads[pick % reads.length] as number;
        const wrong = strict[at]?.output === 'x' ? 'y' : 'x';
        strict[at] = { ...(strict[at] as Op), output: wrong };
        const r = checkLinearizability(kvModel, strict);
        expect(r.result).toBe('illegal');
        if (r.result === 'illegal') expect(r.explanation.partition).toBe(strict[at]?.input.key);
      }),
      { numRuns: 300 },
    );
  });
});
