import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../../../test-support/wait';
import { FAST_TIMING, FREE_PORTS, killAllWeft, weft, weftJson, WeftProcess } from '../../../../test-support/weft-process';

const PORTS = FREE_PORTS;
const TIMING = FAST_TIMING;

interface NodeRow {
  id: string;
  role: string;
  status: string;
  leader: boolean;
}
interface Info {
  id: string;
  role: string;
  leader?: string | null;
  joinAddress?: string;
}

/**
 * Issue 11's cluster of processes: 3 managers and 2 workers started through
 * `weft` on loopback addresses (each data plane on its own 127.0.77.x), LevelDB
 * data dirs, joined with tokens over mutual TLS; an encrypted network with
 * endpoints on three processes; the Raft leader killed with SIGKILL; the
 * killed manager restarted from its data dir.
 */
describe('weft: 3 managers + 2 workers as processes', () => {
  let dir: string;
  const procs = new Map<string, WeftProcess>();
  const dd = (id: string): string => join(dir, id);
  const json = <T>(id: string, args: string[]): Promise<T> => weftJson<T>(dd(id), args);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-cl-'));
  });
  afterAll(async () => {
    await killAllWeft();
    rmSync(dir, { recursive: true, force: true });
  });

  it('init, join with tokens, encrypted network, pings; kill -9 the leader; restart it from its data dir', async () => {
    const addr = (i: number): string[] => ['--data-addr', `127.0.77.${i}`];
    procs.set('m1', await WeftProcess.start(dd('m1'), ['init', '--node-id', 'm1', ...PORTS, ...TIMING, ...addr(1)]));
    const m1 = await json<Info>('m1', ['info']);
    const managerToken = (await weft(dd('m1'), ['join-token', 'manager', '--quiet'])).stdout.trim();
    const workerToken = (await weft(dd('m1'), ['join-token', 'worker', '--quiet'])).stdout.trim();
    expect(managerToken).toMatch(/^WEFT-1-[a-z2-7]{52}-[a-z2-7]+$/);
    expect(workerToken).toMatch(/^WEFT-1-[a-z2-7]{52}-[a-z2-7]+$/);
    expect(workerToken).not.toBe(managerToken);

    // A wrong token is refused with its typed error, and leaves no node behind.
    const wrong = await weft(dd('bad'), ['join', workerToken.slice(0, -4) + 'aaaa', m1.joinAddress!, ...PORTS]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('JoinTokenRejectedError');
    expect(existsSync(join(dd('bad'), 'node.json'))).toBe(false);

    let i = 2;
    for (const id of ['m2', 'm3']) procs.set(id, await WeftProcess.start(dd(id), ['join', managerToken, m1.joinAddress!, '--node-id', id, ...PORTS, ...TIMING, ...addr(i++)]));
    for (const id of ['w1', 'w2']) procs.set(id, await WeftProcess.start(dd(id), ['join', workerToken, m1.joinAddress!, '--node-id', id, ...PORTS, ...TIMING, ...addr(i++)]));

    await until(async () => {
      const rows = await json<NodeRow[]>('m1', ['node', 'ls']);
      return rows.length === 5 && rows.every((r) => r.status === 'ready');
    }, 'all 5 nodes ready', 30_000);
    const rows = await json<NodeRow[]>('m2', ['node', 'ls']);
    expect(rows.map((r) => `${r.id}:${r.role}`).sort()).toEqual(['m1:manager', 'm2:manager', 'm3:manager', 'w1:worker', 'w2:worker']);

    await json('m1', ['network', 'create', 'secure', '--encrypted']);
    const eps: Record<string, string> = { m2: 'e-m2', w1: 'e-w1', w2: 'e-w2' };
    for (const [node, ep] of Object.entries(eps)) await json(node, ['endpoint', 'attach', 'secure', ep]);
    const ping = async (node: string, target: string, count = 3): Promise<number> =>
      (await json<{ received: number }>(node, ['endpoint', 'ping', eps[node]!, target, '--count', String(count), '--interval', '50ms'])).received;
    for (const [from, to] of [['m2', 'e-w1'], ['w1', 'e-w2'], ['w2', 'e-m2']] as const) {
      await until(async () => (await ping(from, to, 1)) === 1, `${from} reaches ${to}`, 20_000);
      expect(await ping(from, to)).toBe(3);
    }

    // Kill the Raft leader the way a crash does.
    const leader = (await json<Info>('m1', ['info'])).leader!;
    expect(['m1', 'm2', 'm3']).toContain(leader);
    await procs.get(leader)!.kill();
    const survivors = ['m1', 'm2', 'm3'].filter((m) => m !== leader);
    let newLeader: string | null | undefined;
    await until(async () => {
      newLeader = (await json<Info>(survivors[0]!, ['info'])).leader;
      return typeof newLeader === 'string' && newLeader !== leader;
    }, 'a new leader', 20_000);
    expect(survivors).toContain(newLeader);
    // Traffic between existing endpoints continues (those not on the killed node), and attaches work.
    const alive = Object.keys(eps).filter((n) => n !== leader);
    expect(await ping(alive[0]!, eps[alive[1]!]!)).toBe(3);
    await json('w2', ['endpoint', 'attach', 'secure', 'late']);
    await until(async () => (await json<{ received: number }>('w1', ['endpoint', 'ping', 'e-w1', 'late', '--count', '1'])).received === 1, 'w1 reaches the endpoint attached after the failover', 20_000);

    // The killed manager comes back from its data dir, with its certificate, and catches up.
    procs.set(leader, await WeftProcess.start(dd(leader), ['run']));
    await until(async () => (await json<NodeRow[]>(leader, ['node', 'ls'])).filter((r) => r.status === 'ready').length === 5, `${leader} sees all 5 nodes ready again`, 30_000);
    const nets = await json<{ name: string }[]>(leader, ['network', 'ls']);
    expect(nets.map((n) => n.name)).toContain('secure');
    await json(leader, ['endpoint', 'attach', 'secure', `back-${leader}`]);
    await until(async () => (await json<{ received: number }>('w1', ['endpoint', 'ping', 'e-w1', `back-${leader}`, '--count', '1'])).received === 1, 'the restarted manager is reachable', 20_000);
  }, 300_000);
});
