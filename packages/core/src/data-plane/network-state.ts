import type { LocalEndpointSpec, NetworkSpec, ProgrammedNetwork, RemoteEndpointSpec, ServiceVip } from '@weft/interface';
import type { Endpoint } from '@weft/vxlan';
import { AddressConflictError, KeyTransitionError } from './errors';
import { LocalEndpoints } from './local-endpoints';
import { buildStack, disposeStack, segmentOptions, type NetworkStack, type PlaneParts } from './network-stack';
import { NetworkServices } from './network-services';
import { RemoteTable } from './remote-table';
import type { Encryption } from './spec-schemas';

/** A network spec without its keys (those live in the stack's key ring). */
type Shape = Omit<NetworkSpec, 'encryption'>;

function shapeOf(spec: NetworkSpec): Shape {
  const { encryption: _keys, ...shape } = spec;
  return shape;
}

/**
 * Everything programmed for one network on this plane: its stack (segment,
 * and on encrypted networks its VTEP, `EncryptedUnderlay` and key ring), its
 * local and remote endpoints, VIPs and DNS address. Every method takes
 * effect synchronously; checks come first, so a call that throws changed nothing.
 *
 * VIPs and the DNS address are kept twice: as given, for `readBack`, and in
 * the {@link NetworkServices} every local endpoint's shim reads on each
 * frame, so a change reaches the data path at once.
 */
export class NetworkState {
  private stack: NetworkStack;
  private shape: Shape;
  private readonly locals: LocalEndpoints;
  private readonly remotes: RemoteTable;
  private readonly vips = new Map<string, ServiceVip>();
  private dns: string | undefined;
  /** What the local endpoints' shims answer for: VIPs, DNS address, their counters. */
  readonly services: NetworkServices;

  /**
   * Builds the network's stack from `spec` (the caller has checked the VNI is free).
   * @throws KeyTransitionError when the keys cannot form one ring.
   */
  constructor(
    private readonly parts: PlaneParts,
    spec: NetworkSpec & { readonly encryption?: Encryption },
    /** Called with a stack about to be disposed (the plane keeps its final counters). */
    private readonly onRetire: (stack: NetworkStack) => void,
  ) {
    this.stack = buildStack(parts, spec.id, spec.vni, spec.mtu, spec.encryption);
    this.shape = shapeOf(spec);
    // Backend MACs: a local endpoint's, else the neighbour entry of a remote one (read from the live stack).
    this.services = new NetworkServices(spec.id, parts.services, (ip) => this.locals.macOf(ip) ?? this.stack.segment.neighbours.get(ip)?.macBytes);
    this.locals = new LocalEndpoints(parts.clock, this.services);
    this.remotes = new RemoteTable(this.stack, spec.id);
  }

  /** The network id. */
  get id(): string {
    return this.shape.id;
  }

  /** The VNI programmed now (read from the segment). */
  get vni(): number {
    return this.stack.segment.vni;
  }

  /** True when the network is sealed. */
  get encrypted(): boolean {
    return this.stack.sealed !== undefined;
  }

  /** The live stack (for counters). */
  get current(): NetworkStack {
    return this.stack;
  }

  /**
   * Brings the network to `spec`: keys through the ring's phases; a new VNI
   * or MTU on a fresh segment (endpoints and entries move with it); a switch
   * between plain and encrypted, or a new suite, on a fresh stack; other
   * fields are recorded.
   * @throws KeyTransitionError when the keys cannot get there (nothing changed).
   */
  update(spec: NetworkSpec & { readonly encryption?: Encryption }): void {
    const sealed = this.stack.sealed;
    const enc = spec.encryption;
    if ((sealed === undefined) !== (enc === undefined) || (sealed !== undefined && enc !== undefined && sealed.keys.ring.suite !== enc.suite)) {
      this.rebuild(buildStack(this.parts, spec.id, spec.vni, spec.mtu, enc));
    } else {
      if (sealed !== undefined && enc !== undefined) sealed.keys.apply(enc);
      if (spec.vni !== this.stack.segment.vni || spec.mtu !== this.stack.segment.mtu) this.replaceSegment(spec.vni, spec.mtu);
    }
    this.shape = shapeOf(spec);
  }

  /**
   * Sets an encrypted network's keys (see {@link NetworkState.update}).
   * @throws KeyTransitionError on a plain network or when the keys cannot get there.
   */
  setKeys(encryption: Encryption): void {
    if (this.stack.sealed === undefined) throw new KeyTransitionError(this.id, 'the network is not encrypted (ensureNetwork with encryption makes it so)');
    this.update({ ...this.shape, encryption });
  }

