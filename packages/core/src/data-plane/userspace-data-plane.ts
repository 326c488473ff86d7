import {
  canonicalIp,
  DataPlaneError,
  formatSocketAddress,
  parseOptions,
  type DataPlane,
  type DataPlaneInfo,
  type DnsQueryHandler,
  type LocalAttachment,
  type LocalEndpointSpec,
  type NetworkEncryption,
  type NetworkSpec,
  type ProgrammedState,
  type RemoteEndpointSpec,
  type ServiceVip,
  type Underlay,
} from '@weft/interface';
import { randomBytes } from 'node:crypto';
import { SequenceMarks } from '@weft/crypto';
import { emptyCounters, Vtep, type Endpoint } from '@weft/vxlan';
import { CleartextGuard } from './cleartext-guard';
import { addNumbers, addVtepCounters, collectCounters, emptyEspCounters } from './counters';
import { EncryptedDemux } from './encrypted-demux';
import { AddressConflictError, DataPlaneClosedError, UnknownNetworkError } from './errors';
import type { NetworkStack, PlaneParts } from './network-stack';
import { NetworkState } from './network-state';
import { userspaceDataPlaneOptionsSchema, type ResolvedOptions, type UserspaceDataPlaneOptions } from './options';
import { addServiceCounters, emptyServiceCounters } from './service-counters';
import { parseDnsAddress, parseEncryption, parseId, parseLocalSpec, parseNetworkSpec, parseRemoteSpec, parseVip } from './spec-schemas';
import { udpUnderlayFactory } from './underlay-factories';

const WHAT = 'UserspaceDataPlane';

/**
 * Core's default data plane: `@weft/vxlan` VTEPs and endpoints in the node
 * process (no root), `@weft/crypto` sealing for encrypted networks.
 *
 * Two UDP sockets on `address`:
 * - the VXLAN port carries every plain network: one `Vtep`, a `Segment` per
 *   network. A {@link CleartextGuard} in front of it drops (and counts)
 *   cleartext VXLAN for an encrypted network's VNI before the VTEP sees it,
 *   and never lets such a packet out;
 * - the encrypted port carries every encrypted network: an
 *   {@link EncryptedDemux} hands each received packet to every network whose
 *   `EncryptedUnderlay.accepts(packet, from)` holds (unclaimed packets are
 *   dropped and counted); each encrypted network has its own `KeyRing`,
 *   `EncryptedUnderlay` (over its own demux port) and `Vtep` holding only its
 *   own segment, so a packet that opens under its keys but names another VNI
 *   is dropped by that VTEP as `unknown-vni`.
 *
 * Epoch: each `open` picks a random 64-bit `info.epoch` (16 hex digits),
 * which peers learn from the node record (`PeerNode.epoch`). Every per-pair
 * key on encrypted networks derives from both nodes' epochs, so a restart
 * means new keys both ways: a remote endpoint whose peer comes back with a
 * new epoch must be added again with it (core's plan does, since the peer
 * differs), and until then that peer's traffic is refused, not misread.
 * Within one epoch, sequence numbers of a network's SAs are kept per network
 * (and suite) for the plane's lifetime — across peers leaving and coming
 * back and the network being removed and programmed again — so no nonce
 * repeats and nothing accepted before is accepted again (memory: one mark
 * per network ever programmed × peer × live generation, both directions).
 *
 * Segments: learning off, ARP suppression on, unknown unicast dropped, `mtu` =
 * `NetworkSpec.mtu` (both are the largest inner IP packet). Endpoints are
 * IPv4 (vxlan `Endpoint`s); the attachment's handle is the `Endpoint`.
 *
 * Services: each local endpoint reaches its segment through a shim port
 * that answers for the network's DNS address and VIPs in the endpoint's
 * place (ARP with a virtual MAC, `02:42` + the address; DNS queries to the
 * handler; UDP to a VIP balanced per flow over its backends, replies
 * rewritten back to the VIP). Neither address is ever put in an FDB,
 * neighbour table or flood list, or sent to a peer. A network with neither
 * passes frames straight through.
 *
 * Every call takes effect synchronously, before its promise settles, and a
 * call that fails has changed nothing. Idempotent throughout; `add*` of an
 * existing id with other fields replaces it in the same synchronous step.
 * Calls for an unknown network (but `removeNetwork`) reject with
 * {@link UnknownNetworkError}; malformed arguments with `InvalidOptionsError`
 * naming the field; calls after `close()` with {@link DataPlaneClosedError}
 * (`removeNetwork` then is a no-op; `programmed()` and `counters()` still
 * answer). All are `DataPlaneError`s but `InvalidOptionsError`.
 */
