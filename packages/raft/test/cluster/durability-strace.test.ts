/**
 * Durability as the disk sees it: three node processes (TCP + LevelDB) run
 * under `strace -f`, and the trace of real write(2)/fdatasync(2) calls must
 * show that the leader synced every put to its LevelDB log before the client's
 * acknowledgement left, and that no follower sent an append response before
 * syncing the entries it covers. kill -9 cannot test this (the page cache
 * survives it); a trace can. The second test is the negative control: the
 * same check on a cluster whose LevelDB writes are not synced must fail.
 */
import { describeWith } from '../../../../test-support/capabilities';
import { straceCapability } from './strace/strace-session';
import { traceCluster } from './strace/trace-cluster';

jest.setTimeout(120_000);

const PUTS = 40;

describeWith(straceCapability(), 'durability under strace: nothing is acknowledged before it is synced', () => {
  test('the leader fsyncs every put before acknowledging it; followers fsync before answering an append', async () => {
    const r = await traceCluster({ puts: PUTS, concurrency: 4 });
    expect(r.acked).toBe(PUTS);
    expect(r.leader.violations).toEqual([]);
    expect(r.leader.checked).toBe(PUTS);
    for (const f of Object.values(r.followers)) expect(f.violations).toEqual([]);
    // The follower check was not vacuous: every acknowledged put was covered by some follower's append response.
    expect(r.coveredByFollowers).toBe(PUTS);
  });

  test('negative control: with LevelDB sync off (unsafe), the same check reports the unsynced acknowledgements', async () => {
    const r = await traceCluster({ puts: PUTS, concurrency: 4, unsafeNoSync: true });
    expect(r.acked).toBe(PUTS);
    expect(r.leader.violations.length).toBe(PUTS);
    expect(r.leader.violations.every((v) => v.includes('was not fsynced'))).toBe(true);
    for (const f of Object.values(r.followers)) {
      expect(f.checked).toBeGreaterThan(0);
      expect(f.violations.length).toBe(f.checked);
    }
  });
});
