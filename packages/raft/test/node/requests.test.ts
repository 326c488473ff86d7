import type { Entry, Ready } from '../../src/core/types';
import { ProposalLostError, RequestTimeoutError } from '../../src/node';
import type { PendingProposal } from '../../src/node/pending';
import { Requests } from '../../src/node/requests';

function pending(kind: 'normal' | 'conf', deadline = 10) {
  const out: { value?: unknown; error?: Error } = {};
  const p: PendingProposal = { kind, data: kind === 'normal' ? Uint8Array.of(1) : undefined, change: kind === 'conf' ? { changes: [] } : undefined, deadline, term: 0, resolve: (v) => (out.value = v), reject: (e) => (out.error = e) };
  return { p, out };
}
const entry = (index: number, term: number, type: Entry['type'] = 'normal', data = Uint8Array.of(1)): Entry => ({ index, term, type, data });
const ready = (entries: Entry[]): Ready => ({ entries, committedEntries: [], messages: [], readStates: [], mustSync: true });

describe('Requests (the driver’s pending-request book)', () => {
  test('a batch maps onto the last entries of the Ready, in order', () => {
    const r = new Requests('n1');
    const a = pending('normal');
    const b = pending('normal');
    r.track(ready([entry(5, 2, 'normal', new Uint8Array(0)), entry(6, 2), entry(7, 2)]), [a.p, b.p]);
    r.settleEntry(entry(6, 2), { kind: 'normal', result: 'A' });
    r.settleEntry(entry(7, 2), { kind: 'normal', result: 'B' });
    expect([a.out.value, b.out.value]).toEqual(['A', 'B']);
  });

  test('a new proposal appended at the index of an older pending one settles the older one as lost', () => {
    // The old proposal's entry was truncated (a conflicting append from another leader) and this
    // node, leader again, appended a new proposal at the same index: the old one can never commit.
    const r = new Requests('n1');
    const a = pending('normal');
    const b = pending('normal');
    r.track(ready([entry(5, 2)]), [a.p]);
    r.track(ready([entry(4, 4, 'normal', new Uint8Array(0)), entry(5, 4)]), [b.p]);
    expect(a.out.error).toBeInstanceOf(ProposalLostError);
    expect(a.out.error!.message).toMatch(/entry 5 of term 2 was overwritten by term 4/);
    r.settleEntry(entry(5, 4), { kind: 'normal', result: 'B' });
    expect(b.out.value).toBe('B');
  });

  test('a different term at the index means the proposal was overwritten: ProposalLostError', () => {
    const r = new Requests('n1');
    const a = pending('normal');
    r.track(ready([entry(6, 2)]), [a.p]);
    r.settleEntry(entry(6, 3), { kind: 'normal', result: 'other' });
    expect(a.out.error).toBeInstanceOf(ProposalLostError);
    expect(a.out.error!.message).toMatch(/entry 6 of term 2 was overwritten by term 3/);
  });

  test('a conf change replaced by an empty entry, or a kind mismatch, is lost', () => {
    const r = new Requests('n1');
    const c = pending('conf');
    const d = pending('normal');
    r.track(ready([entry(3, 1, 'conf-change'), entry(4, 1)]), [c.p, d.p]);
    r.settleEntry(entry(3, 1, 'normal', new Uint8Array(0)), { kind: 'empty' });
    r.settleEntry(entry(4, 1, 'conf-change'), { kind: 'conf', confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } });
    expect(c.out.error).toBeInstanceOf(ProposalLostError);
    expect(d.out.error).toBeInstanceOf(ProposalLostError);
  });

  test('track refuses a Ready with fewer entries than the batch (broken invariant)', () => {
    const r = new Requests('n1');
    expect(() => r.track(ready([entry(1, 1)]), [pending('normal').p, pending('normal').p])).toThrow(/2 proposals appended but the Ready holds 1 entries/);
  });

  test('expire rejects only requests past their deadline; a snapshot makes covered proposals unknown', () => {
    const r = new Requests('n1');
    const early = pending('normal', 1);
    const late = pending('normal', 5);
    const covered = pending('normal', 9);
    r.track(ready([entry(1, 1), entry(2, 1), entry(3, 1)]), [early.p, late.p, covered.p]);
    r.expire(3, 100);
    expect(early.out.error).toBeInstanceOf(RequestTimeoutError);
    expect(late.out.error).toBeUndefined();
    r.coveredBySnapshot(3);
    expect(late.out.error).toBeInstanceOf(RequestTimeoutError);
    expect(covered.out.error!.message).toMatch(/covered by a snapshot/);
  });

  test('read contexts are unique per node instance and reads settle once applied', () => {
    const a = new Requests('n1');
    const b = new Requests('n1');
    let done = 0;
    const ra = a.addRead(10, () => done++, () => {});
    const rb = b.addRead(10, () => done++, () => {});
    expect(Buffer.from(ra.context).equals(Buffer.from(rb.context))).toBe(false);
    a.recordReadStates([{ index: 7, context: ra.context }]);
    a.settleReads(6);
    expect(done).toBe(0);
    a.settleReads(7);
    expect(done).toBe(1);
    expect(b.unansweredReads()).toHaveLength(1);
  });
});
