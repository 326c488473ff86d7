/**
 * Spawns and controls a cluster of bench/raft/node-process.ts processes on
 * 127.0.0.1 with LevelDB data directories under one temp directory. Used by
 * the 3-process test (packages/raft/test/cluster) and the raft benchmark.
 * `destroy()` kills every process (SIGKILL) and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { ConnectionLostError, KvClient, type KvResponse } from './kv-client';
import type { NodeProcessConfig } from './node-process';

const script = join(__dirname, 'node-process.ts');
const repoRoot = join(__dirname, '..', '..');

/** A free TCP port on 127.0.0.1 (bound and released; fine for tests on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ProcessClusterOptions {
  ids?: string[];
  electionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** UNSAFE, tests only: every node opens LevelDB with `sync: false` (see NodeProcessConfig.unsafeNoSync). */
  unsafeNoSync?: boolean;
  /**
   * Mutual TLS on every node's Raft and client ports (NodeProcessConfig.tls):
   * the cluster CA, each node's manager certificate, and the `node:tls`
   * options clients (statuses, LeaderClient, the benchmark) dial with.
   * Absent: plain TCP.
   */
  tls?: { caPem: string; nodes: Record<string, { certPem: string; keyPem: string }>; client: ConnectionOptions };
}

export class ProcessCluster {
  readonly dir: string;
  readonly ids: string[];
  readonly electionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly unsafeNoSync: boolean;
  private readonly tls: ProcessClusterOptions['tls'];
  private members: Record<string, { raftPort: number; clientPort: number }> = {};
  private readonly procs = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, string>();
  /** Kills the children if this process exits without destroy() (e.g. an interrupted run). */
  private readonly onExit = (): void => {
    for (const p of this.procs.values()) p.kill('SIGKILL');
  };

  constructor(options: ProcessClusterOptions = {}) {
    this.ids = options.ids ?? ['n1', 'n2', 'n3'];
    this.electionTimeoutMs = options.electionTimeoutMs ?? 1000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 100;
    this.unsafeNoSync = options.unsafeNoSync ?? false;
    this.tls = options.tls;
    this.dir = mkdtempSync(join(tmpdir(), `weft-raft-cluster-${process.pid}-`));
    process.on('exit', this.onExit);
  }

  /** `node:tls` options a client dials the nodes' client ports with, or undefined for plain TCP. */
  get clientTls(): ConnectionOptions | undefined {
    return this.tls?.client;
  }

  /** Client address of node `id`. */
  clientAddress(id: string): string {
    return `127.0.0.1:${this.members[id]!.clientPort}`;
  }

  /** Picks ports and starts every node; resolves once all print `ready`. */
  async start(): Promise<void> {
    for (const id of this.ids) this.members[id] = { raftPort: await freePort(), clientPort: await freePort() };
    await Promise.all(this.ids.map((id) => this.startNode(id)));
  }

