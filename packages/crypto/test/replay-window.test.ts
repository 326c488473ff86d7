import fc from 'fast-check';
import { InvalidOptionsError, REPLAY_DUPLICATE, REPLAY_OK, REPLAY_OLD, ReplayWindow } from '../src';

const TWO_32 = 2 ** 32;

/** A reference model: a Set of accepted numbers and the RFC 4303 §3.4.3 rule. */
function modelCheck(accepted: Set<number>, top: number, size: number, seq: number): number {
  if (seq > top) return REPLAY_OK;
  if (seq <= 0 || top - seq >= size) return REPLAY_OLD;
  return accepted.has(seq) ? REPLAY_DUPLICATE : REPLAY_OK;
}

describe('ReplayWindow (RFC 4303 §3.4.3)', () => {
  it('defaults to 2048 packets and validates the size', () => {
    expect(new ReplayWindow().size).toBe(2048);
    expect(new ReplayWindow(64).size).toBe(64);
    for (const bad of [0, 31, 48, 65568, 1.5]) expect(() => new ReplayWindow(bad)).toThrow(InvalidOptionsError);
    expect(() => new ReplayWindow(48)).toThrow(/^ReplayWindow: option "size" must be a multiple of 32 between 32 and 65536 packets \(got 48\)$/);
    expect(() => new ReplayWindow('64' as never)).toThrow(InvalidOptionsError);
  });

  it('accepts in-order, rejects duplicates, accepts reordering inside the window once', () => {
    const w = new ReplayWindow(64);
    for (const s of [1, 2, 3, 10]) {
      expect(w.check(s)).toBe(REPLAY_OK);
      w.accept(s);
    }
    expect(w.check(3)).toBe(REPLAY_DUPLICATE);
    expect(w.check(5)).toBe(REPLAY_OK); // late but inside
    w.accept(5);
    expect(w.check(5)).toBe(REPLAY_DUPLICATE);
    expect(w.check(0)).toBe(REPLAY_OLD);
  });

  it('rejects a packet exactly one older than the window and keeps the oldest one inside', () => {
    const w = new ReplayWindow(32);
    w.accept(100);
    expect(w.check(100 - 31)).toBe(REPLAY_OK); // bottom edge, never seen
    expect(w.check(100 - 32)).toBe(REPLAY_OLD);
  });

  it('forgets bits that slid out, including after jumps larger than the window', () => {
    const w = new ReplayWindow(32);
    w.accept(1);
    w.accept(33); // slot of 1 reused by 33
    expect(w.check(33)).toBe(REPLAY_DUPLICATE);
    expect(w.check(2)).toBe(REPLAY_OK);
    w.accept(1000);
    expect(w.check(999)).toBe(REPLAY_OK);
    expect(w.check(1000)).toBe(REPLAY_DUPLICATE);
  });

  it('matches a set-based model under random traffic (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(32, 64, 96, 2048),
        fc.array(fc.integer({ min: -40, max: 120 }), { maxLength: 400 }),
        (size, deltas) => {
          const w = new ReplayWindow(size);
          const accepted = new Set<number>();
          let top = 0;
          for (const d of deltas) {
            const seq = Math.max(0, top + d * (d > 100 ? 40 : 1)); // occasional big jumps
            const expected = modelCheck(accepted, top, size, seq);
            expect(w.check(seq)).toBe(expected);
            if (expected === REPLAY_OK) {
              w.accept(seq);
              accepted.add(seq);
              top = Math.max(top, seq);
            }
            expect(w.top).toBe(top);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('ReplayWindow.inferSequence (RFC 4303 Appendix A2.2)', () => {
  it('case A (window inside one subspace): below the window means the next subspace', () => {
    const w = new ReplayWindow(64);
    w.accept(5 * TWO_32 + 1000);
    expect(w.inferSequence(1000)).toBe(5 * TWO_32 + 1000);
    expect(w.inferSequence(1000 - 63)).toBe(5 * TWO_32 + 937); // Bl itself
    expect(w.inferSequence(1000 - 64)).toBe(6 * TWO_32 + 936);
    expect(w.inferSequence(4000)).toBe(5 * TWO_32 + 4000);
  });

  it('case B (window spans the 2^32 boundary)', () => {
    const w = new ReplayWindow(64);
    w.accept(3 * TWO_32 + 10); // Tl = 10 < W - 1
    expect(w.inferSequence(TWO_32 - 5)).toBe(2 * TWO_32 + TWO_32 - 5); // previous subspace, inside window
    expect(w.inferSequence(5)).toBe(3 * TWO_32 + 5);
    expect(w.inferSequence(500)).toBe(3 * TWO_32 + 500);
  });

  it('gives -1 for the non-existent subspace before the first one', () => {
    const w = new ReplayWindow(64);
    expect(w.inferSequence(1)).toBe(1);
    expect(w.inferSequence(TWO_32 - 1)).toBe(-1);
  });

  it('crosses 2^32 in order', () => {
    const w = new ReplayWindow(2048);
    let seq = TWO_32 - 3000;
    w.accept(seq);
    for (let i = 0; i < 6000; i++) {
      seq += 1;
      const inferred = w.inferSequence(seq % TWO_32);
      expect(inferred).toBe(seq);
      w.accept(inferred);
    }
  });
});
