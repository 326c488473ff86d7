import type { SocketAddress, WeftErrorOptions } from '@weft/interface';
import { CoreError } from '../errors';

/** Base class of the errors {@link DnsServer} throws on purpose (option errors are `InvalidOptionsError`). */
export class DnsServerError extends CoreError {
  override name = 'DnsServerError';
  override readonly code: string = 'ERR_DNS_SERVER';
}

/**
 * A loopback listener could not be opened: the UDP or TCP socket failed to
 * bind (`EADDRINUSE`, `EADDRNOTAVAIL` for an address the host lacks, …), or
 * with port 0 no port was free for both after several tries. Nothing stays
 * bound. The socket error is the `cause`.
 */
export class DnsBindError extends DnsServerError {
  override name = 'DnsBindError';
  override readonly code = 'ERR_DNS_BIND';
  constructor(
    /** The network the listener was for. */
    readonly networkId: string,
    /** The address asked for (port 0: any). */
    readonly address: SocketAddress,
    /** Which socket failed: `udp`, `tcp`, or `both` (port 0: no common free port found). */
    readonly socket: 'udp' | 'tcp' | 'both',
    options?: WeftErrorOptions,
  ) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`dns: cannot listen for network ${JSON.stringify(networkId)} on ${socket} ${address.host}:${address.port}${detail}`, options);
  }
}

/** `listen` was called after `close()`. */
export class DnsServerClosedError extends DnsServerError {
  override name = 'DnsServerClosedError';
  override readonly code = 'ERR_DNS_SERVER_CLOSED';
  constructor() {
    super('dns: the server is closed');
  }
}
