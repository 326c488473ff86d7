import { sameSocketAddress, type SocketAddress, type Underlay } from '@weft/interface';

/**
 * Two in-memory underlays joined by a lossless, order-preserving link. Each
 * datagram is delivered on a later macrotask (setImmediate), so packets are
 * genuinely "in flight" while the test changes keys. `wire` records every
 * datagram that crossed, for asserting nothing left in clear.
 */
export interface MemoryLink {
  a: MemoryUnderlay;
  b: MemoryUnderlay;
  /** Every datagram sent on the link, in order (copies). */
  wire: { from: SocketAddress; to: SocketAddress; bytes: Uint8Array }[];
  /** Resolves once no datagram is in flight. */
  drain(): Promise<void>;
}

export class MemoryUnderlay implements Underlay {
  peer: MemoryUnderlay | undefined;
  private handler: (packet: Uint8Array, from: SocketAddress) => void = () => {};
  closed = false;
  sent = 0;

  constructor(
    readonly local: SocketAddress,
    private readonly link: { inFlight: number; wire: MemoryLink['wire'] },
  ) {}

  send(packet: Uint8Array, to: SocketAddress): void {
    if (this.closed) throw new Error('MemoryUnderlay: send after close');
    const peer = this.peer;
    this.sent += 1;
    this.link.wire.push({ from: this.local, to, bytes: Uint8Array.from(packet) });
    if (!peer || !sameSocketAddress(peer.local, to)) return; // nobody there
    this.link.inFlight += 1;
    setImmediate(() => {
      this.link.inFlight -= 1;
      if (!peer.closed) peer.handler(packet, this.local);
    });
  }

  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.handler = handler;
  }

  /** Delivers `packet` to this underlay as if `from` had sent it (for injecting forged/cleartext datagrams). */
  inject(packet: Uint8Array, from: SocketAddress): void {
    this.handler(packet, from);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** A link between `hosts[0]:4789` (`a`) and `hosts[1]:4789` (`b`). */
export function memoryLink(hosts: readonly [string, string] = ['127.0.0.1', '127.0.0.2']): MemoryLink {
  const state = { inFlight: 0, wire: [] as MemoryLink['wire'] };
  const a = new MemoryUnderlay({ host: hosts[0], port: 4789 }, state);
  const b = new MemoryUnderlay({ host: hosts[1], port: 4789 }, state);
  a.peer = b;
  b.peer = a;
  return {
    a,
    b,
    wire: state.wire,
    async drain() {
      for (let i = 0; i < 100_000 && state.inFlight > 0; i++) await new Promise((r) => setImmediate(r));
      if (state.inFlight > 0) throw new Error(`memory link did not drain: ${state.inFlight} in flight`);
    },
  };
}
