import { InvalidOptionsError, type SocketAddress, type Underlay } from '@weft/interface';

/** Decides whether traffic between two underlay hosts is cut. */
export type LinkFilter = (fromHost: string, toHost: string) => boolean;

/**
 * An `Underlay` wrapper that drops what a partition cuts, in both
 * directions: datagrams it would send to a cut host, and datagrams arriving
 * from one. Everything else passes through untouched. `dropped` counts both.
 */
export class PartitionedUnderlay implements Underlay {
  dropped = 0;
  readonly local: SocketAddress;
  readonly sourcePortFor?: (flowHash: number) => number;

  /** @throws InvalidOptionsError naming `inner` or `cut` when it is not an Underlay or a function. */
  constructor(
    private readonly inner: Underlay,
    private readonly cut: LinkFilter,
  ) {
    if (typeof inner !== 'object' || inner === null || typeof inner.send !== 'function' || typeof inner.onReceive !== 'function') {
      throw new InvalidOptionsError('inner', 'PartitionedUnderlay: option "inner" must be an Underlay (send, onReceive, close, local)');
    }
    if (typeof cut !== 'function') throw new InvalidOptionsError('cut', 'PartitionedUnderlay: option "cut" must be a function (fromHost, toHost) => boolean');
    this.local = inner.local;
    const portFor = inner.sourcePortFor;
    if (portFor !== undefined) this.sourcePortFor = (h) => portFor.call(inner, h);
  }

  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void {
    if (this.cut(this.local.host, to.host)) {
      this.dropped += 1;
      return;
    }
    this.inner.send(packet, to, flowHash);
  }

  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.inner.onReceive((packet, from) => {
      if (this.cut(from.host, this.local.host)) {
        this.dropped += 1;
        return;
      }
      handler(packet, from);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
