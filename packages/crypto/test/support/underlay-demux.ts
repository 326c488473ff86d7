import type { SocketAddress, Underlay } from '@weft/interface';

/** Anything that can say whether a received packet is its own (an `EncryptedUnderlay`). */
export interface Accepting {
  accepts(packet: Uint8Array, from: SocketAddress): boolean;
}

/**
 * One shared underlay (one UDP socket) carrying several encrypted networks,
 * as the control plane runs it: each network's `EncryptedUnderlay` gets its
 * own inner `Underlay` object (a port of this demux) whose receive handler
 * the demux calls for the packets that network `accepts`. A packet nobody
 * accepts (cleartext, a network this node is not in, a retired key) is
 * counted in `dropped` and delivered to no one.
 */
export class UnderlayDemux {
  /** Packets no attached network accepted. */
  dropped = 0;
  /** Packets handed to more than one network (an SPI collision between key rings). */
  multiple = 0;
  private readonly routes = new Map<DemuxPort, Accepting>();

  constructor(private readonly shared: Underlay) {
    shared.onReceive((packet, from) => this.dispatch(packet, from));
  }

  /** Builds a network on a new port of the shared underlay and routes to it what it accepts. */
  attach<T extends Accepting>(make: (inner: Underlay) => T): T {
    const port = new DemuxPort(this.shared, () => this.routes.delete(port));
    const owner = make(port);
    this.routes.set(port, owner);
    return owner;
  }

  private dispatch(packet: Uint8Array, from: SocketAddress): void {
    let delivered = 0;
    for (const [port, owner] of this.routes) {
      if (!owner.accepts(packet, from)) continue;
      delivered += 1;
      port.deliver(packet, from);
    }
    if (delivered === 0) this.dropped += 1;
    if (delivered > 1) this.multiple += 1;
  }
}

/** One network's view of the shared underlay: sends through it; closing detaches (the shared socket stays open). */
class DemuxPort implements Underlay {
  readonly local: SocketAddress;
  private handler: (packet: Uint8Array, from: SocketAddress) => void = () => {};

  constructor(
    private readonly shared: Underlay,
    private readonly detach: () => void,
  ) {
    this.local = shared.local;
  }

  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void {
    this.shared.send(packet, to, flowHash);
  }

  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.handler = handler;
  }

  deliver(packet: Uint8Array, from: SocketAddress): void {
    this.handler(packet, from);
  }

  close(): Promise<void> {
    this.detach();
    return Promise.resolve();
  }
}
