import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FREE_PORTS, killAllWeft, weft, WeftProcess } from '../../../../test-support/weft-process';


/** One node run by the `weft` command as a process, driven by `weft` client commands over its socket. */
describe('weft: a single-node cluster as a process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
  });
  afterAll(async () => {
    await killAllWeft();
    rmSync(dir, { recursive: true, force: true });
  });

  it('init, networks and endpoints through the CLI; a crash (kill -9) and `weft run` bring it back from its data dir', async () => {
    const d = join(dir, 'm1');
    const node = await WeftProcess.start(d, ['init', '--node-id', 'm1', ...FREE_PORTS]);
    // Structured logs: JSON lines with a level.
    expect(node.logs.every((l) => typeof l.level === 'string' && typeof l.ts === 'string')).toBe(true);
    const info = JSON.parse((await weft(d, ['--format', 'json', 'info'])).stdout) as { id: string; role: string; certificateSerial: string; tls: boolean };
    expect(info).toMatchObject({ id: 'm1', role: 'manager', tls: true });
    expect(info.certificateSerial).toMatch(/^[0-9a-f]{32}$/);

    const created = await weft(d, ['network', 'create', 'red', '--encrypted']);
    expect(created.code).toBe(0);
    const ls = await weft(d, ['network', 'ls']);
    expect(ls.stdout.split('\n')[0]).toMatch(/^NETWORK ID\s+NAME\s+SUBNET\s+VNI\s+ENCRYPTED\s+MTU$/);
    expect(ls.stdout).toMatch(/\bred\b.*\btrue\b/);

    expect((await weft(d, ['endpoint', 'attach', 'red', 'a1'])).code).toBe(0);
    expect((await weft(d, ['endpoint', 'attach', 'red', 'a2'])).code).toBe(0);
    const ping = JSON.parse((await weft(d, ['--format', 'json', 'endpoint', 'ping', 'a1', 'a2', '--count', '2'])).stdout) as { received: number };
    expect(ping.received).toBe(2);

    // A typed error reaches the command: exit 1, the class named.
    const missing = await weft(d, ['network', 'inspect', 'blue']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NetworkNotFoundError');
    // A second node on the same data dir is refused.
    const twice = await weft(d, ['init', ...FREE_PORTS]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('DataDirError');

    await node.kill();
    const down = await weft(d, ['info']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('NodeUnreachableError');

    const again = await WeftProcess.start(d, ['run']);
    const eps = JSON.parse((await weft(d, ['--format', 'json', 'endpoint', 'ls'])).stdout) as { name: string; network: string }[];
    expect(eps.map((e) => `${e.name}@${e.network}`).sort()).toEqual(['a1@red', 'a2@red']);
    const after = JSON.parse((await weft(d, ['--format', 'json', 'endpoint', 'ping', 'a2', 'a1', '--count', '1'])).stdout) as { received: number };
    expect(after.received).toBe(1);
    const nodes = JSON.parse((await weft(d, ['--format', 'json', 'node', 'ls'])).stdout) as { id: string; role: string; leader: boolean }[];
    expect(nodes).toEqual([expect.objectContaining({ id: 'm1', role: 'manager', leader: true })]);

    expect(await again.stop()).toBe(0);
    expect(existsSync(join(d, 'weft.sock'))).toBe(false);
    expect(again.logs.some((l) => l.msg === 'node stopped')).toBe(true);
  });

  it('usage errors: a bad flag value is refused by the parser before anything starts', async () => {
    const d = join(dir, 'bad');
    const r = await weft(d, ['init', '--join-port', '70000']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--join-port must be between 0 and 65535');
    expect(existsSync(join(d, 'node.json'))).toBe(false);
  });
});
