import { spawn } from 'node:child_process';
import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { LinuxCommandError } from '../errors';
import { assertNetworkCapabilities, readEffectiveCapabilities, type CapabilityReader } from './capability';

const WHAT = 'CommandRunner';

/** Options of {@link CommandRunner}. */
export interface CommandRunnerOptions {
  /**
   * Path of the network namespace the "host" side runs in (the underlay's
   * namespace), e.g. `/var/run/netns/host1`; every command without its own
   * `netns` target runs there through `nsenter --net=PATH`. Default: the
   * namespace this process is in (commands are spawned directly).
   */
  readonly hostNetns?: string;
  /** Reads the effective capability set (default: `CapEff` of `/proc/self/status`); injected by tests. */
  readonly capabilityReader?: CapabilityReader;
  /** Each command is killed after this many milliseconds (default 20 000). */
  readonly timeoutMs?: number;
}

const netnsPath = z.string().regex(/^\/[^\0\n]*$/, 'must be an absolute path');

/** @internal */
export const commandRunnerOptionsSchema = z
  .object({
    hostNetns: netnsPath.optional(),
    capabilityReader: z.custom<CapabilityReader>((v) => typeof v === 'function', 'must be a function').optional(),
    timeoutMs: z.number().int().min(100).max(600_000).default(20_000),
  })
  .strict();

/**
 * Where a command runs: `netns` is a namespace file path
 * (`/var/run/netns/NAME`, `/proc/PID/ns/net`), entered with `nsenter`;
 * `newNetns` is the path of an existing empty file where a new namespace is
 * created and kept (`unshare --net=PATH`: one process creates the namespace
 * and runs the command in it). Neither: the host namespace.
 */
export interface CommandTarget {
  readonly netns?: string;
  readonly newNetns?: string;
}

/** Options of a `-batch` run. */
export interface BatchOptions extends CommandTarget {
  /**
   * Run with `-force` and succeed when every failing line failed only
   * because its object was already gone (ENOENT, unknown device): for
   * idempotent removals. Default false (the batch stops at its first error).
   */
  readonly tolerateMissing?: boolean;
}

/** Output of one finished command. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** stderr lines a removal may print for something already gone. */
const MISSING = /No such file or directory|Cannot find device|No such device|No such process|Command failed -:\d+|Error: argument .* is wrong: Device does not exist/;

/**
 * Runs iproute2 (`ip`, `bridge`) and `nft` for the kernel plane, in the host
 * namespace or inside another namespace through `nsenter --net=PATH` (`ip -n`
 * takes only named namespaces). Changes go as one `-batch -` script per
 * namespace and tool; reads use `-json`. Every process it starts is counted
 * in {@link CommandRunner.spawns} (an `nsenter` or `unshare` and the tool
 * it execs count as one; `unshare` forks once more inside to mount the new
 * namespace).
 *
 * Construction checks the process's effective capabilities and throws
 * `MissingCapabilityError` naming `CAP_NET_ADMIN` (or `CAP_SYS_ADMIN`) when
 * one is missing, before anything runs.
 */
export class CommandRunner {
  /** The host namespace path, when one was given. */
  readonly hostNetns: string | undefined;
  private readonly timeoutMs: number;
  private spawned = 0;

  /**
   * @throws InvalidOptionsError naming the bad option.
   * @throws MissingCapabilityError when `CAP_NET_ADMIN` or `CAP_SYS_ADMIN` is not effective.
   */
  constructor(options: CommandRunnerOptions = {}) {
    const o = parseOptions(commandRunnerOptionsSchema, options, WHAT);
    assertNetworkCapabilities(o.capabilityReader ?? (() => readEffectiveCapabilities()), WHAT);
    this.hostNetns = o.hostNetns;
    this.timeoutMs = o.timeoutMs;
  }

  /** Processes started so far (each `run`, batch or read is one). */
  get spawns(): number {
    return this.spawned;
  }

