import { VxlanError } from '../errors';

/** Base class of the errors an `Endpoint` throws or rejects with. */
export class EndpointError extends VxlanError {
  override name = 'EndpointError';
  /** `ERR_ENDPOINT` for this class, a more specific `ERR_…` for each subclass. */
  override readonly code: string = 'ERR_ENDPOINT';
}

/** ARP got no answer for `ip` after every retry. */
export class HostUnreachableError extends EndpointError {
  override name = 'HostUnreachableError';
  override readonly code = 'ERR_HOST_UNREACHABLE';
  constructor(
    /** The address that did not answer, dotted quad. */
    readonly ip: string,
  ) {
    super(`host ${ip} is unreachable: no ARP reply`);
  }
}

/** No echo reply from `ip` within `timeoutMs` milliseconds. */
export class PingTimeoutError extends EndpointError {
  override name = 'PingTimeoutError';
  override readonly code = 'ERR_PING_TIMEOUT';
  constructor(
    /** The pinged address, dotted quad. */
    readonly ip: string,
    /** The timeout that passed, in ms. */
    readonly timeoutMs: number,
  ) {
    super(`ping ${ip}: no echo reply within ${timeoutMs} ms`);
  }
}

/** The endpoint (or socket) was closed; pending operations reject with this. */
export class EndpointClosedError extends EndpointError {
  override name = 'EndpointClosedError';
  override readonly code = 'ERR_ENDPOINT_CLOSED';
  constructor(
    /** What was closed: `endpoint 10.0.0.1` or `UDP socket 5000`. */
    readonly what: string,
  ) {
    super(`${what} is closed`);
  }
}

/** `bind(port)` on a UDP port that already has a socket. */
export class PortInUseError extends EndpointError {
  override name = 'PortInUseError';
  override readonly code = 'ERR_PORT_IN_USE';
  constructor(
    /** The UDP port asked for. */
    readonly port: number,
  ) {
    super(`UDP port ${port} is already bound on this endpoint`);
  }
}

/** A UDP payload that does not fit in one IPv4 datagram (65507 bytes at most). */
export class MessageTooLongError extends EndpointError {
  override name = 'MessageTooLongError';
  override readonly code = 'ERR_MESSAGE_TOO_LONG';
  constructor(
    /** The payload length, in bytes. */
    readonly bytes: number,
  ) {
    super(`UDP payload of ${bytes} bytes exceeds 65507`);
  }
}
