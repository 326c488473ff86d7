import { main } from './two-vteps';

describe('examples/two-vteps.ts', () => {
  it('pings and echoes UDP within each VNI and cannot cross VNIs', async () => {
    const report = await main();
    expect(report.vteps.map((v) => v.address.split(':')[0])).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(report.pings).toHaveLength(3);
    for (const p of report.pings) {
      expect(p.ok).toBe(true);
      expect(p.rttMs).toBeGreaterThanOrEqual(0);
    }
    expect(report.udp.map((u) => u.reply)).toEqual(['b-blue says: hello over blue', 'b-red says: hello over red']);
    expect(report.isolation).toEqual([expect.objectContaining({ from: 'a-blue', ok: false, error: 'HostUnreachableError' })]);
    // The blue ARP for 10.0.1.3 was flooded to host B, whose blue segment has no such endpoint: nobody answered.
    expect(report.drops['host B']).toEqual({});
    expect(report.lines.join('\n')).toMatch(/isolation .*unreachable, as it must be/);
  });
});
