import { isValidIp, isWeftError, parseSocketAddress, type SocketAddress } from '@weft/interface';
import { z } from 'zod';

/** An IP literal (`127.0.0.1`, `::1`), as `SocketAddress.host` holds. */
export const ipLiteralOption = z.string().refine((s) => isValidIp(s), 'must be an IP literal (e.g. "127.0.0.1" or "::1")');

const SHAPE = 'must be { host, port } or "host:port" text ("[v6]:port") with an IP literal host and a port 1-65535';

/**
 * A peer address option: a `SocketAddress` or `"host:port"` text, parsed to a
 * fresh `SocketAddress` with an IP-literal host and a port 1–65535.
 */
export const socketAddressOption = z.unknown().transform((value, ctx): SocketAddress => {
  let address: SocketAddress | undefined;
  if (typeof value === 'string') {
    try {
      address = parseSocketAddress(value);
    } catch (err) {
      if (!isWeftError(err, 'ERR_INVALID_ADDRESS')) throw err;
    }
  } else if (typeof value === 'object' && value !== null) {
    const { host, port } = value as { host?: unknown; port?: unknown };
    if (typeof host === 'string' && typeof port === 'number' && isValidIp(host)) address = { host, port };
  }
  if (address === undefined || !Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
    ctx.addIssue({ code: 'custom', message: SHAPE });
    return z.NEVER;
  }
  return { host: address.host, port: address.port };
});
