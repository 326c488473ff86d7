import { DataPlaneError, formatIpv4, isValidIpv4, parseMac, type Clock, type LocalEndpointSpec } from '@weft/interface';
import { Endpoint, type Segment } from '@weft/vxlan';
import { ClaimIndex } from './claim-index';
import type { NetworkServices } from './network-services';
import { ServicePort } from './service-port';

interface LocalEntry {
  spec: LocalEndpointSpec;
  endpoint: Endpoint;
  /** The port the segment sees for `endpoint` (its link too). */
  shim: ServicePort;
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * One network's local endpoints: a vxlan `Endpoint` (a userspace NIC with
 * ARP, ping and UDP sockets) per spec, attached to the network's segment
 * through its {@link ServicePort} (the port the segment sees, and the link
 * the endpoint transmits on: DNS address and VIPs). The `Endpoint` is the
 * handle `addLocalEndpoint` returns; its `segment` is the real segment.
 */
export class LocalEndpoints {
  private readonly entries = new Map<string, LocalEntry>();
  private readonly macs = new ClaimIndex();
  private readonly ips = new ClaimIndex();

  constructor(
    private readonly clock: Clock,
    private readonly services: NetworkServices,
  ) {}

  /** Every local endpoint's spec and NIC. */
  values(): IterableIterator<Readonly<LocalEntry>> {
    return this.entries.values();
  }

  /** The MAC (6 bytes, new) of the local endpoint holding `ip` (unsigned 32-bit), if any. */
  macOf(ip: number): Uint8Array | undefined {
    const id = this.ips.newest(formatIpv4(ip));
    const e = id === undefined ? undefined : this.entries.get(id);
    return e === undefined ? undefined : parseMac(e.endpoint.mac);
  }

  /** Id of a local endpoint other than `except` holding `mac` or `ip`. */
  holderOf(field: 'mac' | 'ip', value: string, except?: string): string | undefined {
    return (field === 'mac' ? this.macs : this.ips).other(value, except);
  }

  private index(spec: LocalEndpointSpec): void {
    this.macs.claim(spec.mac, spec.id);
    this.ips.claim(spec.ip, spec.id);
  }

  private unindex(spec: LocalEndpointSpec): void {
    this.macs.release(spec.mac, spec.id);
    this.ips.release(spec.ip, spec.id);
  }

  /**
   * Attaches (or replaces in place) the endpoint `spec` on `segment` and
   * returns its NIC. The same MAC and IP again keep the NIC (re-attaching it
   * if it was detached behind the plane's back, or a new one if it was
   * closed); another MAC or IP gives a new NIC that takes the old one's place
   * in the same synchronous step (the old one is closed).
   * @throws DataPlaneError for an IPv6 address (userspace endpoints are IPv4 only).
   */
  add(spec: LocalEndpointSpec, segment: Segment): Endpoint {
    if (!isValidIpv4(spec.ip)) throw new DataPlaneError(`addLocalEndpoint: endpoint ${spec.id}: userspace endpoints are IPv4 only (got ${spec.ip})`);
    const old = this.entries.get(spec.id);
    if (old !== undefined && old.endpoint.ip === spec.ip && old.endpoint.mac === spec.mac) {
      this.unindex(old.spec);
      this.index(spec);
      old.spec = spec;
      this.ensureAttached(old, segment);
      return old.endpoint;
    }
    if (old !== undefined) {
      this.unindex(old.spec);
      void this.release(old);
    }
    const endpoint = this.nic(spec);
    const entry: LocalEntry = { spec, endpoint, shim: new ServicePort(endpoint, this.services) };
    this.index(spec);
    try {
      segment.attach(entry.shim);
    } catch (err) {
      entry.shim.close();
      throw err;
    }
    this.entries.set(spec.id, entry);
    return entry.endpoint;
  }

  /** Closes (and so detaches) the endpoint. No-op when unknown. */
  async remove(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (e === undefined) return;
    this.entries.delete(id);
    this.unindex(e.spec);
    await this.release(e);
  }

  /** Detaches every NIC from `from` and attaches it to `to` (a replaced segment or rebuilt stack). */
  moveTo(from: Segment, to: Segment): void {
    for (const e of this.entries.values()) from.detach(e.shim);
    for (const e of this.entries.values()) this.ensureAttached(e, to);
  }

  /** Closes every NIC. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.macs.clear();
    this.ips.clear();
    await Promise.all(all.map((e) => this.release(e)));
  }

  /** The endpoints really attached to `segment` (their shims are its ports), with the NIC's canonical IP and MAC; sorted by id. */
  readBack(segment: Segment): LocalEndpointSpec[] {
    const ports = new Set(segment.ports);
    const out: LocalEndpointSpec[] = [];
    for (const e of this.entries.values()) if (ports.has(e.shim) && e.endpoint.segment === segment) out.push({ ...e.spec, ip: e.endpoint.ip, mac: e.endpoint.mac });
    return out.sort(byId);
  }

  private ensureAttached(e: LocalEntry, segment: Segment): void {
    if (e.endpoint.segment === segment) return;
    e.shim.detach(); // from wherever it is (no-op when it is not attached)
    try {
      segment.attach(e.shim);
    } catch {
      // Closed through its handle: a fresh NIC with the same addresses (and a fresh shim) takes its place.
      e.shim.close();
      e.endpoint = this.nic(e.spec);
      e.shim = new ServicePort(e.endpoint, this.services);
      segment.attach(e.shim);
    }
  }

  /** Closes an entry's NIC (which detaches its shim) and its shim's flows. */
  private release(e: LocalEntry): Promise<void> {
    e.shim.close();
    return e.endpoint.close();
  }

  private nic(spec: LocalEndpointSpec): Endpoint {
    const endpoint = new Endpoint({ mac: spec.mac, ip: spec.ip, clock: this.clock });
    // The network's DNS address, when it has one, is the endpoint's nameserver (as 127.0.0.11 is a container's).
    const dns = this.services.dns;
    if (dns !== undefined) endpoint.setNameserver(formatIpv4(dns.ip));
    return endpoint;
  }
}
