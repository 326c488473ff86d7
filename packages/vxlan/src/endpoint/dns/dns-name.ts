import { parseIpv4, parseOptions } from '@weft/interface';
import { z } from 'zod';

const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
const DIGITS_AND_DOTS = /^[0-9.]+$/;

/**
 * True for a host name the resolver will put in a query: dot-separated labels
 * of 1–63 letters, digits, `-` or `_` (container and service names use `_`),
 * 253 characters at most, one trailing dot allowed. Case is kept as given.
 */
export function isDnsName(text: string): boolean {
  const n = text.endsWith('.') ? text.slice(0, -1) : text;
  if (n.length === 0 || n.length > 253) return false;
  for (const label of n.split('.')) if (!LABEL.test(label)) return false;
  return true;
}

/** @internal zod schema of the name argument of `Endpoint.resolve`, `ping` and `sendTo`. */
export const nameArgumentSchema = z.object({
  name: z.string().refine(isDnsName, 'must be an IPv4 literal or a host name (dot-separated labels of 1-63 letters, digits, "-" or "_"; 253 characters at most)'),
});

/**
 * What `target` names: an IPv4 address (unsigned 32-bit) when it is digits and
 * dots only, else a host name (returned as given).
 * @throws InvalidAddressError for digits and dots that are not a dotted quad (`10.0.0`);
 * InvalidOptionsError (field `name`, message prefixed with `what`) for text that is no host name either.
 */
export function parseTarget(target: string, what: string): number | string {
  if (typeof target === 'string' && DIGITS_AND_DOTS.test(target)) return parseIpv4(target);
  return parseOptions(nameArgumentSchema, { name: target }, what).name;
}

/** Names compare ASCII-case-insensitively (RFC 1035 §2.3.3, RFC 4343), ignoring one trailing dot. */
export function sameName(a: string, b: string): boolean {
  return canonicalName(a) === canonicalName(b);
}

function canonicalName(n: string): string {
  return (n.endsWith('.') && n.length > 1 ? n.slice(0, -1) : n).replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}
