import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { DnsQueryHandler } from '@weft/interface';
import { LinuxDataPlaneError } from '../errors';
import { FrameReader, FrameType, type HelperStatus } from './dns-protocol';

/** The argv marker every helper carries (how a crashed run's helpers are found). */
export const HELPER_MARKER = 'weft-dns-helper';
const READY_MS = 15_000;
const STATUS_MS = 5_000;
const STOP_MS = 3_000;
/** Most queries the node side runs the handler for at once per helper; more are dropped and counted. */
const MAX_IN_FLIGHT = 256;

/**
 * The command that runs the helper: `dist/dns-helper.js` next to the bundle;
 * from source (tests), `dns-helper.ts` through the `tsx` loader.
 * @throws LinuxDataPlaneError when neither is there.
 */
export function helperCommand(dir: string = __dirname): string[] {
  for (const name of ['dns-helper.js', 'dns-helper.cjs']) if (existsSync(join(dir, name))) return [process.execPath, join(dir, name)];
  const ts = join(dir, 'dns-helper.ts');
  if (existsSync(ts)) {
    try {
      return [process.execPath, '--require', createRequire(join(dir, 'x.js')).resolve('tsx/cjs'), ts];
    } catch (err) {
      throw new LinuxDataPlaneError(`DNS helper: ${ts} needs the tsx loader to run from source`, { cause: err });
    }
  }
  throw new LinuxDataPlaneError(`DNS helper: no dns-helper.js in ${dir}`);
}

/**
 * Pids of the DNS helpers running for `namespace` (read from
 * `/proc/<pid>/cmdline`, no process started), except `except`.
 */
