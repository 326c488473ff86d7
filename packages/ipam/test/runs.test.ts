/** The run-list set and its snapshot encodings against a plain Set model. */
import fc from 'fast-check';
import { bigintRuns, numberRuns, type RunOps, type Runs } from '../src/alloc/runs';
import { decodeUsed, encodeUsed } from '../src/snapshot/runs-codec';

const LO = 3;
const HI = 60;

type Op = { kind: 'toggle'; x: number } | { kind: 'next'; from: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('toggle' as const), x: fc.integer({ min: LO, max: HI }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('next' as const), from: fc.integer({ min: 0, max: HI + 5 }) }) },
);

function check<T>(ops: RunOps<T>, of: (n: number) => T, script: Op[]): void {
  const r: Runs<T> = { starts: [], ends: [] };
  const model = new Set<number>();
  for (const op of script) {
    if (op.kind === 'toggle') {
      if (model.has(op.x)) {
        ops.remove(r, of(op.x));
        model.delete(op.x);
      } else {
        ops.add(r, of(op.x));
        model.add(op.x);
      }
    } else if (model.size < HI - LO + 1) {
      let want = op.from < LO || op.from > HI ? LO : op.from;
      while (model.has(want)) want = want === HI ? LO : want + 1;
      const got = ops.nextFree(r, of(op.from), of(LO), of(HI));
      if (got !== of(want)) throw new Error(`nextFree(${op.from}) = ${String(got)}, want ${want}`);
    }
    // Runs are sorted, disjoint, non-adjacent and hold exactly the model's members.
    for (let i = 0; i < r.starts.length; i++) {
      const gapOk = i === 0 || ops.toNumber(r.starts[i] as T) - ops.toNumber(r.ends[i - 1] as T) >= 2;
      if (!((r.starts[i] as T) <= (r.ends[i] as T)) || !gapOk) throw new Error(`runs not canonical: ${String(r.starts)} / ${String(r.ends)}`);
    }
    if (r.starts.length !== r.ends.length || ops.count(r) !== model.size) throw new Error(`count ${ops.count(r)} != ${model.size}`);
  }
  for (let x = LO; x <= HI; x++) if (ops.has(r, of(x)) !== model.has(x)) throw new Error(`has(${x}) disagrees`);
  // Both snapshot encodings decode to the same runs.
  for (const bitmap of [false, true]) {
    const text = encodeUsed(r as Runs<number> | Runs<bigint>, BigInt(LO), BigInt(HI), bitmap);
    const back = decodeUsed(text, BigInt(LO), BigInt(HI), 'test');
    expect(back.starts).toEqual(r.starts.map((x) => BigInt(x as number | bigint)));
    expect(back.ends).toEqual(r.ends.map((x) => BigInt(x as number | bigint)));
  }
}

describe('run-list sets', () => {
  it('numberRuns behaves like a Set (add, remove, has, nextFree with wrap-around, count)', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 50, maxLength: 400, size: 'max' }), (script) => check(numberRuns, (n) => n, script)), { numRuns: 200 });
  });

  it('bigintRuns behaves like a Set', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 50, maxLength: 400, size: 'max' }), (script) => check(bigintRuns, (n) => BigInt(n), script)), { numRuns: 100 });
  });

  it('the snapshot picks the bitset when it is shorter than the runs, runs on a tie', () => {
    const checker: Runs<number> = { starts: [], ends: [] };
    for (let x = 0; x < 64; x += 2) numberRuns.add(checker, x);
    expect(encodeUsed(checker, 0n, 63n, true)).toBe('b' + Buffer.alloc(8, 0x55).toString('base64url'));
    expect(encodeUsed(checker, 0n, 63n, false).startsWith('r')).toBe(true);
    const one: Runs<number> = { starts: [0], ends: [63] };
    expect(encodeUsed(one, 0n, 63n, true)).toBe('r' + Buffer.from([0, 63]).toString('base64url'));
  });
});
