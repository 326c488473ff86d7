import { isValidIp, isValidIpv6, type Clock, type Underlay } from '@weft/interface';
import { z } from 'zod';

/**
 * True for an IP literal as `node:dgram` takes and reports it: IPv4 or IPv6
 * text, an IPv6 one optionally with a `%zone` suffix (`fe80::1%eth0`, as
 * dgram reports link-local senders). Never a host name.
 */
function isIpLiteral(host: string): boolean {
  const zone = host.indexOf('%');
  if (zone < 0) return isValidIp(host);
  return zone > 0 && zone < host.length - 1 && isValidIpv6(host.slice(0, zone));
}

/** @internal zod schema of an injected {@link Clock}. */
export const clockSchema = z.custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function', 'must be an object with now()');

/** @internal zod schema of an IP literal (IPv4, or IPv6 with an optional `%zone`; never a host name). */
export const ipLiteralSchema = z.string().refine(isIpLiteral, 'must be an IPv4 or IPv6 literal');

/** @internal zod schema of a UDP port, 0..65535. */
export const portSchema = z.number().int().min(0).max(65535);

/** @internal zod schema of a `SocketAddress` whose host is an IP literal. */
export const socketAddressSchema = z.object({ host: ipLiteralSchema, port: portSchema });

/** @internal zod schema of an {@link Underlay} (checked structurally: `local`, `send`, `onReceive`, `close`). */
export const underlaySchema = z.custom<Underlay>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Underlay).local === 'object' &&
    (v as Underlay).local !== null &&
    typeof (v as Underlay).send === 'function' &&
    typeof (v as Underlay).onReceive === 'function' &&
    typeof (v as Underlay).close === 'function',
  'must be an Underlay (local, send, onReceive, close)',
);
