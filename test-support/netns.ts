/**
 * Network-namespace lab for tests that need real kernel networking (root
 * only): namespaces, veth pairs and processes inside namespaces, all with
 * unique names (pid + counter) and guaranteed cleanup — `cleanup()` in an
 * `afterAll`/`finally`, and a process `exit` hook as a last resort so nothing
 * outlives the test process even when it is killed by an assertion.
 *
 * Only addresses the test assigns inside its own veth/namespaces are used
 * (use 198.18.0.0/15 for IPv4 and 2001:db8::/32 for IPv6; this machine's eth0
 * lives in 192.0.2.0/24 and fd00::/64).
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const liveLabs = new Set<NetnsLab>();
let exitHookInstalled = false;
let counter = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const lab of liveLabs) lab.cleanup();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates `path` exclusively with our pid in it; takes over a lock whose owner has exited. */
function tryLock(path: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch {
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // vanished meanwhile: try again
      }
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      try {
        unlinkSync(path);
      } catch {
        // someone else took it over first
      }
    }
  }
  return false;
}

/** Result of a command run to completion. */
export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A veth pair with one end in the root namespace and the other in a test namespace. */
export interface VethPair {
  /** Interface name in the root namespace. */
  rootName: string;
  /** Interface name inside `ns`. */
  nsName: string;
  /** The namespace holding `nsName`. */
  ns: string;
}

/** A set of namespaces, links and processes created for one test file. */
export class NetnsLab {
  /** Short unique tag (used in every name this lab creates). */
  readonly tag: string;
  private readonly namespaces: string[] = [];
  private readonly rootLinks: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private cleaned = false;
  private subnet: { index: number; lock: string } | undefined;

  constructor(prefix = 'w') {
    this.tag = `${prefix}${process.pid.toString(36)}${(counter++).toString(36)}`;
    liveLabs.add(this);
    installExitHook();
  }

  /**
   * A number in 0..249, reserved for this lab across processes (a lock file
   * in the temp directory, released by `cleanup()`, taken over when its owner
   * process is gone), for picking a private subnet such as `198.18.<n>.0/30`
   * that parallel test workers will not also use.
   */
  get subnetIndex(): number {
    if (this.subnet !== undefined) return this.subnet.index;
    const start = (process.pid * 7 + counter) % 250;
    for (let i = 0; i < 250; i++) {
      const index = (start + i) % 250;
      const lock = join(tmpdir(), `weft-netns-subnet-${index}.lock`);
      if (tryLock(lock)) {
        this.subnet = { index, lock };
        return index;
      }
    }
    throw new Error('NetnsLab: all 250 test subnets are reserved');
  }

  /**
   * Runs `ip ...args` in the root namespace.
   * @throws Error with the command line and stderr when it exits non-zero.
   */
  ip(...args: string[]): string {
    return this.run('ip', args);
  }

  /** Creates a namespace `<tag><suffix>` with `lo` up and returns its name. */
  addNamespace(suffix = 'n'): string {
    const name = `${this.tag}${suffix}`;
    this.run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    this.run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /**
   * Creates a veth pair, moves one end into `ns`, assigns the addresses
   * (CIDR strings such as `198.18.5.1/30`) and brings both ends up.
   */
  addVeth(ns: string, rootCidr: string, nsCidr: string, suffix = 'v'): VethPair {
    const rootName = `${this.tag}${suffix}r`.slice(0, 15);
    const nsName = `${this.tag}${suffix}n`.slice(0, 15);
    this.run('ip', ['link', 'add', rootName, 'type', 'veth', 'peer', 'name', nsName]);
    this.rootLinks.push(rootName);
    this.run('ip', ['link', 'set', nsName, 'netns', ns]);
    this.run('ip', ['addr', 'add', rootCidr, 'dev', rootName]);
    this.run('ip', ['link', 'set', rootName, 'up']);
    this.run('ip', ['-n', ns, 'addr', 'add', nsCidr, 'dev', nsName]);
    this.run('ip', ['-n', ns, 'link', 'set', nsName, 'up']);
    return { rootName, nsName, ns };
  }

  /**
   * Runs `cmd args` inside `ns` to completion (bounded by `timeoutMs`, default 20 s).
   * @throws Error with the command line, status and stderr when it exits non-zero.
   */
  exec(ns: string, cmd: string, args: string[], timeoutMs = 20_000): string {
    return this.run('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
  }

  /**
   * Runs `cmd args` inside `ns` without blocking the event loop (use it
   * whenever the command talks to something running in this process, such as
   * a userspace VTEP). Rejects like {@link NetnsLab.exec} throws.
   */
  execAsync(ns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
    const all = ['netns', 'exec', ns, cmd, ...args];
    return new Promise((resolve, reject) => {
      execFile('ip', all, { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
        if (err) {
          const status = (err as { code?: unknown }).code;
          reject(new Error(`\`ip ${all.join(' ')}\` failed (status ${String(status)}): ${String(stderr || err.message).trim()}\n${stdout}`));
        } else resolve(stdout);
      });
    });
  }

  /** Like {@link NetnsLab.exec} but never throws: returns status, stdout and stderr. */
  tryExec(ns: string, cmd: string, args: string[], timeoutMs = 20_000): RunResult {
    try {
      const stdout = execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
      return { status: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { status: e.status ?? -1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? '') };
    }
  }

  /**
   * Starts `cmd args` inside `ns` as a child process that the lab kills in
   * `cleanup()` (and that is killed after `timeoutMs`, default 60 s, whatever happens).
   */
  spawn(ns: string, cmd: string, args: string[], options: SpawnOptions = {}, timeoutMs = 60_000): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    timer.unref();
    child.once('exit', () => {
      clearTimeout(timer);
      this.children.delete(child);
    });
    return child;
  }

  /**
   * Kills every child, deletes every root-side link (its veth peer goes with
   * it) and every namespace (links inside go with it). Never throws; idempotent.
   */
  cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    liveLabs.delete(this);
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    this.children.clear();
    for (const link of this.rootLinks.splice(0)) {
      try {
        execFileSync('ip', ['link', 'del', link], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // already gone (deleted with its namespace)
      }
    }
    for (const ns of this.namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // already gone
      }
    }
    if (this.subnet !== undefined) {
      try {
        unlinkSync(this.subnet.lock);
      } catch {
        // already gone
      }
    }
  }

  /** Names of namespaces this lab created and has not deleted yet. */
  get liveNamespaces(): readonly string[] {
    return [...this.namespaces];
  }

  private run(cmd: string, args: string[], timeoutMs = 20_000): string {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { status?: number; stderr?: string; message: string };
      throw new Error(`\`${cmd} ${args.join(' ')}\` failed (status ${e.status ?? '?'}): ${String(e.stderr ?? e.message).trim()}`);
    }
  }
}
