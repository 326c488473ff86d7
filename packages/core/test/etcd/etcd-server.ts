/**
 * One etcd member (Debian's etcd-server, `/usr/bin/etcd`) on 127.0.0.1 with
 * free client and peer ports and its data directory in a temp directory, for
 * tests. `stop()` kills it and removes the directory; a process `exit` hook
 * kills it too if the test process dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Capability } from '../../../../test-support/capabilities';

/** Where Debian's etcd-server installs etcd. */
export const ETCD_BINARY = '/usr/bin/etcd';

/** Present when the etcd binary is installed (CI installs etcd-server and runs these tests). */
export function etcdCapability(): Capability {
  return existsSync(ETCD_BINARY) ? { ok: true, reason: '' } : { ok: false, reason: `needs ${ETCD_BINARY} (Debian package etcd-server)` };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** GET /health on the client URL: true once the member serves (etcd answers `{"health":"true"}`). */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(`${url}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export class EtcdServer {
  private logs = '';
  private readonly onExit = (): void => {
    this.proc.kill('SIGKILL');
  };

  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    /** Client port on 127.0.0.1. */
    readonly port: number,
  ) {
    proc.stderr?.on('data', (d: Buffer) => (this.logs = (this.logs + d.toString()).slice(-4000)));
    process.on('exit', this.onExit);
  }

  /** `http://127.0.0.1:<port>`. */
  get clientUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts a single-member cluster and waits (at most `timeoutMs`) until it
   * serves. `progressNotifyMs`: how often etcd sends quiet watches a progress
   * notification (etcd's default is 10 minutes).
   */
  static async start(options: { readonly timeoutMs?: number; readonly progressNotifyMs?: number } = {}): Promise<EtcdServer> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const dir = mkdtempSync(join(tmpdir(), `weft-etcd-store-${process.pid}-`));
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const client = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const proc = spawn(
      ETCD_BINARY,
      [
        '--name', 'weft-test',
        '--data-dir', join(dir, 'data'),
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `weft-test=${peer}`,
        '--initial-cluster-state', 'new',
        ...(options.progressNotifyMs !== undefined ? ['--experimental-watch-progress-notify-interval', `${options.progressNotifyMs}ms`] : []),
        '--logger', 'zap',
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new EtcdServer(proc, dir, clientPort);
    const deadline = Date.now() + timeoutMs;
    try {
      while (!(await healthy(client))) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`etcd exited (${proc.exitCode ?? proc.signalCode}): ${server.logs}`);
        if (Date.now() > deadline) throw new Error(`etcd did not serve on ${client} within ${timeoutMs} ms: ${server.logs}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Recent stderr of the member. */
  log(): string {
    return this.logs;
  }

  /** Kills the member (waiting at most 5 s for it to exit) and removes its directory. Idempotent. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        p.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        p.kill('SIGKILL');
      });
    }
    process.off('exit', this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
