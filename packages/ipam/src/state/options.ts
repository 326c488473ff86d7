import { z } from 'zod';
import { familyBits } from '../address/ip';
import { formatCidr, isValidCidr, parseCidr } from '../cidr/cidr';
import { InvalidOptionsError } from '../errors';
import type { IpamState, ResolvedOptions } from './types';

/** Docker swarm's default address pool: 10.0.0.0/8 carved into /24 networks. */
export const DOCKER_DEFAULT_POOLS: readonly { base: string; size: number }[] = Object.freeze([{ base: '10.0.0.0/8', size: 24 }]);

const defaultPoolSchema = z
  .object({
    base: z.string().refine((t) => isValidCidr(t, { strict: true }), { message: 'must be a CIDR without host bits, like 10.0.0.0/8' }),
    size: z.number().int().min(0).max(128),
  })
  .strict()
  .refine(
    (p) => {
      if (!isValidCidr(p.base, { strict: true })) return true; // reported on `base`
      const c = parseCidr(p.base, { strict: true });
      return p.size >= c.prefix && p.size <= familyBits(c.family);
    },
    { message: 'size must be at least the base prefix length and at most 32 (IPv4) or 128 (IPv6)', path: ['size'] },
  );

/** Zod schema of {@link IpamOptions}. */
export const ipamOptionsSchema = z
  .object({
    defaultPools: z.array(defaultPoolSchema).max(1024).optional(),
    quarantine: z
      .object({
        operations: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
        ms: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

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

/** First zod issue as [dotted path, message]. */
export function firstIssue(err: z.ZodError): [string, string] {
  const issue = err.issues[0];
  return [issue ? issue.path.map(String).join('.') : '', issue ? issue.message : err.message];
}

/**
 * Validates options and returns them with defaults filled in and CIDRs canonical.
 * @throws {InvalidOptionsError} naming the first bad field.
 */
export function resolveOptions(options: unknown = {}): ResolvedOptions {
  const r = ipamOptionsSchema.safeParse(options ?? {});
  if (!r.success) {
    const [field, message] = firstIssue(r.error);
    throw new InvalidOptionsError(field, message, { cause: r.error });
  }
  const pools = r.data.defaultPools ?? DOCKER_DEFAULT_POOLS;
  return {
    defaultPools: pools.map((p) => ({ base: formatCidr(parseCidr(p.base, { strict: true })), size: p.size })),
    quarantine: { operations: r.data.quarantine?.operations ?? 0, ms: r.data.quarantine?.ms ?? 0 },
  };
}

/**
 * A fresh, empty allocator state.
 * @throws {InvalidOptionsError} naming the first bad field.
 */
export function createState(options?: IpamOptions): IpamState {
  return { format: 1, options: resolveOptions(options), seq: 0, clock: 0, pools: {} };
}