  /**
   * Runs `ip -batch -` with `lines` (one `ip` command each, without `ip`) in the target namespace.
   * Resolves without spawning when `lines` is empty.
   * @throws LinuxCommandError with the command, exit code, stderr and the script.
   */
  async ipBatch(lines: readonly string[], options: BatchOptions = {}): Promise<void> {
    await this.batch('ip', lines, options);
  }

  /** Like {@link CommandRunner.ipBatch} for `bridge -batch -` (FDB entries). */
  async bridgeBatch(lines: readonly string[], options: BatchOptions = {}): Promise<void> {
    await this.batch('bridge', lines, options);
  }

  /**
   * Runs `ip -json ...args` in the target namespace and parses its output
   * (an empty output parses as `[]`).
   * @throws LinuxCommandError when it fails or prints something that is not JSON.
   */
  async ipJson<T = unknown>(args: readonly string[], target: CommandTarget = {}): Promise<T> {
    return this.json<T>('ip', args, target);
  }

  /** Like {@link CommandRunner.ipJson} for `bridge -json ...args`. */
  async bridgeJson<T = unknown>(args: readonly string[], target: CommandTarget = {}): Promise<T> {
    return this.json<T>('bridge', args, target);
  }

  /** Runs `nft -f -` with `script` in the target namespace (nft applies a script atomically). */
  async nft(script: string, target: CommandTarget = {}): Promise<CommandOutput> {
    return this.run(['nft', '-f', '-'], target, script);
  }

  /**
   * Runs `argv` in the target namespace with `input` on stdin.
   * @throws LinuxCommandError on a non-zero exit, a timeout, or a spawn failure.
   */
  run(argv: readonly string[], target: CommandTarget = {}, input?: string): Promise<CommandOutput> {
    const netns = target.netns ?? this.hostNetns;
    const full =
      target.newNetns !== undefined ? ['unshare', `--net=${target.newNetns}`, ...argv] : netns === undefined ? [...argv] : ['nsenter', `--net=${netns}`, ...argv];
    const command = full.join(' ');
    const lines = input === undefined ? [] : input.split('\n').filter((l) => l !== '');
    this.spawned++;
    return new Promise((resolve, reject) => {
      const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let settled = false;
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      const finish = (e: LinuxCommandError | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      };
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => finish(new LinuxCommandError(command, null, e.message, lines, { cause: e })));
      child.stdin.on('error', () => {
        // the child exited before reading all of stdin: its exit status tells
        // what happened
      });
      child.on('close', (code, signal) => {
        const stderr = Buffer.concat(err).toString('utf8');
        if (code === 0) finish(undefined);
        else finish(new LinuxCommandError(command, code, signal ? `killed by ${signal} (timeout ${this.timeoutMs} ms) ${stderr}` : stderr, lines));
      });
      child.stdin.end(input ?? '');
    });
  }

  private async batch(tool: 'ip' | 'bridge', lines: readonly string[], options: BatchOptions): Promise<void> {
    if (lines.length === 0) return;
    const argv = options.tolerateMissing ? [tool, '-force', '-batch', '-'] : [tool, '-batch', '-'];
    try {
      await this.run(argv, options, `${lines.join('\n')}\n`);
    } catch (e) {
      if (options.tolerateMissing && e instanceof LinuxCommandError && e.exitCode !== null && onlyMissing(e.stderr)) return;
      throw e;
    }
  }

  private async json<T>(tool: 'ip' | 'bridge', args: readonly string[], target: CommandTarget): Promise<T> {
    const argv = [tool, '-json', ...args];
    const { stdout } = await this.run(argv, target);
    const text = stdout.trim();
    if (text === '') return [] as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      const netns = target.netns ?? this.hostNetns;
      throw new LinuxCommandError(`${netns === undefined ? '' : `nsenter --net=${netns} `}${argv.join(' ')}`, 0, `output is not JSON: ${text.slice(0, 200)}`, [], { cause: e });
    }
  }
}

/** True when every non-empty stderr line says only that something was already gone. */
function onlyMissing(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 0 && lines.every((l) => MISSING.test(l));
}