  /** Starts (or restarts, same ports and data directory) node `id`. */
  startNode(id: string, timeoutMs = 20_000): Promise<void> {
    const m = this.members[id]!;
    const cfg: NodeProcessConfig = {
      id,
      raftPort: m.raftPort,
      clientPort: m.clientPort,
      members: this.members,
      dataDir: this.dataDir(id),
      electionTimeoutMs: this.electionTimeoutMs,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      ...(this.unsafeNoSync ? { unsafeNoSync: true } : {}),
      ...(this.tls !== undefined ? { tls: { caPem: this.tls.caPem, ...this.tls.nodes[id]! } } : {}),
    };
    const prof = process.env.WEFT_RAFT_PROFILE_DIR;
    const args = prof ? ['--cpu-prof', '--cpu-prof-dir', join(prof, id), '--import', 'tsx', script] : ['--import', 'tsx', script];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, WEFT_RAFT_NODE: JSON.stringify(cfg), NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.procs.set(id, child);
    this.logs.set(id, '');
    child.stderr!.on('data', (d: Buffer) => this.logs.set(id, (this.logs.get(id)! + d.toString()).slice(-8000)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${id} not ready within ${timeoutMs} ms: ${this.logs.get(id)}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node ${id} exited (${code ?? signal}) before ready: ${this.logs.get(id)}`));
      });
    });
  }

  /** kill -9 node `id`; resolves once the process is gone. */
  async kill(id: string): Promise<void> {
    const p = this.procs.get(id);
    this.procs.delete(id);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGKILL');
    });
  }

  /** Stops node `id` gracefully (SIGTERM), falling back to SIGKILL after `graceMs`. */
  async stop(id: string, graceMs = 5000): Promise<void> {
    const p = this.procs.get(id);
    this.procs.delete(id);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => {
      const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
      p.once('exit', () => {
        clearTimeout(timer);
        r();
      });
      p.kill('SIGTERM');
    });
  }

  /** Raft and client ports of node `id` on 127.0.0.1 (after start()). */
  ports(id: string): { raftPort: number; clientPort: number } {
    return { ...this.members[id]! };
  }

  /** Data directory of node `id`. */
  dataDir(id: string): string {
    return join(this.dir, id);
  }

  /** Process ids of the running nodes (for /proc CPU accounting). */
  pids(): number[] {
    return [...this.procs.values()].map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Process id of node `id`, or undefined when it is not running. */
  pid(id: string): number | undefined {
    return this.procs.get(id)?.pid;
  }

  /** Whether node `id` has a running process. */
  isRunning(id: string): boolean {
    return this.procs.has(id);
  }

  /** Recent stderr of node `id` (for failure messages). */
  log(id: string): string {
    return this.logs.get(id) ?? '';
  }

  /** Asks every running node for its status (null where it does not answer). */
  async statuses(): Promise<Record<string, KvResponse['status'] | null>> {
    const out: Record<string, KvResponse['status'] | null> = {};
    await Promise.all(
      this.ids.map(async (id) => {
        out[id] = null;
        if (!this.isRunning(id)) return;
        try {
          const c = await KvClient.connect(this.clientAddress(id), 1000, this.clientTls);
          try {
            out[id] = (await c.request({ op: 'status' }, 1000)).status ?? null;
          } finally {
            c.close();
          }
        } catch {
          // not answering
        }
      }),
    );
    return out;
  }

  /** Waits (bounded) until the running nodes agree on one leader; returns its id. */
  async waitForLeader(timeoutMs = 20_000, exclude?: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const st = await this.statuses();
      last = st;
      const running = Object.entries(st).filter(([id]) => this.isRunning(id));
      const leaders = running.filter(([, s]) => s?.role === 'leader').map(([id]) => id);
      if (leaders.length === 1 && leaders[0] !== exclude && running.every(([, s]) => s?.leaderId === leaders[0])) return leaders[0]!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no agreed leader within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  /** SIGKILLs every process and removes the data directory. Safe to call twice. */
  async destroy(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((id) => this.kill(id)));
    process.off('exit', this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A client that follows the leader: keeps one connection per node, sends each
 * put to the node it believes leads, and on NotLeaderError / a lost connection
 * moves on (using the leader hint when there is one). `put` resolves only with
 * an acknowledged write; it rejects with the last error after `deadlineMs`.
 */
export class LeaderClient {
  private readonly conns = new Map<string, Promise<KvClient>>();
  private target: string;

  constructor(private readonly cluster: ProcessCluster) {
    this.target = cluster.ids[0]!;
  }

  private conn(id: string): Promise<KvClient> {
    let c = this.conns.get(id);
    if (c === undefined) {
      c = KvClient.connect(this.cluster.clientAddress(id), 1000, this.cluster.clientTls);
      c.catch(() => this.conns.delete(id));
      this.conns.set(id, c);
    }
    return c.then((client) => {
      if (client.isClosed) {
        this.conns.delete(id);
        return this.conn(id);
      }
      return client;
    });
  }

  /** One attempt at the current target; returns the response or throws ConnectionLostError. */
  private async attempt(req: { op: 'put' | 'get'; key: string; value?: string }, timeoutMs: number): Promise<KvResponse> {
    const c = await this.conn(this.target);
    return c.request(req, timeoutMs);
  }

  /** Sends until acknowledged (ok) or `deadlineMs` passes. `onUnknown` is told about attempts with an unknown outcome. */
  async call(req: { op: 'put' | 'get'; key: string; value?: string }, deadlineMs = 30_000): Promise<KvResponse> {
    const deadline = Date.now() + deadlineMs;
    let lastError = 'none';
    const ids = this.cluster.ids;
    while (Date.now() < deadline) {
      try {
        const res = await this.attempt(req, 3000);
        if (res.ok) return res;
        lastError = `${res.error}: ${res.message}`;
        if (res.error === 'NotLeaderError' && res.leaderId && res.leaderId !== this.target) {
          this.target = res.leaderId;
          continue;
        }
      } catch (err) {
        if (!(err instanceof ConnectionLostError)) throw err;
        lastError = err.message;
      }
      this.target = ids[(ids.indexOf(this.target) + 1) % ids.length]!;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${req.op} ${req.key} not acknowledged within ${deadlineMs} ms; last error ${lastError}`);
  }

  /** The node this client currently sends to. */
  get current(): string {
    return this.target;
  }

  close(): void {
    for (const c of this.conns.values()) c.then((x) => x.close()).catch(() => {});
    this.conns.clear();
  }
}
