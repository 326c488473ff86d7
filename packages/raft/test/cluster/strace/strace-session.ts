/**
 * `strace -f -p PID` attached to a running node process, writing every
 * write/writev/pwrite64/fsync/fdatasync of all its threads to a file, with
 * buffers in full hex (-xx -s) and fds named (-yy: file paths, TCP ports).
 * `stop()` detaches (SIGINT) and returns the file's text; an exit hook kills
 * a session the test did not stop.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Capability } from '../../../../../test-support/capabilities';

const live = new Set<ChildProcess>();
let hooked = false;

/** strace present and allowed to attach to a child of ours (ptrace permitted). */
export function straceCapability(): Capability {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux strace' };
  const probe = spawnSync('strace', ['-f', '-qq', '-e', 'trace=fdatasync', 'true'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.error) return { ok: false, reason: 'needs `strace` on PATH (Debian package strace)' };
  if (probe.status !== 0) return { ok: false, reason: `strace cannot trace here (exit ${probe.status}; ptrace not permitted?)` };
  return { ok: true, reason: '' };
}

export class StraceSession {
  private constructor(
    private readonly child: ChildProcess,
    private readonly file: string,
    private stderr: () => string,
  ) {}

  /** Attaches to every thread of `pid`; resolves once strace reports the attach. */
  static async attach(pid: number, file: string, timeoutMs = 10_000): Promise<StraceSession> {
    if (!hooked) {
      hooked = true;
      process.once('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    const child = spawn('strace', ['-f', '-p', String(pid), '-o', file, '-xx', '-yy', '-s', '1048576', '-e', 'trace=write,writev,pwrite64,fsync,fdatasync'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const session = new StraceSession(child, file, () => err);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`strace did not attach to ${pid} within ${timeoutMs} ms: ${err}`));
      }, timeoutMs);
      const onData = (): void => {
        if (!err.includes('attached')) return;
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve();
      };
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`strace exited (${code}) before attaching to ${pid}: ${err}`));
      });
    });
    return session;
  }

  /** Detaches and returns the trace; SIGKILL after `graceMs` if strace does not exit. */
  async stop(graceMs = 5000): Promise<string> {
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        c.kill('SIGINT');
      });
    }
    try {
      return readFileSync(this.file, 'utf8');
    } catch (err) {
      throw new Error(`no strace output in ${this.file}: ${this.stderr()}`, { cause: err });
    }
  }
}
