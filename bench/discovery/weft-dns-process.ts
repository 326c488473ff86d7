/** Starts and stops bench/discovery/dns-server-child.ts (Weft's DnsServer in a process of its own). */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { SocketAddress } from '@weft/interface';

const CHILD = join(__dirname, 'dns-server-child.ts');
const READY_BOUND_MS = 30_000;

/** A running Weft DNS server process. */
export class WeftDnsProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly lines: Interface,
    /** Where it listens (UDP and TCP). */
    readonly address: SocketAddress,
    private readonly waiters: Array<(line: string) => void>,
  ) {}

  /** Its process id (for /proc CPU time). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Spawns the child and resolves once it listens; kills it when it does not within 30 s. */
  static async start(): Promise<WeftDnsProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'inherit'], cwd: join(__dirname, '..', '..') });
    child.stdin!.on('error', () => undefined); // EPIPE once the child is gone
    const lines = createInterface({ input: child.stdout! });
    const waiters: Array<(line: string) => void> = [];
    try {
      const address = await new Promise<SocketAddress>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`Weft DNS child did not listen within ${READY_BOUND_MS} ms`)), READY_BOUND_MS);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`Weft DNS child exited with code ${String(code)} before listening`));
        });
        child.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        lines.on('line', (line) => {
          if (line.startsWith('listening ')) {
            clearTimeout(timer);
            resolve(JSON.parse(line.slice('listening '.length)) as SocketAddress);
          } else {
            waiters.shift()?.(line);
          }
        });
      });
      return new WeftDnsProcess(child, lines, address, waiters);
    } catch (err) {
      child.kill('SIGKILL');
      lines.close();
      throw err;
    }
  }

  /** The server's counters (`DnsServer.counters()`), asked over stdin; rejects after 5 s. */
  counters(): Promise<Record<string, number>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Weft DNS child: no counters within 5000 ms')), 5000);
      this.waiters.push((line) => {
        clearTimeout(timer);
        if (line.startsWith('counters ')) resolve(JSON.parse(line.slice('counters '.length)) as Record<string, number>);
        else reject(new Error(`Weft DNS child: unexpected line ${JSON.stringify(line)}`));
      });
      this.child.stdin!.write('counters\n');
    });
  }

  /** Asks the child to close its server and exit; SIGKILLs it after 5 s. Idempotent. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      this.lines.close();
      return;
    }
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    this.lines.close();
  }
}
