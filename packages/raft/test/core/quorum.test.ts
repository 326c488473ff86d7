import { Progress } from '../../src/core/progress';
import { jointVoteResult, majorityVoteResult } from '../../src/core/quorum';
import { ProgressTracker, type TrackerConfig } from '../../src/core/tracker';

function tracker(incoming: string[], outgoing: string[], match: Record<string, number>): ProgressTracker {
  const t = new ProgressTracker(8, 0);
  const cfg: TrackerConfig = { incoming: new Set(incoming), outgoing: new Set(outgoing), learners: new Set(), learnersNext: new Set(), autoLeave: false };
  t.config = cfg;
  const prs = new Map<string, Progress>();
  for (const [id, m] of Object.entries(match)) prs.set(id, new Progress(m, m + 1, 8, 0, false));
  t.progress = prs;
  return t;
}

describe('quorum arithmetic (paper §5.3 commitment, thesis §4.3 joint consensus)', () => {
  it.each([
    [['a'], { a: 5 }, 5],
    [['a', 'b'], { a: 5, b: 3 }, 3],
    [['a', 'b', 'c'], { a: 5, b: 3, c: 4 }, 4],
    [['a', 'b', 'c', 'd'], { a: 5, b: 3, c: 4, d: 1 }, 3],
    [['a', 'b', 'c', 'd', 'e'], { a: 9, b: 3, c: 4, d: 1, e: 7 }, 4],
  ])('a majority of %j with matches %j holds index %i', (voters, match, want) => {
    expect(tracker(voters, [], match).committed()).toBe(want);
  });

  it('a joint config commits only what majorities of both halves hold', () => {
    // C_new = {a, d, e} holds 9 on a majority; C_old = {a, b, c} only 2.
    expect(tracker(['a', 'd', 'e'], ['a', 'b', 'c'], { a: 9, b: 2, c: 1, d: 9, e: 9 }).committed()).toBe(2);
    expect(tracker(['a', 'd', 'e'], ['a', 'b', 'c'], { a: 9, b: 7, c: 1, d: 9, e: 3 }).committed()).toBe(7);
  });

  it('votes: won, lost and pending, per half and joint', () => {
    const v = (o: Record<string, boolean>): Map<string, boolean> => new Map(Object.entries(o));
    expect(majorityVoteResult(new Set(['a', 'b', 'c']), v({ a: true, b: true }))).toBe('won');
    expect(majorityVoteResult(new Set(['a', 'b', 'c']), v({ a: true, b: false }))).toBe('pending');
    expect(majorityVoteResult(new Set(['a', 'b', 'c']), v({ a: false, b: false }))).toBe('lost');
    expect(majorityVoteResult(new Set(['a', 'b', 'c', 'd']), v({ a: true, b: true }))).toBe('pending');
    expect(majorityVoteResult(new Set(), v({}))).toBe('won');
    const inc = new Set(['a', 'd', 'e']);
    const out = new Set(['a', 'b', 'c']);
    expect(jointVoteResult(inc, out, v({ a: true, d: true, e: true }))).toBe('pending'); // C_old not yet
    expect(jointVoteResult(inc, out, v({ a: true, d: true, b: true }))).toBe('won');
    expect(jointVoteResult(inc, out, v({ a: true, d: true, b: false, c: false }))).toBe('lost');
  });
});
