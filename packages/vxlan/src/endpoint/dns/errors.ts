import { EndpointError } from '../errors';

/**
 * Base class of the errors {@link Endpoint.resolve} (and so `ping(name)` and
 * `sendTo(data, name, port)`) rejects with when a name cannot be turned into
 * addresses. `name` is the name as the caller gave it.
 */
export class NameResolutionError extends EndpointError {
  override name = 'NameResolutionError';
  /** `ERR_NAME_RESOLUTION` for this class, a more specific `ERR_…` for each subclass. */
  override readonly code: string = 'ERR_NAME_RESOLUTION';
  constructor(
    /** The name that was looked up, as given. */
    readonly hostname: string,
    message: string,
  ) {
    super(message);
  }
}

/** A name lookup on an endpoint that has no nameserver (`nameserver` option or `setNameserver`). */
export class NoNameserverError extends NameResolutionError {
  override name = 'NoNameserverError';
  override readonly code = 'ERR_NO_NAMESERVER';
  constructor(hostname: string) {
    super(hostname, `cannot resolve "${hostname}": the endpoint has no nameserver`);
  }
}

/**
 * The name has no IPv4 address: the server said NXDOMAIN (`rcode` 3, no such
 * name) or NOERROR with no A record for it (`rcode` 0, "NODATA").
 */
export class NameNotFoundError extends NameResolutionError {
  override name = 'NameNotFoundError';
  override readonly code = 'ERR_NAME_NOT_FOUND';
  constructor(
    hostname: string,
    /** The reply's RCODE: 3 (NXDOMAIN) or 0 (NOERROR without an A record). */
    readonly rcode: number,
    /** `NXDOMAIN` or `NODATA`. */
    readonly reason: 'NXDOMAIN' | 'NODATA',
  ) {
    super(hostname, reason === 'NXDOMAIN' ? `name "${hostname}" does not exist (NXDOMAIN)` : `name "${hostname}" has no IPv4 address (NODATA)`);
  }
}

/** No matching reply from the nameserver after `attempts` queries of `timeoutMs` ms each. */
export class DnsTimeoutError extends NameResolutionError {
  override name = 'DnsTimeoutError';
  override readonly code = 'ERR_DNS_TIMEOUT';
  constructor(
    hostname: string,
    /** The nameserver asked, dotted quad. */
    readonly nameserver: string,
    /** Queries sent. */
    readonly attempts: number,
    /** The wait for each, in ms. */
    readonly timeoutMs: number,
  ) {
    super(hostname, `resolve "${hostname}": no reply from nameserver ${nameserver} to ${attempts} queries of ${timeoutMs} ms each`);
  }
}

/** The nameserver answered with an error RCODE other than NXDOMAIN: SERVFAIL (2), REFUSED (5), FORMERR (1), NOTIMP (4), ... */
export class DnsServerFailureError extends NameResolutionError {
  override name = 'DnsServerFailureError';
  override readonly code = 'ERR_DNS_SERVER_FAILURE';
  constructor(
    hostname: string,
    /** The nameserver that answered, dotted quad. */
    readonly nameserver: string,
    /** The reply's RCODE (the 4-bit header field). */
    readonly rcode: number,
    /** Its IANA mnemonic: `SERVFAIL`, `REFUSED`, ... (`RCODE_<n>` when unassigned). */
    readonly rcodeName: string,
  ) {
    super(hostname, `resolve "${hostname}": nameserver ${nameserver} answered ${rcodeName} (rcode ${rcode})`);
  }
}

/**
 * The nameserver's UDP reply was truncated (TC bit) and carried no A record
 * for the name. A userspace endpoint has no TCP to retry over.
 */
export class DnsTruncatedError extends NameResolutionError {
  override name = 'DnsTruncatedError';
  override readonly code = 'ERR_DNS_TRUNCATED';
  constructor(
    hostname: string,
    /** The nameserver that answered, dotted quad. */
    readonly nameserver: string,
  ) {
    super(hostname, `resolve "${hostname}": the reply from nameserver ${nameserver} was truncated (TC) with no A record, and the endpoint has no TCP to retry`);
  }
}

/** A lookup refused because `maxLookups` lookups are already in flight on the endpoint. */
export class TooManyLookupsError extends NameResolutionError {
  override name = 'TooManyLookupsError';
  override readonly code = 'ERR_TOO_MANY_LOOKUPS';
  constructor(
    hostname: string,
    /** The endpoint's `maxLookups`. */
    readonly limit: number,
  ) {
    super(hostname, `resolve "${hostname}": ${limit} lookups are already in flight on this endpoint`);
  }
}
