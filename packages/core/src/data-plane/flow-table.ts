import type { VipEntry } from './network-services';

/** One client endpoint's UDP flow to a VIP, pinned to a backend. */
export interface Flow {
  /** The VIP (the same object while the VIP exists). */
  readonly vip: VipEntry;
  /** The client's UDP port. */
  readonly clientPort: number;
  /** The VIP's UDP port (the backend's too: VIPs translate the address only). */
  readonly vipPort: number;
  /** The 5-tuple's hash (the rendezvous input). */
  readonly hash: number;
  /** The backend's address, unsigned 32-bit. */
  backend: number;
  /** The backend's MAC (6 bytes), as resolved at `macGeneration`. */
  mac: Uint8Array;
  /** `NetworkServices.generation` when `mac` was looked up. */
  macGeneration: number;
  /** `VipEntry.version` when the backend was last known to be in the VIP. */
  version: number;
  /** Clock reading (ms) of the flow's last datagram either way. */
  lastSeen: number;
}

/** The ports of a flow as one number: 32 bits, exact in a double. */
function ports(high: number, low: number): number {
  return high * 0x10000 + low;
}

/**
 * One client endpoint's VIP flows, reachable both ways in O(1) with numeric
 * keys: forward by VIP, then (client port, VIP port); reverse — a reply
 * from a backend — by backend address, then (backend port, client port).
 * The client's own address is implicit (one table per endpoint).
 *
 * Two flows of the client to different VIPs pinned to the same backend,
 * with the same ports, would share a reverse key: the one pinned last gets
 * the replies (the shim rewrites them to its VIP).
 *
 * Bounded: adding to a full table forgets the oldest flow (by creation).
 */
export class FlowTable {
  private readonly forward = new Map<number, Map<number, Flow>>();
  private readonly reverse = new Map<number, Map<number, Flow>>();
  /** Every flow, oldest first. */
  private readonly order = new Set<Flow>();

  /** @param limit - most flows kept (≥ 1). */
  constructor(private readonly limit: number) {}

  /** Number of flows. */
  get size(): number {
    return this.order.size;
  }

  /** The flow of (VIP, client port, VIP port), if any. */
  find(vip: number, clientPort: number, vipPort: number): Flow | undefined {
    return this.forward.get(vip)?.get(ports(clientPort, vipPort));
  }

  /** The flow a datagram from `backend`:`backendPort` to the client's `clientPort` answers, if any. */
  replyTo(backend: number, backendPort: number, clientPort: number): Flow | undefined {
    return this.reverse.get(backend)?.get(ports(backendPort, clientPort));
  }

  /** Adds a flow (none with its key may be present); returns how many old flows were forgotten to make room (0 or 1). */
  add(flow: Flow): number {
    let evicted = 0;
    if (this.order.size >= this.limit) {
      const oldest = this.order.values().next().value;
      if (oldest !== undefined) {
        this.delete(oldest);
        evicted = 1;
      }
    }
    let byVip = this.forward.get(flow.vip.ip);
    if (byVip === undefined) this.forward.set(flow.vip.ip, (byVip = new Map()));
    byVip.set(ports(flow.clientPort, flow.vipPort), flow);
    this.order.add(flow);
    this.link(flow);
    return evicted;
  }

  /** Pins `flow` to another backend (its reverse key moves along). */
  repin(flow: Flow, backend: number, mac: Uint8Array, macGeneration: number): void {
    this.unlink(flow);
    flow.backend = backend;
    flow.mac = mac;
    flow.macGeneration = macGeneration;
    this.link(flow);
  }

  /** Forgets a flow. */
  delete(flow: Flow): void {
    if (!this.order.delete(flow)) return;
    const byVip = this.forward.get(flow.vip.ip);
    const key = ports(flow.clientPort, flow.vipPort);
    if (byVip !== undefined && byVip.get(key) === flow) {
      byVip.delete(key);
      if (byVip.size === 0) this.forward.delete(flow.vip.ip);
    }
    this.unlink(flow);
  }

  /** Forgets every flow of the VIP at `vip`; returns how many. */
  forgetVip(vip: number): number {
    const byVip = this.forward.get(vip);
    if (byVip === undefined) return 0;
    const flows = [...byVip.values()];
    for (const f of flows) this.delete(f);
    return flows.length;
  }

  /** Forgets every flow idle since before `now - idleMs`; returns how many. */
  sweep(now: number, idleMs: number): number {
    let n = 0;
    for (const f of this.order) {
      if (now - f.lastSeen > idleMs) {
        this.delete(f); // deleting the current element of a Set iteration is safe
        n++;
      }
    }
    return n;
  }

  /** Forgets every flow. */
  clear(): void {
    this.forward.clear();
    this.reverse.clear();
    this.order.clear();
  }

  private link(flow: Flow): void {
    let byBackend = this.reverse.get(flow.backend);
    if (byBackend === undefined) this.reverse.set(flow.backend, (byBackend = new Map()));
    byBackend.set(ports(flow.vipPort, flow.clientPort), flow);
  }

  private unlink(flow: Flow): void {
    const byBackend = this.reverse.get(flow.backend);
    const key = ports(flow.vipPort, flow.clientPort);
    if (byBackend === undefined || byBackend.get(key) !== flow) return;
    byBackend.delete(key);
    if (byBackend.size === 0) this.reverse.delete(flow.backend);
  }
}
