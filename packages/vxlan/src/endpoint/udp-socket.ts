import { EventEmitter } from 'node:events';
import { isValidIpv4 } from '@weft/interface';
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
  /** The endpoint's `resolve(name)`. */
  resolve(name: string): Promise<string[]>;
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

  /**
   * Sends `data` to `host`:`port`, where `host` is an IPv4 literal (sent at
   * once, as {@link EndpointUdpSocket.send}) or a name: `data` is copied, the
   * name is looked up with the endpoint's `resolve` (default options) and the
   * datagram goes to its first address. Resolves once the datagram is sent
   * (or queued while ARP resolves, as with `send`); delivery is not confirmed.
   * {@link EndpointUdpSocket.send} is the IPv4-only, synchronous fast path.
   *
   * Never throws: rejects with what `send` throws (a bad port or size is found
   * after the lookup for a name), with what the endpoint's `resolve` throws or
   * rejects with (NameNotFoundError, DnsTimeoutError, NoNameserverError, ...),
   * or with EndpointClosedError when the socket is closed before the datagram leaves.
   */
  sendTo(data: Uint8Array, host: string, port: number): Promise<void> {
    try {
      if (isValidIpv4(host)) {
        this.send(data, host, port);
        return Promise.resolve();
      }
      if (this.closed) throw new EndpointClosedError(`UDP socket ${this.port}`);
      const copy = data.slice();
      return this.host.resolve(host).then((addresses) => this.send(copy, addresses[0]!, port));
    } catch (err) {
      return Promise.reject(err as Error);
    }
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
