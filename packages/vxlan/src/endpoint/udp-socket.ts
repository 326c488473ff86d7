import { EventEmitter } from 'node:events';
import { EndpointClosedError } from './errors';

/** Where a datagram came from. */
export interface RemoteInfo {
  /** Sender's IPv4 address, dotted quad. */
  address: string;
  /** Sender's UDP port. */
  port: number;
  /** Payload length in bytes. */
  size: number;
}

/** @internal What a socket needs from its endpoint. */
export interface SocketHost {
  sendUdp(srcPort: number, data: Uint8Array, ip: string, port: number): void;
  unbind(port: number): void;
}

/**
 * A UDP socket on an `Endpoint` (`endpoint.bind(port)`). Events:
 * `message (data: Uint8Array, rinfo: RemoteInfo)` — `data` is a view into the
 * received frame, owned by the listener; `close ()`.
 */
export class EndpointUdpSocket extends EventEmitter {
  private closed = false;

  /** @internal Use `Endpoint.bind`. */
  constructor(
    /** The bound local port. */
    readonly port: number,
    private readonly host: SocketHost,
  ) {
    super();
  }

  /**
   * Sends `data` (copied) to `ip`:`port`. Resolves the MAC with ARP first when
   * needed (datagrams wait, up to a bound, while it resolves). Delivery is not
   * confirmed: losses are counted on the endpoint, never thrown.
   * @throws EndpointClosedError after close; InvalidAddressError for a malformed `ip`;
   * EndpointError for a port out of range; MessageTooLongError over 65507 bytes.
   */
  send(data: Uint8Array, ip: string, port: number): void {
    if (this.closed) throw new EndpointClosedError(`UDP socket ${this.port}`);
    this.host.sendUdp(this.port, data, ip, port);
  }

  /** Unbinds the port and emits `close`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.unbind(this.port);
    this.emit('close');
    this.removeAllListeners();
  }

  /** @internal Delivers one datagram. */
  deliver(data: Uint8Array, rinfo: RemoteInfo): void {
    this.emit('message', data, rinfo);
  }
}
