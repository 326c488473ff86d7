import { main } from './cluster-in-one-process';

describe('examples/cluster-in-one-process.ts', () => {
  it('partitions a worker away (its ping times out, the majority keeps attaching) and heals (it reaches old and new endpoints)', async () => {
    const report = await main();
    expect(report.duringPartition).toBe('PingTimeoutError');
    expect(report.afterHeal.toOld).toBeGreaterThanOrEqual(0);
    expect(report.afterHeal.toNew).toBeGreaterThanOrEqual(0);
    const text = report.lines.join('\n');
    expect(text).not.toContain('FAILED');
    expect(text).toMatch(/w2's data plane knows remote endpoints \[10\.\d+\.\d+\.\d+\] \(not c/);
  }, 60_000);
});
