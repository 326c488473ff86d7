import { readFileSync } from 'node:fs';
import { MissingCapabilityError } from '../errors';

/** Bit number of `CAP_NET_ADMIN` in the capability sets (linux/capability.h). */
export const CAP_NET_ADMIN = 12;
/** Bit number of `CAP_SYS_ADMIN` (needed by `ip netns add` / `nsenter` to mount and enter namespaces). */
export const CAP_SYS_ADMIN = 21;

/**
 * Returns the process's effective capability set as a bigint (bit n set =
 * capability n held). The default reads `CapEff` from `/proc/self/status`;
 * tests inject another to force the check.
 */
export type CapabilityReader = () => bigint;

/**
 * The effective capability set of this process, from the `CapEff:` line of
 * `/proc/self/status` (hex). Returns 0n when the file or the line is missing
 * (not Linux): no capability is assumed.
 */
export function readEffectiveCapabilities(status?: string): bigint {
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return 0n;
    }
  }
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(text);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

/** True when capability bit `bit` is set in `set`. */
export function hasCapability(set: bigint, bit: number): boolean {
  return ((set >> BigInt(bit)) & 1n) === 1n;
}

/**
 * Throws {@link MissingCapabilityError} unless the set from `reader` holds
 * `CAP_NET_ADMIN` (links, addresses, FDB) and `CAP_SYS_ADMIN` (creating and
 * entering network namespaces). Root normally holds both.
 * @param what The caller, for the message (e.g. `KernelDataPlane`).
 */
export function assertNetworkCapabilities(reader: CapabilityReader, what: string): void {
  const set = reader();
  for (const [bit, name] of [
    [CAP_NET_ADMIN, 'CAP_NET_ADMIN'],
    [CAP_SYS_ADMIN, 'CAP_SYS_ADMIN'],
  ] as const) {
    if (!hasCapability(set, bit)) {
      throw new MissingCapabilityError(
        name,
        `${what}: the process lacks ${name} (effective capabilities 0x${set.toString(16)}); run as root or grant ${name}`,
      );
    }
  }
}
