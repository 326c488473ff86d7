import { main } from './encrypted-network';

describe('examples/encrypted-network.ts', () => {
  it('rotates the key under a UDP stream with nothing lost; the counters show sealed traffic only and refused cleartext', async () => {
    const report = await main();
    expect(report.generations).toEqual({ before: 1, after: 2 });
    expect(report.datagrams.sent).toBeGreaterThan(10);
    expect(report.datagrams.received).toBe(report.datagrams.sent);
    const { m1, w1 } = report.counters;
    expect(m1['esp.txPackets']).toBeGreaterThanOrEqual(report.datagrams.sent);
    expect(w1['esp.rxPackets']).toBeGreaterThanOrEqual(report.datagrams.sent);
    for (const c of [m1, w1]) {
      expect(c['esp.rxAuthFailed']).toBe(0);
      expect(c['esp.rxReplayed']).toBe(0);
      expect(c['plain.txPackets']).toBe(0); // nothing of the network left in cleartext
    }
    expect(w1['guard.rxEncryptedVni']).toBe(1); // the attacker's packet on the VXLAN port
    expect(w1['demux.unclaimed']).toBe(1); // and on the sealed port
    expect(report.lines.join('\n')).toMatch(/b answered 0 of them/);
  }, 60_000);
});