export class UserspaceDataPlane implements DataPlane<Endpoint> {
  /** What peers need to reach this node: kind `userspace`, the address, the ports really bound, the underlay MTU, this start's epoch. */
  readonly info: DataPlaneInfo;
  /** This node's id, as given in the options (peers derive this node's per-pair keys with it). */
  readonly nodeId: string;
  /** Answers DNS queries at the networks' DNS addresses (set by core's discovery); read by the shims on every query. */
  private dnsHandler: DnsQueryHandler | undefined;
  private readonly networks = new Map<string, NetworkState>();
  private readonly parts: PlaneParts;
  private readonly guard: CleartextGuard;
  private readonly retiredVtep = emptyCounters();
  private readonly retiredEsp = emptyEspCounters();
  private readonly retiredServices = emptyServiceCounters();
  private readonly marks = new Map<string, SequenceMarks>();
  private closing: Promise<void> | undefined;

  private constructor(
    options: ResolvedOptions,
    private readonly plainSocket: Underlay,
    private readonly sealedSocket: Underlay,
  ) {
    this.nodeId = options.nodeId;
    this.guard = new CleartextGuard(plainSocket);
    const epoch = options.epoch ?? randomBytes(8).toString('hex');
    this.parts = {
      nodeId: options.nodeId,
      epoch,
      sequenceMarks: (networkId, suite) => this.sequenceMarks(networkId, suite),
      clock: options.clock,
      plainVtep: new Vtep({ underlay: this.guard, clock: options.clock, learning: false }),
      demux: new EncryptedDemux(sealedSocket),
      services: {
        clock: options.clock,
        flowIdleMs: options.serviceFlowIdleMs,
        maxFlows: options.serviceFlowLimit,
        dnsHandler: () => this.dnsHandler,
      },
    };
    this.info = {
      kind: 'userspace',
      address: canonicalIp(options.address),
      vxlanPort: plainSocket.local.port,
      encryptedPort: sealedSocket.local.port,
      underlayMtu: options.underlayMtu,
      epoch,
    };
  }

