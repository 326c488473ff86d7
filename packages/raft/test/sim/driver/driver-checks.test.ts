/** The driver simulation is not vacuous: a disk that acknowledges writes before they are durable is caught, and the same seeds pass with an honest disk. */
import { DriverSimulation, driverConfigForSeed } from './driver-simulation';

describe('the driver simulation catches a lying disk', () => {
  it('fails some seeds when fsync is acknowledged early, and none of the same seeds with an honest disk', async () => {
    const slowDisk = { fsyncMs: [5, 30] as const };
    const lying: string[] = [];
    const honest: string[] = [];
    for (let seed = 8; seed <= 13; seed++) {
      const bad = await new DriverSimulation(driverConfigForSeed(seed, { ...slowDisk, lyingDisks: true })).run();
      if (bad.failure) lying.push(bad.failure);
      const good = await new DriverSimulation(driverConfigForSeed(seed, slowDisk)).run();
      if (good.failure) honest.push(`seed ${seed}: ${good.failure}`);
    }
    expect(honest).toEqual([]);
    expect(lying.length).toBeGreaterThan(0);
  });

  it('replays a seed exactly', async () => {
    const a = await new DriverSimulation(driverConfigForSeed(3)).run();
    const b = await new DriverSimulation(driverConfigForSeed(3)).run();
    expect(b.stats).toEqual(a.stats);
    expect(b.trace).toEqual(a.trace);
  });
});
