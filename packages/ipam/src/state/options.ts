import { familyBits, parseOptions } from '@weft/interface';
import { z } from 'zod';
import { formatCidr, isValidCidr, parseCidr } from '../cidr/cidr';
import type { IpamState, ResolvedOptions } from './types';

/** Docker swarm's default address pool: 10.0.0.0/8 carved into /24 networks. */
export const DOCKER_DEFAULT_POOLS: readonly { base: string; size: number }[] = Object.freeze([{ base: '10.0.0.0/8', size: 24 }]);

const count = z
  .number({ message: 'must be a number' })
  .int({ message: 'must be a whole number' })
  .min(0, { message: 'must not be negative' })
  .max(Number.MAX_SAFE_INTEGER, { message: 'must be a safe integer' });

const defaultPoolSchema = z
  .object({
    base: z
      .string({ message: 'must be CIDR text' })
      .refine((t) => isValidCidr(t, { strict: true }), { message: 'must be a CIDR without host bits, like 10.0.0.0/8' }),
    size: z
      .number({ message: 'must be a prefix length' })
      .int({ message: 'must be a whole number' })
      .min(0, { message: 'must not be negative' })
      .max(128, { message: 'must be at most 128' }),
  })
  .strict()
  .refine(
    (p) => {
      if (!isValidCidr(p.base, { strict: true })) return true; // reported on `base`
      const c = parseCidr(p.base, { strict: true });
      return p.size >= c.prefix && p.size <= familyBits(c.family);
    },
    { message: 'must be at least the base prefix length and at most 32 (IPv4) or 128 (IPv6)', path: ['size'] },
  );

/** Zod schema of {@link IpamOptions}. */
export const ipamOptionsSchema = z
  .object(
    {
      defaultPools: z
        .array(defaultPoolSchema, { message: 'must be an array of { base, size }' })
        .max(1024, { message: 'must hold at most 1024 pools' })
        .optional(),
      quarantine: z
        .object({ operations: count.optional(), ms: count.optional() }, { message: 'must be an object { operations?, ms? }' })
        .strict()
        .optional(),
    },
    { message: 'must be an options object' },
  )
  .strict();

const optionsSchema = ipamOptionsSchema;

/**
 * Options of a new allocator state.
 * - `defaultPools`: where subnets come from when a pool request names none,
 *   tried in order; default {@link DOCKER_DEFAULT_POOLS}. IPv6 entries
 *   (e.g. `{ base: 'fd00::/48', size: 64 }`) serve `family: 6` requests.
 * - `quarantine.operations`: a released address is not handed out again until
 *   this many further successful commands have been applied (default 0).
 * - `quarantine.ms`: nor until this many milliseconds of command time (`now`
 *   on commands; the `Ipam` class stamps them from its clock) have passed (default 0).
 */
export type IpamOptions = z.input<typeof ipamOptionsSchema>;

/**
 * {@link resolveOptions} with the caller named in the error (`Ipam`,
 * `IpamStateMachine`, ...). Internal.
 * @throws {InvalidOptionsError} naming the first bad field.
 */
export function resolveOptionsFor(options: unknown, what: string): ResolvedOptions {
  const parsed = parseOptions(optionsSchema, options, what);
  const pools = parsed.defaultPools ?? DOCKER_DEFAULT_POOLS;
  return {
    defaultPools: pools.map((p) => ({ base: formatCidr(parseCidr(p.base, { strict: true })), size: p.size })),
    quarantine: { operations: parsed.quarantine?.operations ?? 0, ms: parsed.quarantine?.ms ?? 0 },
  };
}

/**
 * Validates options and returns them with defaults filled in and CIDRs canonical.
 * @param options - {@link IpamOptions}; `undefined` means all defaults.
 * @throws {InvalidOptionsError} (from `@weft/interface`) whose `field` names the first bad option.
 */
export function resolveOptions(options?: IpamOptions): ResolvedOptions {
  return resolveOptionsFor(options, 'resolveOptions');
}

/** {@link createState} with the caller named in the error. Internal. */
export function newState(options: unknown, what: string): IpamState {
  return { format: 1, options: resolveOptionsFor(options, what), seq: 0, clock: 0, pools: {} };
}

/**
 * A fresh, empty allocator state.
 * @throws {InvalidOptionsError} (from `@weft/interface`) whose `field` names the first bad option.
 */
export function createState(options?: IpamOptions): IpamState {
  return newState(options, 'createState');
}
