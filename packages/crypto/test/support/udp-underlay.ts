import { createSocket, type Socket } from 'node:dgram';
import type { SocketAddress, Underlay } from '@weft/interface';

/** A minimal node:dgram underlay on 127.0.0.1 for tests (the real one lives in @weft/vxlan). */
export class TestUdpUnderlay implements Underlay {
  private handler: (packet: Uint8Array, from: SocketAddress) => void = () => {};
  private closed = false;
  errors = 0;

  private constructor(
    private readonly socket: Socket,
    readonly local: SocketAddress,
  ) {
    socket.on('message', (msg, rinfo) => this.handler(msg, { host: rinfo.address, port: rinfo.port }));
    socket.on('error', () => {
      this.errors += 1;
    });
  }

  static async bind(): Promise<TestUdpUnderlay> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new TestUdpUnderlay(socket, { host: '127.0.0.1', port: socket.address().port });
  }

  send(packet: Uint8Array, to: SocketAddress): void {
    if (this.closed) throw new Error('TestUdpUnderlay: send after close');
    this.socket.send(packet, to.port, to.host, (err) => {
      if (err) this.errors += 1;
    });
  }

  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
