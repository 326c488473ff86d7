import { formatIpv4, macForIpv4, parseMac, tryParseIpv4, type Clock, type DnsQueryHandler, type ServiceVip } from '@weft/interface';
import type { Neighbour } from '@weft/vxlan';
import { emptyServiceCounters, type ServiceCounters } from './service-counters';

/** What every network's services share, from the plane's options. */
export interface ServiceSettings {
  /** Monotonic ms clock of flow idle times. */
  readonly clock: Clock;
  /** A VIP flow idle longer than this (ms) is forgotten; its next datagram is a new flow. */
  readonly flowIdleMs: number;
  /** Most VIP flows one client endpoint keeps; beyond it the oldest is forgotten. */
  readonly maxFlows: number;
  /** The plane's DNS handler now (read on every query, so `setDnsHandler` takes effect at once). */
  readonly dnsHandler: () => DnsQueryHandler | undefined;
}

/**
 * An address the shim answers for itself (a VIP or the DNS address): the
 * address, unsigned 32-bit, and the binding ARP replies give, whose MAC is
 * virtual (`02:42` + the address bytes, as core derives endpoint MACs).
 */
export interface ShimAddress {
  readonly ip: number;
  readonly neighbour: Neighbour;
}

/** One VIP as the shims balance it. The object stays the same while the VIP exists (flows point at it). */
export interface VipEntry extends ShimAddress {
  /** Every backend (unsigned 32-bit address) → true when `up`, false when `draining`. */
  readonly backends: Map<number, boolean>;
  /** The `up` backends: the candidates of new flows. */
  up: number[];
  /** Bumped on every change of the backends: a flow that saw an older version checks its backend is still there. */
  version: number;
}

/** What {@link NetworkServices} tells the shims of its network. */
export interface ServiceListener {
  /** The VIP at `ip` was removed: forget its flows. */
  vipRemoved(ip: number): void;
}

function shimAddress(ip: number): ShimAddress {
  const mac = macForIpv4(ip);
  return { ip, neighbour: { ip: formatIpv4(ip), mac, macBytes: parseMac(mac) } };
}

/**
 * One network's services as its endpoints' shims see them: the VIPs and
 * their backends, the DNS address, the counters the shims bump, and how to
 * find a backend's MAC. Changes take effect on the next frame of every shim
 * of the network (they read this object); a removed VIP's flows are
 * forgotten at once. Only IPv4 VIPs, backends and DNS addresses take part
 * (endpoints are IPv4); others are recorded by the network state only.
 */
export class NetworkServices {
  /** IPv4 VIPs by address (unsigned 32-bit). */
  readonly vips = new Map<number, VipEntry>();
  /** The DNS address, when set (and IPv4). */
  dns: ShimAddress | undefined;
  /** True when the network has a VIP or a DNS address: shims inspect frames only then. */
  active = false;
  /** Bumped whenever an endpoint of the network (local or remote) changes: cached backend MACs are looked up again. */
  generation = 0;
  /** The counters every shim of the network bumps. */
  readonly counters: ServiceCounters = emptyServiceCounters();
  private readonly listeners = new Set<ServiceListener>();

  constructor(
    /** The network's id (the `networkId` of DNS queries). */
    readonly networkId: string,
    /** The plane's settings. */
    readonly settings: ServiceSettings,
    /** The MAC of the endpoint (local or remote) holding `ip` (unsigned 32-bit), or undefined. */
    readonly macOf: (ip: number) => Uint8Array | undefined,
  ) {}

  /** Sets a VIP's backends (none: removes it). An IPv6 VIP is ignored; so are IPv6 backends. */
  setVip(vip: ServiceVip): void {
    const ip = tryParseIpv4(vip.vip);
    if (ip < 0) return;
    if (vip.backends.length === 0) {
      if (!this.vips.delete(ip)) return;
      for (const l of this.listeners) l.vipRemoved(ip);
      this.refresh();
      return;
    }
    let entry = this.vips.get(ip);
    if (entry === undefined) {
      entry = { ...shimAddress(ip), backends: new Map(), up: [], version: 0 };
      this.vips.set(ip, entry);
    }
    entry.backends.clear();
    const up: number[] = [];
    for (const b of vip.backends) {
      const at = tryParseIpv4(b.ip);
      if (at < 0) continue;
      entry.backends.set(at, b.state === 'up');
      if (b.state === 'up') up.push(at);
    }
    entry.up = up;
    entry.version++;
    this.refresh();
  }

  /** Sets the DNS address (undefined or IPv6: none). */
  setDns(address: string | undefined): void {
    const ip = address === undefined ? -1 : tryParseIpv4(address);
    this.dns = ip < 0 ? undefined : shimAddress(ip);
    this.refresh();
  }

  /** Records that an endpoint of the network changed (backend MACs are looked up again). */
  touch(): void {
    this.generation++;
  }

  /** Registers a shim of the network. */
  listen(l: ServiceListener): void {
    this.listeners.add(l);
  }

  /** Unregisters a shim. */
  unlisten(l: ServiceListener): void {
    this.listeners.delete(l);
  }

  /** Drops every shim (the network is gone). */
  close(): void {
    this.listeners.clear();
  }

  private refresh(): void {
    this.active = this.vips.size > 0 || this.dns !== undefined;
  }
}

