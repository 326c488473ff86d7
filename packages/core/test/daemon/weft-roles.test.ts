import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../../../test-support/wait';
import { FAST_TIMING, FREE_PORTS, killAllWeft, weft, weftJson, WeftProcess } from '../../../../test-support/weft-process';

const PORTS = FREE_PORTS;
const TIMING = FAST_TIMING;

interface Info {
  id: string;
  role: string;
  joinAddress?: string;
  certificateSerial: string;
}
interface NodeRow {
  id: string;
  role: string;
  status: string;
}

/** `weft node promote` / `demote`: the node's own process switches its role, with a certificate re-issued for it. */
describe('weft: promote and demote a node process', () => {
  let dir: string;
  const dd = (id: string): string => join(dir, id);
  const json = <T>(id: string, args: string[]): Promise<T> => weftJson<T>(dd(id), args);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-roles-'));
  });
  afterAll(async () => {
    await killAllWeft();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker promoted becomes a Raft manager in place, and demoted becomes a worker again; its endpoint stays reachable; each switch re-issues its certificate', async () => {
    await WeftProcess.start(dd('m1'), ['init', '--node-id', 'm1', ...PORTS, ...TIMING, '--data-addr', '127.0.76.1']);
    const m1 = await json<Info>('m1', ['info']);
    const token = (await weft(dd('m1'), ['join-token', 'worker', '--quiet'])).stdout.trim();
    const w1 = await WeftProcess.start(dd('w1'), ['join', token, m1.joinAddress!, '--node-id', 'w1', ...PORTS, ...TIMING, '--data-addr', '127.0.76.2']);
    await json('m1', ['network', 'create', 'net']);
    await json('m1', ['endpoint', 'attach', 'net', 'a']);
    await json('w1', ['endpoint', 'attach', 'net', 'b']);
    const reach = async (): Promise<boolean> => (await json<{ received: number }>('w1', ['endpoint', 'ping', 'b', 'a', '--count', '1'])).received === 1;
    await until(reach, 'w1 reaches m1', 20_000);
    const before = await json<Info>('w1', ['info']);
    expect(before.role).toBe('worker');

    expect((await weft(dd('m1'), ['node', 'promote', 'w1'])).code).toBe(0);
    await w1.waitFor((l) => l.msg === 'role changed' && l.role === 'manager', 60_000);
    const promoted = await json<Info>('w1', ['info']);
    expect(promoted.role).toBe('manager');
    expect(promoted.certificateSerial).not.toBe(before.certificateSerial);
    // It is a Raft member now: it answers `node ls` itself (workers cannot) and m1 lists it as a manager.
    await until(async () => (await json<NodeRow[]>('w1', ['node', 'ls'])).some((r) => r.id === 'w1' && r.role === 'manager'), 'w1 listed as a manager', 30_000);
    await until(reach, 'w1 reaches m1 after the promotion', 20_000);

    expect((await weft(dd('m1'), ['node', 'demote', 'w1'])).code).toBe(0);
    await w1.waitFor((l) => l.msg === 'role changed' && l.role === 'worker', 60_000);
    const demoted = await json<Info>('w1', ['info']);
    expect(demoted.role).toBe('worker');
    expect(demoted.certificateSerial).not.toBe(promoted.certificateSerial);
    const refused = await weft(dd('w1'), ['node', 'ls']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('NotAManagerError');
    await until(async () => (await json<NodeRow[]>('m1', ['node', 'ls'])).some((r) => r.id === 'w1' && r.role === 'worker' && r.status === 'ready'), 'w1 listed as a ready worker', 30_000);
    await until(reach, 'w1 reaches m1 after the demotion', 20_000);

    // `weft leave`: the worker detaches its endpoint, is marked removed, and its process ends.
    const left = await weft(dd('w1'), ['leave']);
    expect(left.code).toBe(0);
    expect(await w1.exited).toBe(0);
    await until(async () => !(await json<NodeRow[]>('m1', ['node', 'ls'])).some((r) => r.id === 'w1'), 'w1 gone from node ls', 20_000);
    const eps = await json<{ name: string }[]>('m1', ['network', 'inspect', 'net']).catch(() => []);
    expect(JSON.stringify(eps)).not.toContain('"b"');
    // Its certificate is refused from now on: restarting it from its data dir fails (every manager ends the TLS
    // handshake of a removed node, so the store never answers it; a manager's join service then tells it why) and
    // it never comes back.
    const again = await weft(dd('w1'), ['run']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('weft: NodeRemovedError: node "w1" was removed from the cluster');
    expect(again.stderr).not.toContain('weft: StoreUnavailableError');
    expect((await json<NodeRow[]>('m1', ['node', 'ls'])).some((r) => r.id === 'w1')).toBe(false);
  }, 240_000);
});