  /**
   * Attaches (or replaces) a local endpoint; returns its NIC.
   * @throws AddressConflictError when another endpoint of the network holds the MAC or IP;
   * DataPlaneError for an IPv6 address.
   */
  addLocal(spec: LocalEndpointSpec): Endpoint {
    for (const field of ['mac', 'ip'] as const) {
      const local = this.locals.holderOf(field, spec[field], spec.id);
      if (local !== undefined) throw new AddressConflictError(this.id, field, spec[field], `local endpoint ${local}`);
      const remote = this.remotes.holderOf(field, spec[field]);
      if (remote !== undefined) throw new AddressConflictError(this.id, field, spec[field], `remote endpoint ${remote}`);
    }
    const endpoint = this.locals.add(spec, this.stack.segment);
    this.services.touch();
    return endpoint;
  }

  /** Closes and detaches a local endpoint; no-op when unknown. */
  removeLocal(endpointId: string): Promise<void> {
    const closed = this.locals.remove(endpointId);
    this.services.touch();
    return closed;
  }

  /**
   * Programs (or replaces) a remote endpoint.
   * @throws AddressConflictError when a local endpoint holds the MAC or IP, or (encrypted) another peer the sealed address.
   */
  addRemote(spec: RemoteEndpointSpec): void {
    for (const field of ['mac', 'ip'] as const) {
      const local = this.locals.holderOf(field, spec[field]);
      if (local !== undefined) throw new AddressConflictError(this.id, field, spec[field], `local endpoint ${local}`);
    }
    this.remotes.add(spec);
    this.services.touch();
  }

  /** Removes a remote endpoint's entries; no-op when unknown. */
  removeRemote(endpointId: string): void {
    this.remotes.remove(endpointId);
    this.services.touch();
  }

  /** Sets a VIP (no backends: removes it): recorded, and balanced by the shims from their next frame. */
  setVip(vip: ServiceVip): void {
    if (vip.backends.length === 0) this.vips.delete(vip.vip);
    else this.vips.set(vip.vip, vip);
    this.services.setVip(vip);
  }

  /** Sets the DNS address (undefined: clears it): recorded, and answered by the shims from their next frame. */
  setDns(address: string | undefined): void {
    this.dns = address;
    this.services.setDns(address);
    // Each local endpoint's resolver asks this address (over the overlay, through its shim).
    const ns = address !== undefined && !address.includes(':') ? address : undefined;
    for (const e of this.locals.values()) e.endpoint.setNameserver(ns);
  }

  /** What is programmed, read back from the segment, key ring and `EncryptedUnderlay` (see `DataPlane.programmed`). */
  readBack(): ProgrammedNetwork {
    const { segment, sealed } = this.stack;
    const spec: NetworkSpec = { ...this.shape, vni: segment.vni, mtu: segment.mtu, ...(sealed !== undefined ? { encryption: sealed.keys.read() } : {}) };
    const { remote, flood } = this.remotes.readBack();
    const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    return {
      spec,
      local: this.locals.readBack(segment),
      remote,
      flood,
      vips: [...this.vips.values()].map((v) => ({ vip: v.vip, backends: v.backends.map((b) => ({ ...b })) })).sort((a, b) => cmp(a.vip, b.vip)),
      ...(this.dns !== undefined ? { dnsAddress: this.dns } : {}),
    };
  }

  /**
   * Closes every endpoint and releases the stack. Everything is taken down
   * synchronously (the VNI is free again when this returns); the promise
   * settles once sockets and ports have finished closing.
   */
  dispose(): Promise<void> {
    const closed = this.locals.closeAll();
    this.services.close();
    this.onRetire(this.stack);
    const released = disposeStack(this.stack);
    return Promise.all([closed, released]).then(() => undefined);
  }

  private replaceSegment(vni: number, mtu: number): void {
    const old = this.stack;
    old.vtep.removeSegment(old.segment.vni); // detaches the NICs
    this.stack = { ...old, segment: old.vtep.addSegment(vni, segmentOptions(mtu)) };
    this.locals.moveTo(old.segment, this.stack.segment);
    this.remotes.moveTo(this.stack);
  }

  private rebuild(fresh: NetworkStack): void {
    const old = this.stack;
    this.stack = fresh;
    this.locals.moveTo(old.segment, fresh.segment);
    this.remotes.moveTo(fresh);
    this.onRetire(old);
    void disposeStack(old);
  }
}
