import { z } from 'zod';

/** Address space names: 1-64 letters, digits, `_`, `.` or `-`. */
export const spaceName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1-64 characters of letters, digits, "_", "." or "-"' });
const text = z.string().min(1).max(64);
/** Auxiliary address names: any 1-64 characters except `__proto__` (state objects are plain objects). */
export const auxName = z
  .string()
  .min(1)
  .max(64)
  .refine((n) => n !== '__proto__', { message: 'must not be "__proto__"' });
/** Rejects objects with an own `__proto__` key (zod's record would drop it silently). */
export const noProtoKey = z.custom<unknown>((v) => typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, '__proto__'), {
  message: 'must not have a "__proto__" key',
});
const now = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();

/** Zod schema of {@link RequestPoolCommand}. */
export const requestPoolSchema = z
  .object({
    op: z.literal('requestPool'),
    space: spaceName.optional(),
    subnet: text.optional(),
    family: z.union([z.literal(4), z.literal(6)]).optional(),
    gateway: text.nullable().optional(),
    auxAddresses: noProtoKey.pipe(z.record(auxName, text)).optional(),
    now,
  })
  .strict();

/** Zod schema of {@link ReleasePoolCommand}. */
export const releasePoolSchema = z.object({ op: z.literal('releasePool'), poolId: z.string().min(1).max(200), now }).strict();

/** Zod schema of {@link AllocateCommand}. */
export const allocateSchema = z
  .object({ op: z.literal('allocate'), poolId: z.string().min(1).max(200), address: text.optional(), now })
  .strict();

/** Zod schema of {@link ReleaseCommand}. */
export const releaseSchema = z.object({ op: z.literal('release'), poolId: z.string().min(1).max(200), address: text, now }).strict();

/** Zod schema of every {@link Command}. */
export const commandSchema = z.discriminatedUnion('op', [requestPoolSchema, releasePoolSchema, allocateSchema, releaseSchema]);

/**
 * Reserve a subnet in an address space (default `default`). With `subnet`
 * (canonical-or-not CIDR text without host bits) that subnet is taken; without,
 * the first free block of the default pools of `family` (default 4).
 * `gateway`: explicit address, `null` for none, absent for the first usable
 * address. `auxAddresses`: name → address reserved in the subnet.
 * `now`: command time in ms (only used by time-based quarantine).
 */
export type RequestPoolCommand = z.infer<typeof requestPoolSchema>;
/** Release a pool and every address in it. */
export type ReleasePoolCommand = z.infer<typeof releasePoolSchema>;
/** Allocate the next address serially, or `address` when given (static request). */
export type AllocateCommand = z.infer<typeof allocateSchema>;
/** Release one allocated address. */
export type ReleaseCommand = z.infer<typeof releaseSchema>;
/** Every command `apply`/`execute` accept. */
export type Command = z.infer<typeof commandSchema>;

/** Result of a pool request. */
export interface PoolResult {
  op: 'requestPool';
  /** `${space}/${subnet}`; pass it to later commands. */
  poolId: string;
  /** Canonical CIDR text. */
  subnet: string;
  /** Canonical gateway address, or null when the request asked for none. */
  gateway: string | null;
}
/** Result of a pool release. */
export interface ReleasePoolResult {
  op: 'releasePool';
  poolId: string;
}
/** Result of an address allocation: the canonical address text. */
export interface AllocateResult {
  op: 'allocate';
  poolId: string;
  address: string;
}
/** Result of an address release: the canonical address text. */
export interface ReleaseResult {
  op: 'release';
  poolId: string;
  address: string;
}
/** Result of a command, by its `op`. */
export type CommandResult = PoolResult | ReleasePoolResult | AllocateResult | ReleaseResult;
