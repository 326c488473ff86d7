import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { main } from './demo';

const root = join(__dirname, '..');

/** Runs `npm run demo`'s command (tsx examples/demo.ts) as its own process; bounded. */
function runDemo(timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'examples/demo.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not exit within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

describe('examples/demo.ts (npm run demo)', () => {
  it('runs the cluster demo to completion as a process: pings, failover with zero losses, rotation, cleanup, exit 0', async () => {
    const { code, stdout, stderr, ms } = await runDemo(90_000);
    if (code !== 0) throw new Error(`demo exited with ${code}:\n${stdout}\n${stderr}`);
    expect(ms).toBeLessThan(60_000); // the process exits by itself: nothing left open
    // Every step reports its time and none failed.
    const steps = stdout.split('\n').filter((l) => /^\d+\.\s/.test(l));
    expect(steps).toHaveLength(11);
    for (const s of steps) expect(s).toMatch(/\d+ ms$/);
    expect(stdout).not.toContain('FAILED');
    expect(stdout).toMatch(/w1 data plane networks: \[\]/);
    expect(stdout).toMatch(/w1 now programs "demo": 1 local \+ 2 remote endpoints, key generation 1/);
    expect(stdout.match(/ping \w -> \w \(10\.\d+\.\d+\.\d+\): reply in [\d.]+ ms/g)).toHaveLength(3);
    expect(stdout).toMatch(/udp {2}a -> c:7 "hello": echo "hello"/);
    expect(stdout).toMatch(/Containers: a {2}10\./);
    // The service step: the name resolves to the VIP by DNS over the overlay, and the flows reach both backends, replies from the VIP.
    const vip = /"api" -> (10\.\d+\.\d+\.\d+) \(the VIP\)/.exec(stdout)?.[1];
    expect(vip).toBeDefined();
    expect(stdout).toMatch(/8 UDP flows a -> api:7070 answered by b x[1-7], c x[1-7] \(chosen per flow in a's own node; 8\/8 replies from the VIP\)/);
    expect(stdout).toMatch(/dig @127\.0\.0\.1 -p \d+ api/);
    const killed = /kill the Raft leader (m\d)/.exec(stdout)?.[1];
    const elected = /new leader (m\d) \(term \d+\) elected \d+ ms after the crash/.exec(stdout)?.[1];
    expect(killed).toBeDefined();
    expect(elected).toBeDefined();
    expect(elected).not.toBe(killed);
    const failover = /ping loop a -> c: (\d+) sent, (\d+) replies, (\d+) lost/.exec(stdout);
    expect(Number(failover?.[1])).toBeGreaterThan(20);
    expect(failover?.[2]).toBe(failover?.[1]);
    expect(failover?.[3]).toBe('0');
    expect(stdout).toMatch(/w1 sends with key generation 1 -> 2/);
    expect(stdout).toMatch(/ping loop b -> c: (\d+) sent, \1 replies, 0 lost/);
    const dir = /(\S+weft-demo-\w+) removed/.exec(stdout)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
    expect(stdout).toMatch(/4 nodes closed/);
    expect(stdout).toMatch(/^Done in \d+ ms\.$/m);
  }, 100_000);

  it('cleans up when a step fails: rejects, removes its LevelDB directory', async () => {
    const seen: string[] = [];
    // The report callback throwing inside step 5 stands in for any failure mid-run.
    const run = main((line) => {
      seen.push(line);
      if (line.startsWith('5.')) throw new Error('injected failure');
    });
    await expect(run).rejects.toThrow('injected failure');
    const dir = /LevelDB in (\S+);/.exec(seen.join('\n'))?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
  }, 60_000);
});
