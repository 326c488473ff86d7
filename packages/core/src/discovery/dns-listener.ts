import type { Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { SocketAddress } from '@weft/interface';
import { DnsBindError } from './dns-errors';
import type { UdpSocketFactory } from './dns-server-options';

/** Tries of a port-0 listener to find a port free for both UDP and TCP. */
export const DNS_BIND_ATTEMPTS = 8;

/** A UDP socket and a TCP server bound to the same loopback address and port. */
export interface BoundPair {
  readonly udp: UdpSocket;
  readonly tcp: Server;
  /** The address both are bound to (the real port when 0 was asked). */
  readonly address: SocketAddress;
}

function bindUdp(udp: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    udp.once('error', onError);
    udp.bind({ address: host, port, exclusive: true }, () => {
      udp.off('error', onError);
      resolve();
    });
  });
}

function listenTcp(tcp: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    tcp.once('error', onError);
    tcp.listen({ host, port, exclusive: true }, () => {
      tcp.off('error', onError);
      resolve();
    });
  });
}

function closeQuietly(udp: UdpSocket | undefined, tcp: Server | undefined): void {
  try {
    udp?.close();
  } catch {
    // never bound, or already closed
  }
  tcp?.close();
}

/**
 * Binds UDP then TCP on `at`. With port 0, the port the UDP socket got is
 * tried for TCP, and on failure both are released and the whole is tried
 * again, up to {@link DNS_BIND_ATTEMPTS} times.
 * @throws {DnsBindError} when a socket cannot bind (nothing stays bound).
 */
export async function bindPair(networkId: string, at: SocketAddress, createUdp: UdpSocketFactory, onConnection: (socket: Socket) => void): Promise<BoundPair> {
  const type = at.host.includes(':') ? 'udp6' : 'udp4';
  let lastError: unknown;
  for (let attempt = 0; attempt < (at.port === 0 ? DNS_BIND_ATTEMPTS : 1); attempt++) {
    const udp = createUdp(type);
    try {
      await bindUdp(udp, at.host, at.port);
    } catch (err) {
      closeQuietly(udp, undefined);
      throw new DnsBindError(networkId, at, 'udp', { cause: err });
    }
    udp.on('error', () => undefined); // send errors towards vanished clients: nothing to do
    const port = udp.address().port;
    const tcp = createServer({ allowHalfOpen: true }, onConnection);
    try {
      await listenTcp(tcp, at.host, port);
      return { udp, tcp, address: { host: at.host, port } };
    } catch (err) {
      closeQuietly(udp, tcp);
      lastError = err;
    }
  }
  throw new DnsBindError(networkId, at, at.port === 0 ? 'both' : 'tcp', { cause: lastError });
}
