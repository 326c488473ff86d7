/**
 * dnsmasq (Debian `dnsmasq-base`) as the baseline DNS server of the
 * `dns queries/s` row: in the foreground as a child of the bench, on a free
 * loopback port, answering only a hosts file (no /etc/hosts, no resolv.conf,
 * no upstream, no config file, no cache of forwarded answers, no pid file),
 * as the current user (so it works as root, as CI runs it, and unprivileged).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { SocketAddress } from '@weft/interface';
import { freeLoopbackPort } from './free-port';

/** Where Debian installs it. */
export const DNSMASQ = '/usr/sbin/dnsmasq';
const READY_BOUND_MS = 10_000;

/** The arguments dnsmasq is run with (for the row's note). */
export function dnsmasqArgs(port: number, hostsPath: string): string[] {
  return [
    '--keep-in-foreground',
    '--log-facility=-',
    '--conf-file=/dev/null',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hostsPath}`,
    `--user=${userInfo().username}`,
    '--pid-file=',
    '--cache-size=0',
  ];
}

/**
 * A watchdog for `pid`: a shell that waits for end of file on its stdin (a
 * pipe from this process) and then SIGTERMs `pid`, so dnsmasq does not
 * outlive a bench that was killed (dnsmasq clears a parent-death signal).
 */
function watchdog(pid: number): ChildProcess {
  const w = spawn('/bin/sh', ['-c', 'read _ ; kill -TERM "$0" 2>/dev/null', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  w.stdin!.on('error', () => undefined);
  w.on('error', () => undefined);
  return w;
}

/** A running dnsmasq. */
export class Dnsmasq {
  private readonly guard: ChildProcess | undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** Where it listens (UDP and TCP). */
    readonly address: SocketAddress,
    /** What it wrote to stderr so far (its log). */
    readonly log: string[],
  ) {
    this.guard = child.pid === undefined ? undefined : watchdog(child.pid);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Whether it is installed. */
  static installed(): boolean {
    return existsSync(DNSMASQ);
  }

  /**
   * Starts dnsmasq serving `hostsPath` on a free port of 127.0.0.1 and
   * resolves once `ready(address)` resolves true (polled every 50 ms, at most
   * 10 s); tries up to 3 ports (another process may take a port between the
   * probe and dnsmasq's bind). Kills it on failure.
   */
  static async start(hostsPath: string, ready: (at: SocketAddress) => Promise<boolean>): Promise<Dnsmasq> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freeLoopbackPort();
      const log: string[] = [];
      const child = spawn(DNSMASQ, dnsmasqArgs(port, hostsPath), { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        if (log.length < 200) log.push(chunk);
      });
      const m = new Dnsmasq(child, { host: '127.0.0.1', port }, log);
      try {
        const deadline = performance.now() + READY_BOUND_MS;
        let spawnError: Error | undefined;
        child.once('error', (e) => (spawnError = e));
        for (;;) {
          if (spawnError) throw spawnError;
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dnsmasq exited (${String(child.exitCode ?? child.signalCode)}): ${log.join('').trim()}`);
          if (await ready(m.address)) return m;
          if (performance.now() > deadline) throw new Error(`dnsmasq did not answer on 127.0.0.1:${port} within ${READY_BOUND_MS} ms: ${log.join('').trim()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } catch (err) {
        lastError = err;
        await m.stop();
      }
    }
    throw lastError;
  }

  /** SIGTERM, then SIGKILL after 5 s; resolves when it has exited. Idempotent. */
  async stop(): Promise<void> {
    // The watchdog goes first, so it can never signal a reused pid.
    if (this.guard && this.guard.exitCode === null && this.guard.signalCode === null) this.guard.kill('SIGKILL');
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  }
}