  /**
   * Binds the two sockets (VXLAN port, then encrypted port) and returns the plane.
   * @throws InvalidOptionsError naming the bad option.
   * @throws DataPlaneError when a socket cannot be opened (e.g. the port is in use; `cause` is the socket's error).
   */
  static async open(options: UserspaceDataPlaneOptions): Promise<UserspaceDataPlane> {
    const o = parseOptions(userspaceDataPlaneOptionsSchema, options, WHAT);
    const make = o.underlay ?? udpUnderlayFactory({ sourcePorts: o.sourcePorts });
    const bind = async (port: number, which: string): Promise<Underlay> => {
      const at = { host: o.address, port };
      try {
        return await make(at);
      } catch (err) {
        throw new DataPlaneError(`${WHAT}: cannot open the ${which} socket at ${formatSocketAddress(at)}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      }
    };
    const plain = await bind(o.vxlanPort, 'VXLAN');
    let sealed: Underlay;
    try {
      sealed = await bind(o.encryptedPort, 'encrypted');
    } catch (err) {
      await plain.close();
      throw err;
    }
    return new UserspaceDataPlane(o, plain, sealed);
  }

  /**
   * Programs a network, or brings an existing one to `spec`: keys through
   * the key ring's phases (see {@link UserspaceDataPlane.setNetworkKeys}); a
   * new VNI or MTU on a fresh segment that endpoints and entries move to; a
   * switch between plain and encrypted (or a new suite) on a fresh stack.
   * Name, subnet, gateway and `internal` are recorded (the userspace plane has
   * no egress, so `internal` changes nothing in forwarding).
   * `spec.mtu` is not checked against `info.underlayMtu`: core derives it
   * from there; a larger one makes the kernel fragment the outer packets.
   * @throws InvalidOptionsError for a malformed spec (naming the field);
   * AddressConflictError when another network has the VNI; KeyTransitionError when the keys cannot get there.
   */
  async ensureNetwork(spec: NetworkSpec): Promise<void> {
    this.assertOpen('ensureNetwork');
    const s = parseNetworkSpec(spec, `${WHAT}.ensureNetwork`);
    for (const other of this.networks.values()) {
      if (other.id !== s.id && other.vni === s.vni) throw new AddressConflictError(s.id, 'vni', String(s.vni), `network ${other.id}`);
    }
    const existing = this.networks.get(s.id);
    if (existing === undefined) this.networks.set(s.id, new NetworkState(this.parts, s, (stack) => this.retire(stack)));
    else existing.update(s);
    this.fence();
  }

  /**
   * Brings an encrypted network's `KeyRing` to `encryption` with its three
   * phases, in an order the ring accepts: retire what is dropped and already
   * older than the send generation, install new generations (ascending),
   * activate the new send generation, retire the rest. So the control
   * plane's install → activate → retire rounds each map to one phase, and a
   * node that missed rotations jumps (e.g. {1} send 1 → {3} send 3 is
   * install 3, activate 3, retire 1). Peers' SAs follow the ring; nothing in
   * flight under a generation still listed is lost.
   * A suite change builds a fresh stack (as `ensureNetwork` does).
   * @throws UnknownNetworkError; KeyTransitionError on a plain network, for an
   * older send generation, a generation older than an installed one, a changed
   * secret, or live generations sharing their low 8 bits (nothing changed);
   * InvalidOptionsError for malformed keys.
   */
  async setNetworkKeys(networkId: string, encryption: NetworkEncryption): Promise<void> {
    this.assertOpen('setNetworkKeys');
    const e = parseEncryption(encryption, `${WHAT}.setNetworkKeys`);
    this.network(networkId, 'setNetworkKeys').setKeys(e);
  }

  /**
   * Removes the network: its endpoints are closed, its segment, entries,
   * keys (secret copies wiped), SAs and (encrypted) VTEP released. A no-op
   * for an unknown id, and after `close()` (which removed everything). The
   * VNI is free when the promise settles (in fact at once).
   */
  async removeNetwork(networkId: string): Promise<void> {
    const id = parseId('networkId', networkId, `${WHAT}.removeNetwork`);
    const n = this.networks.get(id);
    if (n === undefined) return;
    this.networks.delete(id);
    this.fence();
    addServiceCounters(this.retiredServices, n.services.counters);
    await n.dispose();
  }

  /**
   * Attaches a userspace endpoint (vxlan `Endpoint`, IPv4, `spec.mac` and
   * `spec.ip`) to the network's segment and returns it as the handle: ping
   * and UDP sockets from the node process. The same spec again returns the
   * same `Endpoint`; another MAC or IP replaces it with a new one (the old
   * is closed); other fields are recorded. `prefixLength`, `sandbox` and
   * `interfaceName` are kept for read-back only (an `Endpoint` treats every
   * destination as on-link and lives in no sandbox).
   * @throws UnknownNetworkError; AddressConflictError when another endpoint of the network
   * has the MAC or IP; DataPlaneError for an IPv6 address; InvalidOptionsError for a malformed spec.
   */
  async addLocalEndpoint(networkId: string, spec: LocalEndpointSpec): Promise<LocalAttachment<Endpoint>> {
    this.assertOpen('addLocalEndpoint');
    const s = parseLocalSpec(spec, `${WHAT}.addLocalEndpoint`);
    const endpoint = this.network(networkId, 'addLocalEndpoint').addLocal(s);
    return { endpointId: s.id, handle: endpoint };
  }

  /**
   * Closes and detaches a local endpoint (pending pings reject, sockets close).
   * A no-op when the endpoint is unknown. @throws UnknownNetworkError.
   */
  async removeLocalEndpoint(networkId: string, endpointId: string): Promise<void> {
    this.assertOpen('removeLocalEndpoint');
    const id = parseId('endpointId', endpointId, `${WHAT}.removeLocalEndpoint`);
    await this.network(networkId, 'removeLocalEndpoint').removeLocal(id);
  }

  /**
   * Programs (or replaces in place) a remote endpoint: FDB entry MAC → the
   * peer's VTEP (`peer.address` and `vxlanPort`, or `encryptedPort` on an
   * encrypted network), neighbour entry IP → MAC (ARP suppression), the
   * peer's flood entry, and on encrypted networks the peer's registration
   * with the network's `EncryptedUnderlay` in the peer's `epoch` (once per
   * peer; its SAs are kept while the peer has endpoints). A peer whose
   * address, ports or epoch changed moves with all its endpoints; a new
   * epoch (the peer restarted) replaces its SAs both ways.
   * @throws UnknownNetworkError; AddressConflictError when a local endpoint has the MAC or IP
   * (or another peer the sealed address); DataPlaneError for an IPv6 address; InvalidOptionsError for a malformed spec.
   */
  async addRemoteEndpoint(networkId: string, spec: RemoteEndpointSpec): Promise<void> {
    this.assertOpen('addRemoteEndpoint');
    const s = parseRemoteSpec(spec, `${WHAT}.addRemoteEndpoint`);
    const n = this.network(networkId, 'addRemoteEndpoint');
    if (s.ip.includes(':')) throw new DataPlaneError(`addRemoteEndpoint: endpoint ${s.id}: the userspace neighbour table is IPv4 only (got ${s.ip})`);
    n.addRemote(s);
  }

  /**
   * Removes a remote endpoint's FDB and neighbour entries; its peer's flood
   * entry and registration go with the peer's last endpoint. A no-op when
   * unknown. @throws UnknownNetworkError.
   */
  async removeRemoteEndpoint(networkId: string, endpointId: string): Promise<void> {
    this.assertOpen('removeRemoteEndpoint');
    const id = parseId('endpointId', endpointId, `${WHAT}.removeRemoteEndpoint`);
    this.network(networkId, 'removeRemoteEndpoint').removeRemote(id);
  }

  /**
   * Sets a service VIP's backends (no backends: removes it), returned by
   * `programmed()` as given. From the next frame on, this node's local
   * endpoints on the network reach the VIP through their shims:
   * - ARP for the VIP is answered with its virtual MAC (`02:42` + the VIP's
   *   bytes), never forwarded;
   * - each UDP flow (client port, VIP, VIP port) goes to one backend, chosen
   *   among the `up` ones by rendezvous hashing of the 5-tuple (deterministic;
   *   a new backend moves no pinned flow) and pinned there while the VIP lists
   *   that backend, `draining` included; destination IP and MAC are rewritten
   *   (checksums updated incrementally; the port is kept), and the backend's
   *   replies come back from the VIP. A flow whose backend was removed moves
   *   to another on its next datagram; one idle for `serviceFlowIdleMs` is
   *   forgotten; a datagram finding no `up` backend is dropped and counted
   *   (`lb.drops.no-backend`). A client never picks its own address;
   * - ICMP echo to the VIP is answered by the shim (from the VIP); other
   *   protocols are dropped and counted (`lb.drops.unsupported`).
   * Removing the VIP forgets its flows at once. Only IPv4 VIPs and backends
   * are balanced (others are recorded only). The backend's MAC is a local
   * endpoint's or a remote endpoint's neighbour entry (`lb.drops.unresolved` when neither).
   * @throws UnknownNetworkError; InvalidOptionsError for a malformed VIP.
   */
  async setServiceVip(networkId: string, vip: ServiceVip): Promise<void> {
    this.assertOpen('setServiceVip');
    const v = parseVip(vip, `${WHAT}.setServiceVip`);
    this.network(networkId, 'setServiceVip').setVip(v);
  }

  /**
   * Sets the network's node-local DNS address (undefined clears it),
   * returned by `programmed()`. From the next frame on, this node's local
   * endpoints on the network get ARP for it answered by their shims (virtual
   * MAC `02:42` + the address bytes; never forwarded, never in an FDB,
   * neighbour table or flood list, never advertised), and each UDP datagram
   * to its port 53 goes to the handler set with
   * {@link UserspaceDataPlane.setDnsHandler} as `{ networkId, sourceIp,
   * sourcePort, transport: 'udp', message }` (`message` a copy, the handler's);
   * its reply, if any, comes back to the asking socket as a datagram from the
   * address, port 53, after the handler's promise settles. Anything else to
   * the address, and queries while no handler is set, are dropped and
   * counted (`dns.drops.*`). An IPv6 address is recorded only.
   * @throws UnknownNetworkError; InvalidOptionsError when it is not an IP literal.
   */
  async setDnsAddress(networkId: string, address: string | undefined): Promise<void> {
    this.assertOpen('setDnsAddress');
    const a = parseDnsAddress(address, `${WHAT}.setDnsAddress`);
    this.network(networkId, 'setDnsAddress').setDns(a);
  }

  /**
   * Sets the handler of DNS queries at every network's DNS address
   * (undefined: such queries are dropped and counted as
   * `dns.drops.no-handler`). Takes effect for the next query; replies to
   * queries already handed to the previous handler still come back. A
   * handler that throws or rejects is counted (`dns.drops.handler-error`).
   */
  setDnsHandler(handler: DnsQueryHandler | undefined): void {
    this.dnsHandler = handler;
  }

  /**
   * What is programmed, read back from the live objects: VNI and MTU from
   * each segment; keys from the key ring (live generations and send
   * generation; secrets are copies of what was installed); local endpoints
   * that are ports of the segment (IP and MAC as the `Endpoint` holds them:
   * dotted quad, lowercase MAC); remote endpoints whose FDB and neighbour
   * entries are in the segment (and, encrypted, whose peer is registered in
   * the epoch the endpoint names — each `peer.epoch` is the one programmed);
   * flood peers whose address is in the segment's flood list. VIPs and DNS
   * addresses as recorded. Networks and entries sorted by id, VIPs by VIP.
   * A network with no local endpoint is listed as long as it is programmed.
   * After `close()`: no networks.
   */
  async programmed(): Promise<ProgrammedState> {
    const ids = [...this.networks.keys()].sort();
    return { networks: ids.map((id) => this.networks.get(id)!.readBack()) };
  }

  /**
   * A flat snapshot of every counter (totals since `open`):
   * - `plain.<field>`, `plain.drops.<reason>`: the plain VTEP (every plain network; VTEP-level drops such as `unknown-vni`);
   * - `encrypted.<field>`, `encrypted.drops.<reason>`: the encrypted networks' VTEPs summed, removed networks included
   *   (`encrypted.drops.unknown-vni`: a packet that opened under a network's keys but named another VNI);
   * - `esp.<field>`: the encrypted networks' `EncryptedUnderlay` counters summed, removed networks included;
   * - `demux.rxPackets|claimed|unclaimed|multiple`: the encrypted port (`unclaimed`: no network accepted it, dropped);
   * - `guard.rxEncryptedVni`: cleartext VXLAN for an encrypted network's VNI received on the plain port, dropped;
   *   `guard.txEncryptedVni`: such packets refused on the way out (always 0 unless a bug);
   * - `underlay.plain.<k>`, `underlay.encrypted.<k>`: the sockets' own counters when they have them (`UdpUnderlay`);
   * - per live network `<id>`: `net.<id>.segment.<field>` / `net.<id>.segment.drops.<reason>` (its segment; `mtu`
   *   drops land here), and on encrypted networks `net.<id>.vtep.*` (its own VTEP), `net.<id>.esp.*` and
   *   `net.<id>.cleartextDropped` (the guard's drops for its VNI);
   * - `dns.<field>`, `dns.drops.<reason>`: the DNS address path of every network summed, removed networks included
   *   (`arpAnswered`, `queries` handed to the handler, `replies` delivered, `noReply`; drops `no-handler`, `not-dns`,
   *   `malformed`, `handler-error`, `reply-too-large`, `undeliverable`, `port-error`); per network `net.<id>.dns.*`;
   * - `lb.<field>`, `lb.drops.<reason>`: VIP balancing likewise (`arpAnswered`, `echoAnswered`, `newFlows`,
   *   `rewrittenOut`, `rewrittenIn`, `moved`, `expired`, `evicted`; drops `no-backend`, `unresolved`, `unsupported`,
   *   `malformed`, `undeliverable`, `port-error`); per network `net.<id>.lb.*`.
   * Field and reason names are vxlan's `VtepCounters`/`DropReason` and crypto's `EncryptedUnderlayCounters`.
   */
  async counters(): Promise<Readonly<Record<string, number>>> {
    return collectCounters({
      plainVtep: this.parts.plainVtep,
      networks: this.networks.values(),
      retiredVtep: this.retiredVtep,
      retiredEsp: this.retiredEsp,
      retiredServices: this.retiredServices,
      demux: this.parts.demux,
      guard: this.guard,
      plainSocket: this.plainSocket,
      sealedSocket: this.sealedSocket,
    });
  }

  /**
   * Closes every endpoint, VTEP and both sockets; leaves no timer behind.
   * Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const networks = [...this.networks.values()];
    this.networks.clear();
    this.fence();
    for (const n of networks) addServiceCounters(this.retiredServices, n.services.counters);
    const released = networks.map((n) => n.dispose());
    await Promise.all([...released, this.parts.plainVtep.close(), this.parts.demux.close()]);
  }

  private network(networkId: string, operation: string): NetworkState {
    const id = parseId('networkId', networkId, `${WHAT}.${operation}`);
    const n = this.networks.get(id);
    if (n === undefined) throw new UnknownNetworkError(id, operation);
    return n;
  }

  private assertOpen(operation: string): void {
    if (this.closing !== undefined) throw new DataPlaneClosedError(operation);
  }

  /** Fences the encrypted networks' VNIs off the plain port. */
  private fence(): void {
    const vnis: number[] = [];
    for (const n of this.networks.values()) if (n.encrypted) vnis.push(n.vni);
    this.guard.fence(vnis);
  }

  /** The sequence marks of `networkId`'s sealed traffic under `suite`, for as long as the plane lives. */
  private sequenceMarks(networkId: string, suite: string): SequenceMarks {
    const key = `${suite} ${networkId}`;
    let m = this.marks.get(key);
    if (m === undefined) {
      m = new SequenceMarks();
      this.marks.set(key, m);
    }
    return m;
  }

  /** Keeps a disposed encrypted stack's final counters in the `encrypted.*` and `esp.*` totals. */
  private retire(stack: NetworkStack): void {
    if (stack.sealed === undefined) return;
    addVtepCounters(this.retiredVtep, stack.vtep.counters);
    addNumbers(this.retiredEsp, stack.sealed.enc.counters);
  }
}
