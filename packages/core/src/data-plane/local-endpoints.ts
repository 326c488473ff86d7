import { DataPlaneError, isValidIpv4, type Clock, type LocalEndpointSpec } from '@weft/interface';
import { Endpoint, type Segment } from '@weft/vxlan';
import { ClaimIndex } from './claim-index';

interface LocalEntry {
  spec: LocalEndpointSpec;
  endpoint: Endpoint;
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * One network's local endpoints: a vxlan `Endpoint` (a userspace NIC with
 * ARP, ping and UDP sockets) per spec, attached to the network's segment.
 * The `Endpoint` is the handle `addLocalEndpoint` returns.
 */
export class LocalEndpoints {
  private readonly entries = new Map<string, LocalEntry>();
  private readonly macs = new ClaimIndex();
  private readonly ips = new ClaimIndex();

  constructor(private readonly clock: Clock) {}

  /** Every local endpoint's spec and NIC. */
  values(): IterableIterator<Readonly<LocalEntry>> {
    return this.entries.values();
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
      void old.endpoint.close();
    }
    const entry = { spec, endpoint: this.nic(spec) };
    this.index(spec);
    segment.attach(entry.endpoint);
    this.entries.set(spec.id, entry);
    return entry.endpoint;
  }

  /** Closes (and so detaches) the endpoint. No-op when unknown. */
  async remove(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (e === undefined) return;
    this.entries.delete(id);
    this.unindex(e.spec);
    await e.endpoint.close();
  }

  /** Detaches every NIC from `from` and attaches it to `to` (a replaced segment or rebuilt stack). */
  moveTo(from: Segment, to: Segment): void {
    for (const e of this.entries.values()) from.detach(e.endpoint);
    for (const e of this.entries.values()) this.ensureAttached(e, to);
  }

  /** Closes every NIC. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.macs.clear();
    this.ips.clear();
    await Promise.all(all.map((e) => e.endpoint.close()));
  }

  /** The endpoints really attached to `segment` (its ports), with the NIC's canonical IP and MAC; sorted by id. */
  readBack(segment: Segment): LocalEndpointSpec[] {
    const ports = new Set(segment.ports);
    const out: LocalEndpointSpec[] = [];
    for (const e of this.entries.values()) if (ports.has(e.endpoint)) out.push({ ...e.spec, ip: e.endpoint.ip, mac: e.endpoint.mac });
    return out.sort(byId);
  }

  private ensureAttached(e: LocalEntry, segment: Segment): void {
    if (e.endpoint.segment === segment) return;
    if (e.endpoint.segment !== undefined) e.endpoint.segment.detach(e.endpoint);
    try {
      segment.attach(e.endpoint);
    } catch {
      // Closed through its handle: a fresh NIC with the same addresses takes its place.
      e.endpoint = this.nic(e.spec);
      segment.attach(e.endpoint);
    }
  }

  private nic(spec: LocalEndpointSpec): Endpoint {
    return new Endpoint({ mac: spec.mac, ip: spec.ip, clock: this.clock });
  }
}
