import { FlowTable, type Flow } from './flow-table';
import type { NetworkServices, VipEntry } from './network-services';
import { chooseBackend, flowHash } from './rendezvous';

const IPPROTO_UDP = 17;

/**
 * Client-side VIP load balancing for one local endpoint, as Docker does in
 * the client's namespace: which backend each UDP flow (client port, VIP,
 * VIP port) goes to, and which VIP a backend's reply came through. Pure
 * decisions over the flow table, the network's VIPs and the injected clock;
 * the shim does the frame work.
 *
 * - A new flow goes to the `up` backend with the highest rendezvous weight
 *   for its 5-tuple (deterministic; adding a backend moves no pinned flow,
 *   and would move only flows it outweighs if they were new), skipping the
 *   client's own address (an endpoint cannot talk to itself through the
 *   segment), and is pinned there.
 * - A pinned flow stays on its backend while the VIP lists it, `draining`
 *   included; a flow whose backend was removed is pinned again on its next
 *   datagram (`moved`), or dropped when no backend is `up` (`no-backend`).
 * - A flow idle longer than `flowIdleMs` is forgotten (`expired`): its next
 *   datagram is a new flow. Idle flows are swept at most every quarter of
 *   `flowIdleMs`, on the new-flow path; a full table forgets its oldest flow.
 * - The backend's MAC is looked up when the flow is pinned and again after
 *   the network's endpoints change; unknown: the datagram is dropped
 *   (`unresolved`), the flow stays.
 */
export class VipBalancer {
  private readonly table: FlowTable;
  private lastSweep: number;

  constructor(
    /** The client endpoint's address, unsigned 32-bit. */
    private readonly clientIp: number,
    private readonly services: NetworkServices,
  ) {
    this.table = new FlowTable(services.settings.maxFlows);
    this.lastSweep = services.settings.clock.now();
  }

  /** Number of flows pinned now. */
  get size(): number {
    return this.table.size;
  }

  /**
   * The flow a UDP datagram from the client's `clientPort` to `vip`:`vipPort`
   * belongs to, pinned and refreshed at `now` (ms); undefined when it must be
   * dropped (counted).
   */
  route(vip: VipEntry, clientPort: number, vipPort: number, now: number): Flow | undefined {
    const s = this.services;
    const c = s.counters.lb;
    let f = this.table.find(vip.ip, clientPort, vipPort);
    if (f !== undefined && now - f.lastSeen > s.settings.flowIdleMs) {
      this.table.delete(f);
      c.expired++;
      f = undefined;
    }
    if (f === undefined) {
      this.maybeSweep(now);
      const hash = flowHash(IPPROTO_UDP, this.clientIp, clientPort, vip.ip, vipPort);
      const backend = chooseBackend(hash, vip.up, this.clientIp);
      if (backend < 0) {
        c.drops['no-backend']++;
        return undefined;
      }
      const mac = s.macOf(backend);
      if (mac === undefined) {
        c.drops.unresolved++;
        return undefined;
      }
      f = { vip, clientPort, vipPort, hash, backend, mac, macGeneration: s.generation, version: vip.version, lastSeen: now };
      c.evicted += this.table.add(f);
      c.newFlows++;
      return f;
    }
    if (f.version !== vip.version) {
      f.version = vip.version;
      if (!vip.backends.has(f.backend)) {
        const backend = chooseBackend(f.hash, vip.up, this.clientIp);
        const mac = backend < 0 ? undefined : s.macOf(backend);
        if (mac === undefined) {
          this.table.delete(f);
          if (backend < 0) c.drops['no-backend']++;
          else c.drops.unresolved++;
          return undefined;
        }
        this.table.repin(f, backend, mac, s.generation);
        c.moved++;
      }
    }
    if (f.macGeneration !== s.generation) {
      const mac = s.macOf(f.backend);
      if (mac === undefined) {
        c.drops.unresolved++;
        return undefined;
      }
      f.mac = mac;
      f.macGeneration = s.generation;
    }
    f.lastSeen = now;
    return f;
  }

  /**
   * The flow whose reply a UDP datagram from `backend`:`backendPort` to the
   * client's `clientPort` is, refreshed at `now`; undefined when there is
   * none (or it expired: then it is forgotten).
   */
  reply(backend: number, backendPort: number, clientPort: number, now: number): Flow | undefined {
    const f = this.table.replyTo(backend, backendPort, clientPort);
    if (f === undefined) return undefined;
    if (now - f.lastSeen > this.services.settings.flowIdleMs) {
      this.table.delete(f);
      this.services.counters.lb.expired++;
      return undefined;
    }
    f.lastSeen = now;
    return f;
  }

  /** Forgets the flows of a removed VIP. */
  forgetVip(vip: number): void {
    this.table.forgetVip(vip);
  }

  /** Forgets every flow. */
  clear(): void {
    this.table.clear();
  }

  private maybeSweep(now: number): void {
    const idle = this.services.settings.flowIdleMs;
    if (now - this.lastSweep < idle / 4) return;
    this.lastSweep = now;
    this.services.counters.lb.expired += this.table.sweep(now, idle);
  }
}
