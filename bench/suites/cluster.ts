/**
 * `weft` as processes (issue 11):
 * - `cluster join`: ms from spawning `weft join TOKEN MANAGER` (a worker, a new
 *   data dir) to the worker listed `ready` by the manager's `node ls`, polled
 *   every 5 ms through a `WeftClient`; the manager runs the defaults (Raft
 *   election 1000 ms / heartbeat 100 ms, node heartbeat 2000 ms). Median of
 *   10, target ≤ 500 ms. Baseline, in alternating rounds: spawning the same
 *   command to its first answer (`weft --version`), i.e. what any node process
 *   costs before it does anything; the ratio says how much a join adds.
 * Runs the built bin (`packages/core/dist/cli/main.js`, with its V8 code cache
 * in a fresh dir, warmed by one untimed `weft --version` and one untimed join):
 * `npm run build` first. `--version` loads neither the node nor the PKI, Raft or
 * LevelDB (the node is imported only by the commands that start one).
 *
 * Where a join's time goes (2026-12-04, 2 cores, timestamps in both processes):
 * about 175 ms is the process start any `weft` command pays (Node, the CLI,
 * zod); the PKI and join client load in ~45 ms and the exchange with the
 * manager starts; the node's modules (~100 ms) load while it runs (the answer,
 * with the managers registry, is usually back before they are); then ~60 ms
 * from the daemon's start to the heartbeat that makes the node ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeftClient } from '@weft/core';
import type { BenchContext, BenchRow } from '../row';
import { median, spreadOf } from '../stats';

const root = join(__dirname, '..', '..');
const cli = join(root, 'packages/core/dist/cli/main.js');
const PORTS = ['--join-port', '0', '--store-port', '0', '--raft-port', '0', '--vxlan-port', '0', '--encrypted-port', '0'];

function startNode(args: string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  child.stdout!.resume();
  return child;
}

function until<T>(what: string, timeoutMs: number, poll: () => Promise<T | undefined>, everyMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const step = (): void => {
      void poll().then(
        (v) => {
          if (v !== undefined) return resolve(v);
          if (Date.now() > deadline) return reject(new Error(`cluster bench: ${what} did not happen within ${timeoutMs} ms`));
          setTimeout(step, everyMs);
        },
        (err: unknown) => (Date.now() > deadline ? reject(err as Error) : setTimeout(step, everyMs)),
      );
    };
    step();
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

export default async function cluster(ctx: BenchContext): Promise<BenchRow[]> {
  if (!existsSync(cli)) throw new Error(`cluster bench: ${cli} is missing; run \`npm run build\` first`);
  const rounds = Math.max(5, Math.round(10 * ctx.scale));
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-cluster-'));
  // The bin's V8 code cache (see packages/core/src/cli/compile-cache.ts), fresh for this run; children inherit it.
  const savedCache = process.env.WEFT_COMPILE_CACHE;
  process.env.WEFT_COMPILE_CACHE = join(dir, 'v8-cache');
  const children: ChildProcess[] = [];
  let client: WeftClient | undefined;
  try {
    let ready = false;
    const manager = startNode(['--data-dir', join(dir, 'm1'), 'init', '--node-id', 'm1', '--data-addr', '127.0.78.1', ...PORTS], (l) => {
      if (l.includes('"node ready"')) ready = true;
    });
    children.push(manager);
    await until('the manager start', 30_000, async () => (ready ? true : undefined), 20);
    client = await WeftClient.connect({ socketPath: join(dir, 'm1', 'weft.sock') });
    const info = await client.info();
    const token = (await client.joinToken('worker')).token;
    ctx.log(`manager m1 up (join service ${info.joinAddress}); ${rounds} joins, each against a \`weft --version\` start`);

    // Untimed: one join warms the bin's code cache (written 3 s after a start), as any host's second start would find it.
    {
      const w = startNode(['--data-dir', join(dir, 'w0'), 'join', token, info.joinAddress!, '--node-id', 'w0', '--data-addr', '127.0.78.200', ...PORTS], () => undefined);
      children.push(w);
      await until('w0 listed ready', 20_000, async () => ((await client!.listNodes()).some((n) => n.id === 'w0' && n.status === 'ready') ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      w.kill('SIGTERM');
      await exitOf(w);
    }
    const joins: number[] = [];
    const starts: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const measureStart = async (): Promise<void> => {
        const t0 = performance.now();
        const v = spawn(process.execPath, [cli, '--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
        await new Promise<void>((resolve) => v.stdout!.once('data', () => resolve()));
        starts.push(performance.now() - t0);
        await exitOf(v);
      };
      const measureJoin = async (): Promise<void> => {
        const id = `w${i + 1}`;
        const t0 = performance.now();
        const w = startNode(['--data-dir', join(dir, id), 'join', token, info.joinAddress!, '--node-id', id, '--data-addr', `127.0.78.${i + 2}`, ...PORTS], () => undefined);
        children.push(w);
        await until(`${id} listed ready`, 20_000, async () => ((await client!.listNodes()).some((n) => n.id === id && n.status === 'ready') ? true : undefined));
        joins.push(performance.now() - t0);
        w.kill('SIGTERM');
        await exitOf(w);
      };
      if (i % 2 === 0) {
        await measureStart();
        await measureJoin();
      } else {
        await measureJoin();
        await measureStart();
      }
      ctx.log(`round ${i + 1}: join ${joins[i]!.toFixed(0)} ms, process start ${starts[i]!.toFixed(0)} ms`);
    }
    const value = median(joins);
    const baseline = median(starts);
    return [
      {
        name: 'cluster join',
        value,
        unit: 'ms',
        baseline,
        baselineName: '`weft --version` to its first output (the same process, started the same way)',
        ratio: value / baseline,
        spread: spreadOf(joins, 'value'),
        target: '<= 500',
        note: `${rounds} joins of a worker, each a new process and data dir, through one manager (\`weft init\` defaults: Raft election 1000 ms, heartbeat 100 ms; node heartbeat 2000 ms) on 127.0.0.1, data planes on 127.0.78.x; from spawn to the manager's \`node ls\` (a WeftClient on its socket, polled every 5 ms) listing it ready. Built bin (node packages/core/dist/cli/main.js), its code cache warmed by one untimed join. Process start alone: ${Math.min(...starts).toFixed(0)}–${Math.max(...starts).toFixed(0)} ms.`,
      },
    ];
  } finally {
    await client?.close();
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map(exitOf));
    if (savedCache === undefined) delete process.env.WEFT_COMPILE_CACHE;
    else process.env.WEFT_COMPILE_CACHE = savedCache;
    rmSync(dir, { recursive: true, force: true });
  }
}
