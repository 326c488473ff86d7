import { formatSocketAddress, UnderlayClosedError, type SocketAddress, type Underlay } from '@weft/interface';

/** Anything that can tell whether a received packet is its own (an `EncryptedUnderlay`). */
export interface Accepting {
  accepts(packet: Uint8Array, from: SocketAddress): boolean;
}

/** Counters of an {@link EncryptedDemux}. */
export interface EncryptedDemuxCounters {
  /** Packets received on the shared socket. */
  rxPackets: number;
  /** Packets handed to at least one network. */
  claimed: number;
  /** Packets no network accepted (cleartext, networks this node is not on, retired keys, unknown senders): dropped. */
  unclaimed: number;
  /** Packets more than one network accepted (an SPI collision between key rings; at most one of them opens it). */
  multiple: number;
}

interface Route {
  readonly port: DemuxPort;
  readonly owner: Accepting;
}

/**
 * One UDP socket shared by every encrypted network: each network's
 * `EncryptedUnderlay` runs over its own {@link DemuxPort}, which sends
 * through the shared socket and receives what the demultiplexer hands it.
 * A received packet goes to every network whose `accepts(packet, from)` is
 * true (SPIs of two key rings can collide, 2^-24 per pair: the wrong one then
 * fails the tag and counts it); a packet nobody accepts is dropped and counted.
 */
export class EncryptedDemux {
  /** Routes in attach order; replaced (never mutated) on attach and detach, so a dispatch in progress keeps its list. */
  private routes: readonly Route[] = [];
  private readonly stats: EncryptedDemuxCounters = { rxPackets: 0, claimed: 0, unclaimed: 0, multiple: 0 };

  /** @param shared - the encrypted-port socket; the demux installs its receive handler and closes it on `close()`. */
  constructor(private readonly shared: Underlay) {
    shared.onReceive((packet, from) => this.dispatch(packet, from));
  }

  /** A snapshot of the counters. */
  get counters(): EncryptedDemuxCounters {
    return { ...this.stats };
  }

  /** The shared socket's local address. */
  get local(): SocketAddress {
    return this.shared.local;
  }

  /**
   * Builds a network on a new port of the shared socket (`make` gets the port
   * as its inner underlay) and routes to it what it accepts. Closing the port
   * (the network's `EncryptedUnderlay` closes it) removes the route.
   * Rethrows what `make` throws (no route is left behind).
   */
  attach<T extends Accepting>(make: (inner: Underlay) => T): T {
    const port = new DemuxPort(this.shared, () => {
      this.routes = this.routes.filter((r) => r.port !== port);
    });
    const owner = make(port);
    this.routes = [...this.routes, { port, owner }];
    return owner;
  }

  /** Removes every route and closes the shared socket. Idempotent. */
  close(): Promise<void> {
    this.routes = [];
    return this.shared.close();
  }

  private dispatch(packet: Uint8Array, from: SocketAddress): void {
    this.stats.rxPackets++;
    let delivered = 0;
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      if (!route.owner.accepts(packet, from)) continue;
      delivered++;
      route.port.deliver(packet, from);
    }
    if (delivered === 0) this.stats.unclaimed++;
    else this.stats.claimed++;
    if (delivered > 1) this.stats.multiple++;
  }
}

/**
 * One network's view of the shared encrypted socket: sends through it
 * (per-flow source ports included); closing detaches the network, the socket
 * stays open for the others.
 */
export class DemuxPort implements Underlay {
  /** The shared socket's address. */
  readonly local: SocketAddress;
  /** The shared socket's per-flow source port choice, when it has one. */
  readonly sourcePortFor?: (flowHash: number) => number;
  private handler: (packet: Uint8Array, from: SocketAddress) => void = () => {};
  private closed = false;

  /** @internal Use {@link EncryptedDemux.attach}. */
  constructor(
    private readonly shared: Underlay,
    private readonly detach: () => void,
  ) {
    this.local = shared.local;
    const portFor = shared.sourcePortFor;
    if (portFor !== undefined) this.sourcePortFor = (flowHash) => portFor.call(shared, flowHash);
  }

  /**
   * Sends through the shared socket. Ownership of `packet` passes on.
   * @throws UnderlayClosedError after `close()`.
   */
  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void {
    if (this.closed) throw new UnderlayClosedError(`demux port ${formatSocketAddress(this.local)}`);
    this.shared.send(packet, to, flowHash);
  }

  /** Installs the receive handler (replacing any previous one). */
  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.handler = handler;
  }

  /** @internal Hands a packet the demultiplexer routed here (the handler only reads it: others may get it too). */
  deliver(packet: Uint8Array, from: SocketAddress): void {
    if (!this.closed) this.handler(packet, from);
  }

  /** Detaches from the demultiplexer (the shared socket stays open). Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.handler = () => {};
      this.detach();
    }
    return Promise.resolve();
  }
}
