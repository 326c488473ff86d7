import { VxlanError } from '../errors';

/** Base class of the errors an `Endpoint` throws or rejects with. */
export class EndpointError extends VxlanError {
  override name = 'EndpointError';
}

/** ARP got no answer for `ip` after every retry. */
export class HostUnreachableError extends EndpointError {
  override name = 'HostUnreachableError';
  constructor(readonly ip: string) {
    super(`host ${ip} is unreachable: no ARP reply`);
  }
}

/** No echo reply from `ip` within `timeoutMs` milliseconds. */
export class PingTimeoutError extends EndpointError {
  override name = 'PingTimeoutError';
  constructor(
    readonly ip: string,
    readonly timeoutMs: number,
  ) {
    super(`ping ${ip}: no echo reply within ${timeoutMs} ms`);
  }
}

/** The endpoint (or socket) was closed; pending operations reject with this. */
export class EndpointClosedError extends EndpointError {
  override name = 'EndpointClosedError';
  constructor(what: string) {
    super(`${what} is closed`);
  }
}

/** `bind(port)` on a UDP port that already has a socket. */
export class PortInUseError extends EndpointError {
  override name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`UDP port ${port} is already bound on this endpoint`);
  }
}

/** A UDP payload that does not fit in one IPv4 datagram (65507 bytes at most). */
export class MessageTooLongError extends EndpointError {
  override name = 'MessageTooLongError';
  constructor(readonly bytes: number) {
    super(`UDP payload of ${bytes} bytes exceeds 65507`);
  }
}
