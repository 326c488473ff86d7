import { formatSocketAddress, type SocketAddress, type Underlay } from '@weft/interface';
import { readVni } from '@weft/vxlan';

/** Counters of a {@link CleartextGuard}. */
export interface CleartextGuardCounters {
  /** Cleartext VXLAN packets received for an encrypted network's VNI, dropped before the plain VTEP saw them. */
  rxEncryptedVni: number;
  /** Packets for an encrypted network's VNI the plain VTEP tried to send, refused (stays 0 unless a bug routes one here). */
  txEncryptedVni: number;
}

/**
 * The plain VXLAN socket as the plain VTEP sees it, with the VNIs of the
 * encrypted networks fenced off in both directions: a received packet whose
 * VXLAN header names one of them is dropped and counted (cleartext injected
 * into an encrypted network: the CVE-2023-28841/28842 class, whatever the
 * number of local endpoints), and a packet for one of them is never sent in
 * cleartext. Everything else passes unchanged. Reads 8 bytes per packet;
 * allocates nothing.
 */
export class CleartextGuard implements Underlay {
  /** The socket's local address. */
  readonly local: SocketAddress;
  /** The socket's per-flow source port choice, when it has one. */
  readonly sourcePortFor?: (flowHash: number) => number;
  private fenced: ReadonlySet<number> = new Set();
  private readonly stats: CleartextGuardCounters = { rxEncryptedVni: 0, txEncryptedVni: 0 };
  private readonly dropsByVni = new Map<number, number>();

  /** @param socket - the plain socket; its receive handler is installed by {@link CleartextGuard.onReceive}, and `close()` closes it. */
  constructor(private readonly socket: Underlay) {
    this.local = socket.local;
    const portFor = socket.sourcePortFor;
    if (portFor !== undefined) this.sourcePortFor = (flowHash) => portFor.call(socket, flowHash);
  }

  /** A snapshot of the counters. */
  get counters(): CleartextGuardCounters {
    return { ...this.stats };
  }

  /** Received cleartext packets dropped for `vni` so far. */
  droppedFor(vni: number): number {
    return this.dropsByVni.get(vni) ?? 0;
  }

  /** Replaces the set of fenced VNIs (the encrypted networks' VNIs). */
  fence(vnis: Iterable<number>): void {
    this.fenced = new Set(vnis);
  }

  /**
   * Sends `packet` unless it is VXLAN for a fenced VNI (then drops and counts it).
   * @throws UnderlayClosedError after `close()` (from the socket).
   */
  send(packet: Uint8Array, to: SocketAddress, flowHash?: number): void {
    if (this.fenced.size > 0 && this.fenced.has(readVni(packet, 0))) {
      this.stats.txEncryptedVni++;
      return;
    }
    this.socket.send(packet, to, flowHash);
  }

  /** Installs the receive handler; packets for fenced VNIs never reach it. */
  onReceive(handler: (packet: Uint8Array, from: SocketAddress) => void): void {
    this.socket.onReceive((packet, from) => {
      if (this.fenced.size > 0) {
        const vni = readVni(packet, 0);
        if (this.fenced.has(vni)) {
          this.stats.rxEncryptedVni++;
          this.dropsByVni.set(vni, (this.dropsByVni.get(vni) ?? 0) + 1);
          return;
        }
      }
      handler(packet, from);
    });
  }

  /** Closes the socket. Idempotent. */
  close(): Promise<void> {
    return this.socket.close();
  }

  /** `guard 127.0.0.1:4789`. */
  toString(): string {
    return `guard ${formatSocketAddress(this.local)}`;
  }
}
