/**
 * Gates for tests that need real system components (root, network namespaces,
 * tshark, etcd). Off CI, a missing capability skips the block and prints why.
 * On CI (`CI=true`) nothing is skipped: the block runs and fails loudly, and
 * `.ci/run` also fails the run if jest reports any skipped test.
 */
import { execFileSync } from 'node:child_process';

export interface Capability {
  readonly ok: boolean;
  /** Why the capability is missing; empty when `ok`. */
  readonly reason: string;
}

function probe(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

let netnsCache: Capability | undefined;

/** Root plus a working `ip netns` (iproute2). */
export function netnsCapability(): Capability {
  if (netnsCache) return netnsCache;
  if (process.platform !== 'linux') netnsCache = { ok: false, reason: 'needs Linux network namespaces' };
  else if (process.getuid?.() !== 0) netnsCache = { ok: false, reason: 'needs root for ip netns' };
  else if (!probe('ip', ['netns', 'list'])) netnsCache = { ok: false, reason: 'iproute2 `ip netns` is not available' };
  else netnsCache = { ok: true, reason: '' };
  return netnsCache;
}

/** A command on PATH that answers `cmd ...versionArgs`. */
export function commandCapability(cmd: string, versionArgs: string[] = ['--version']): Capability {
  return probe(cmd, versionArgs) ? { ok: true, reason: '' } : { ok: false, reason: `needs \`${cmd}\` on PATH` };
}

/** Every capability at once; the first missing one gives the reason. */
export function allOf(...caps: Capability[]): Capability {
  return caps.find((c) => !c.ok) ?? { ok: true, reason: '' };
}

/**
 * `describe` when the capability is present or when running on CI; otherwise
 * a skipped `describe` with the reason printed once.
 */
export function describeWith(cap: Capability, name: string, fn: () => void): void {
  if (cap.ok || process.env.CI) {
    describe(name, fn);
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipping "${name}": ${cap.reason}`);
  describe.skip(name, fn);
}
