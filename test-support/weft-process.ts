/**
 * `weft` as a user runs it, for tests: node processes (`weft init|join|run`)
 * spawned from the source through tsx, and one-shot client commands. Every
 * process spawned is remembered and killed by {@link killAllWeft} (call it in
 * afterAll/afterEach), so a failing test leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const cli = join(root, 'packages/core/src/cli/weft.ts');
const env = { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), NODE_OPTIONS: '' };
const live = new Set<ChildProcess>();

/** One structured log line of a node process. */
export interface LogLine {
  readonly ts: string;
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A running node process. */
export class WeftProcess {
  readonly logs: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

  private constructor(readonly child: ChildProcess, readonly dataDir: string) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let pending = '';
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      pending += d.toString();
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, i);
        pending = pending.slice(i + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          continue;
        }
        this.logs.push(line);
        for (const w of [...this.waiters]) {
          if (w.pred(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
  }

  /** Spawns `weft --data-dir DIR <args>` (a node-running command), in network namespace `netns` if given (host mounts), and waits for its "node ready" log line. */
  static async start(dataDir: string, args: readonly string[], options: { readonly timeoutMs?: number; readonly netns?: string } = {}): Promise<WeftProcess> {
    const argv = [...(process.env.WEFT_NODE_FLAGS ?? '').split(' ').filter((f) => f !== ''), '--import', 'tsx', cli, '--data-dir', dataDir, ...args];
    // In a network namespace (a "host" of a kernel-plane test): `nsenter --net=/var/run/netns/NS node ...`, not
    // `ip netns exec`: that one also gives the process a private (slave) mount namespace, so the network namespaces
    // the kernel plane bind-mounts under /var/run/netns would be visible to it alone and die with it on a kill -9
    // (and their containers' interfaces with them); a real host's node shares the host's mounts, as here.
    const child =
      options.netns !== undefined
        ? spawn('nsenter', [`--net=/var/run/netns/${options.netns}`, process.execPath, ...argv], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(process.execPath, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    const p = new WeftProcess(child, dataDir);
    await p.waitFor((l) => l.msg === 'node ready', options.timeoutMs ?? 30_000);
    return p;
  }

  /**
   * The end of the process's standard error for a failure message, a run of
   * lines with the same message (a background error repeated every tick)
   * folded into its first line and a count, so what came before still shows.
   */
  private logTail(max = 6000): string {
    const out: string[] = [];
    let last: string | undefined;
    let repeats = 0;
    for (const line of this.stderr.split('\n')) {
      let msg: string | undefined;
      try {
        const l = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
        msg = `${String(l.msg)}|${String(l.err?.message ?? '')}`;
      } catch {
        msg = undefined;
      }
      if (msg !== undefined && msg === last) {
        repeats += 1;
        continue;
      }
      if (repeats > 0) out.push(`    (the line above ${repeats} more times)`);
      repeats = 0;
      last = msg;
      out.push(line);
    }
    if (repeats > 0) out.push(`    (the line above ${repeats} more times)`);
    return out.join('\n').slice(-max);
  }

  /** The first log line (already seen or coming) matching `pred`; rejects when the process exits first or after `timeoutMs`. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const seen = this.logs.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`weft ${this.dataDir}: no matching log line within ${timeoutMs} ms; stderr (repeated messages folded):\n${this.logTail()}`));
      }, timeoutMs);
      this.waiters.push(w);
      void this.exited.then((code) => {
        if (!this.waiters.includes(w)) return;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(timer);
        reject(new Error(`weft ${this.dataDir} exited (${code}) before the log line; stdout:\n${this.stdout}\nstderr (repeated messages folded):\n${this.logTail()}`));
      });
    });
  }

  /** Kills it the way a crash does (SIGKILL) and waits for the exit. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops it gracefully (SIGTERM) and waits for the exit code; kills it (SIGKILL) when it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    this.child.kill('SIGTERM');
    // a node that does not finish its clean stop within timeoutMs is killed (the timer never outlives the exit)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What a one-shot `weft` command printed. */
export interface WeftResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a one-shot `weft --data-dir DIR <args>` (a client command) to its end (bounded by `timeoutMs`). */
export function weft(dataDir: string, args: readonly string[], timeoutMs = 60_000): Promise<WeftResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--data-dir', dataDir, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`weft ${args.join(' ')}: no exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Ports 0 for every listener of a node (join, store, Raft, both VXLAN ports): tests run beside anything. */
export const FREE_PORTS: readonly string[] = ['--join-port', '0', '--store-port', '0', '--raft-port', '0', '--vxlan-port', '0', '--encrypted-port', '0'];
/** Short timeouts so a failover or a status change fits a test (the defaults are Swarm-like). */
export const FAST_TIMING: readonly string[] = ['--election-timeout', '600ms', '--raft-heartbeat', '100ms', '--heartbeat', '500ms'];

/** `weft --data-dir DIR --format json <args>`, parsed; throws with the command's stderr when it exits non-zero. */
export async function weftJson<T>(dataDir: string, args: readonly string[]): Promise<T> {
  const r = await weft(dataDir, ['--format', 'json', ...args]);
  if (r.code !== 0) throw new Error(`weft ${args.join(' ')} (${dataDir}): exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Kills every `weft` process a test spawned and is still running. */
export async function killAllWeft(): Promise<void> {
  const all = [...live];
  for (const c of all) c.kill('SIGKILL');
  await Promise.all(all.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
}

/** What `weft --format json endpoint ping` prints. */
export interface PingSummary {
  readonly target: string;
  readonly sent: number;
  readonly received: number;
  readonly rttMs: readonly number[];
  readonly errors: readonly string[];
}
