import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeftClient } from '@weft/core';
import { sleep, until } from '../../../../test-support/wait';
import { FAST_TIMING, FREE_PORTS, killAllWeft, weft, WeftProcess } from '../../../../test-support/weft-process';

const PORTS = FREE_PORTS;
const TIMING = FAST_TIMING;

/**
 * Certificates of 6 seconds: node processes renew them on their own (when a
 * third of the lifetime remains), the old serial is deny-listed and live
 * control connections re-made with the new one — under traffic, with no
 * failed request and no lost echo.
 */
describe('weft: automatic certificate renewal under traffic', () => {
  let dir: string;
  const clients: WeftClient[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-renew-'));
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await killAllWeft();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every node renews again and again; pings and store reads through the worker never fail', async () => {
    const m1p = await WeftProcess.start(join(dir, 'm1'), ['init', '--node-id', 'm1', '--cert-lifetime', '6s', ...PORTS, ...TIMING, '--data-addr', '127.0.75.1']);
    const token = (await weft(join(dir, 'm1'), ['join-token', 'worker', '--quiet'])).stdout.trim();
    const m1 = await WeftClient.connect({ socketPath: join(dir, 'm1', 'weft.sock') });
    clients.push(m1);
    const w1p = await WeftProcess.start(join(dir, 'w1'), ['join', token, (await m1.info()).joinAddress!, '--node-id', 'w1', ...PORTS, ...TIMING, '--data-addr', '127.0.75.2']);
    const w1 = await WeftClient.connect({ socketPath: join(dir, 'w1', 'weft.sock') });
    clients.push(w1);
    await m1.createNetwork({ name: 'net', attachable: true });
    await m1.attachEndpoint('net', 'a');
    await w1.attachEndpoint('net', 'b');
    await until(async () => (await w1.ping('b', 'a', { count: 1 })).received === 1, 'b reaches a', 20_000);

    const serials = { m1: new Set<string>(), w1: new Set<string>() };
    let pings = 0;
    let reads = 0;
    const deadline = Date.now() + 14_000;
    while (Date.now() < deadline) {
      serials.m1.add((await m1.info()).certificateSerial!);
      serials.w1.add((await w1.info()).certificateSerial!);
      const r = await w1.ping('b', 'a', { count: 1, timeoutMs: 1000 });
      expect(r.errors).toEqual([]);
      pings += r.received;
      // A worker's reads go to the manager over its (renewed) TLS connection.
      expect((await w1.listNetworks()).map((n) => n.name)).toContain('net');
      reads++;
      await sleep(200);
    }
    expect(pings).toBeGreaterThan(20);
    expect(reads).toBe(pings);
    // 14 s of 6 s certificates renewed at 4 s: at least 3 serials each.
    expect(serials.m1.size).toBeGreaterThanOrEqual(3);
    expect(serials.w1.size).toBeGreaterThanOrEqual(3);
    const renewedLogs = (p: WeftProcess): number => p.logs.filter((l) => l.msg === 'certificate renewed').length;
    expect(renewedLogs(m1p)).toBeGreaterThanOrEqual(2);
    expect(renewedLogs(w1p)).toBeGreaterThanOrEqual(2);
    // The manager's join service issued them (its own and the worker's), and the worker reconnected with each.
    const stats = (await m1.stats()) as { joinServer?: { renewed: number } };
    expect(stats.joinServer!.renewed).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