export function helperPids(namespace: string, except: ReadonlySet<number> = new Set()): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  const needle = `\0${HELPER_MARKER}\0${namespace}\0`;
  for (const e of entries) {
    if (!/^\d+$/.test(e) || except.has(Number(e))) continue;
    try {
      const cmd = `\0${readFileSync(`/proc/${e}/cmdline`, 'latin1')}`;
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Where a helper runs and what it answers. */
export interface HelperSpec {
  readonly networkId: string;
  /** The network namespace's name (part of the helper's argv). */
  readonly namespace: string;
  /** Its path (`/var/run/netns/<name>`). */
  readonly nsPath: string;
  /** The DNS address it binds (already on the namespace's bridge). */
  readonly address: string;
}

/** One running helper, as the plane sees it. */
class Helper {
  readonly child: ChildProcess;
  private readonly channel: Socket;
  private readonly reader = new FrameReader();
  private readonly statusWaiters = new Map<number, (s: HelperStatus | undefined) => void>();
  private nextStatus = 1;
  private inFlight = 0;
  exited = false;
  readonly ready: Promise<number>;

  constructor(
    readonly spec: HelperSpec,
    argv: readonly string[],
    private readonly handler: () => DnsQueryHandler | undefined,
    private readonly count: (key: string) => void,
  ) {
    this.child = spawn('nsenter', [`--net=${spec.nsPath}`, ...argv, HELPER_MARKER, spec.namespace, spec.address], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    this.channel = this.child.stdio[3] as Socket;
    let stderr = '';
    this.child.stderr?.on('data', (b: Buffer) => void (stderr = (stderr + b.toString('utf8')).slice(-2000)));
    let resolveReady!: (pid: number) => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((resolveReady = res), (rejectReady = rej)));
    this.ready.catch(() => undefined);
    const timer = setTimeout(() => rejectReady(new LinuxDataPlaneError(`DNS helper of network ${spec.networkId} not ready after ${READY_MS} ms: ${stderr.trim()}`)), READY_MS);
    this.child.on('error', (err) => {
      this.exited = true; // never started (or cannot be signalled): no 'exit' follows
      clearTimeout(timer);
      rejectReady(new LinuxDataPlaneError(`DNS helper of network ${spec.networkId}: ${err.message}`, { cause: err }));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      clearTimeout(timer);
      rejectReady(new LinuxDataPlaneError(`DNS helper of network ${spec.networkId} exited (${signal ?? code}): ${stderr.trim()}`));
      for (const w of this.statusWaiters.values()) w(undefined);
      this.statusWaiters.clear();
    });
    this.channel.on('error', () => undefined);
    this.channel.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = this.reader.push(chunk);
      } catch {
        this.count('dns.drops.channel');
        this.kill();
        return;
      }
      for (const f of frames) {
        if (f.type === FrameType.ready) {
          clearTimeout(timer);
          resolveReady(this.child.pid ?? 0);
        } else if (f.type === FrameType.fail) {
          clearTimeout(timer);
          rejectReady(new LinuxDataPlaneError(`DNS helper of network ${spec.networkId}: ${f.body.toString('utf8')}`));
        } else if (f.type === FrameType.query && f.body.length >= 11 + 12) this.query(f.body);
        else if (f.type === FrameType.status && f.body.length >= 4) {
          const w = this.statusWaiters.get(f.body.readUInt32BE(0));
          this.statusWaiters.delete(f.body.readUInt32BE(0));
          try {
            w?.(JSON.parse(f.body.subarray(4).toString('utf8')) as HelperStatus);
          } catch {
            this.count('dns.drops.malformed');
            w?.(undefined);
          }
        } else this.count('dns.drops.malformed');
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the helper for its status (undefined when it does not answer in time). */
  status(): Promise<HelperStatus | undefined> {
    if (this.exited) return Promise.resolve(undefined);
    const id = this.nextStatus++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => (this.statusWaiters.delete(id), resolve(undefined)), STATUS_MS);
      this.statusWaiters.set(id, (s) => (clearTimeout(timer), resolve(s)));
      const body = Buffer.allocUnsafe(4);
      body.writeUInt32BE(id);
      this.write(FrameType.statusRequest, body);
    });
  }

  /** Stops the helper: SIGTERM, SIGKILL after a bounded wait. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((res) => this.child.once('exit', () => res()));
    const within = async (ms: number): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
      clearTimeout(timer);
    };
    this.channel.destroy();
    this.child.kill('SIGTERM');
    await within(STOP_MS);
    if (!this.exited) {
      this.kill();
      await within(STOP_MS);
    }
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private write(type: number, body: Buffer): void {
    if (this.exited || this.channel.destroyed) return;
    const head = Buffer.allocUnsafe(5);
    head.writeUInt32BE(1 + body.length);
    head[4] = type;
    this.channel.write(Buffer.concat([head, body]));
  }

  private query(body: Buffer): void {
    const id = body.readUInt32BE(0);
    const transport = body[4] === 1 ? 'tcp' : body[4] === 0 ? 'udp' : undefined;
    const handler = this.handler();
    const reply = (answer: Uint8Array | undefined): void => {
      const out = Buffer.allocUnsafe(4 + (answer?.length ?? 0));
      out.writeUInt32BE(id);
      if (answer !== undefined) out.set(answer, 4);
      this.write(FrameType.answer, out);
    };
    if (transport === undefined) {
      this.count('dns.drops.malformed');
      return reply(undefined);
    }
    if (handler === undefined) {
      this.count('dns.drops.no-handler');
      return reply(undefined);
    }
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.count('dns.drops.overload');
      return reply(undefined);
    }
    this.count('dns.queries');
    this.inFlight++;
    const sourceIp = `${body[5]}.${body[6]}.${body[7]}.${body[8]}`;
    let p: Promise<Uint8Array | undefined>;
    try {
      p = handler({ networkId: this.spec.networkId, sourceIp, sourcePort: body.readUInt16BE(9), transport, message: Uint8Array.prototype.slice.call(body, 11) });
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (answer) => {
        if (answer !== undefined && answer.length > 65_535) {
          this.count('dns.drops.oversize');
          answer = undefined;
        }
        if (answer !== undefined) this.count('dns.answers');
        reply(answer);
      },
      () => {
        this.count('dns.drops.handler-error');
        reply(undefined);
      },
    ).finally(() => this.inFlight--);
  }
}

/**
 * The DNS helpers of one kernel plane, one per active network with a DNS
 * address, each started with `nsenter --net=<ns> node dns-helper.js` (one
 * process, kept running). Queries they relay go to the plane's handler.
 */
export class DnsRelays {
  private readonly helpers = new Map<string, Helper>();
  private readonly counts: Record<string, number> = {};
  /** Helpers started so far (each a process). */
  starts = 0;
  /** Helper starts that failed outside a call that could report it (an attach): `reconcile()` reports the next attempt's error. */
  failures = 0;

  constructor(private readonly handler: () => DnsQueryHandler | undefined) {}

  /** The running helper's pid for a network, if any. */
  pidOf(networkId: string): number | undefined {
    const h = this.helpers.get(networkId);
    return h === undefined || h.exited ? undefined : h.pid;
  }

  /** Whether a live helper serves `spec` exactly. */
  serves(spec: HelperSpec): boolean {
    const h = this.helpers.get(spec.networkId);
    return h !== undefined && !h.exited && h.spec.address === spec.address && h.spec.nsPath === spec.nsPath;
  }

  /**
   * Starts the network's helper (replacing one that serves something else, or
   * died; killing any other helper found in that namespace, e.g. a crashed
   * run's) and waits until its sockets are bound.
   * @throws LinuxDataPlaneError when it does not get ready (it is killed).
   */
  async start(spec: HelperSpec): Promise<{ replaced: number[] }> {
    const prev = this.helpers.get(spec.networkId);
    if (prev !== undefined) await this.stop(spec.networkId);
    const replaced = this.killStrays(spec.namespace);
    this.starts++;
    const h = new Helper(spec, helperCommand(), this.handler, (k) => void (this.counts[k] = (this.counts[k] ?? 0) + 1));
    this.helpers.set(spec.networkId, h);
    try {
      await h.ready;
    } catch (err) {
      this.helpers.delete(spec.networkId);
      await h.stop();
      throw err;
    }
    return { replaced };
  }

  /** Kills helpers of `namespace` that are not this plane's (a crashed run's). Returns their pids. */
  killStrays(namespace: string): number[] {
    const mine = new Set([...this.helpers.values()].filter((h) => !h.exited && h.pid !== undefined).map((h) => h.pid!));
    const strays = helperPids(namespace, mine);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    return strays;
  }

  /** Stops the network's helper; no-op when none. */
  async stop(networkId: string): Promise<void> {
    const h = this.helpers.get(networkId);
    if (h === undefined) return;
    this.helpers.delete(networkId);
    await h.stop();
  }

  /** The helper's status, or undefined when it is not running or does not answer. */
  async status(networkId: string): Promise<HelperStatus | undefined> {
    return this.helpers.get(networkId)?.status();
  }

  /** Networks with a helper object (alive or not). */
  networks(): string[] {
    return [...this.helpers.keys()];
  }

  /** Node-side counters (`dns.queries`, `dns.answers`, `dns.drops.<reason>`) and `dns.helpers`. */
  counters(): Record<string, number> {
    return { ...this.counts, 'dns.helpers': [...this.helpers.values()].filter((h) => !h.exited).length, 'dns.helperStarts': this.starts, 'dns.helperFailures': this.failures };
  }

  /** Stops every helper. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.helpers.keys()].map((id) => this.stop(id)));
  }
}
