import {
  canonicalIp,
  isValidIpv4,
  parseOptions,
  type DataPlane,
  type DataPlaneInfo,
  type DnsQueryHandler,
  type LocalAttachment,
  type LocalEndpointSpec,
  type NetworkEncryption,
  type NetworkSpec,
  type ProgrammedNetwork,
  type ProgrammedState,
  type RemoteEndpointSpec,
  type ServiceVip,
} from '@weft/interface';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { KeyPlanError, NetworkKeys, type NetworkKeySet } from '@weft/crypto';
import { LinuxCommandError, LinuxDataPlaneError, LinuxStateError, UnsupportedFeatureError } from '../errors';
import { CommandRunner } from '../runner/command-runner';
import { LINK_GROUP, attachPortLines, attachSandboxLines, detachLine, fdbDeleteLine, fdbReplaceLine, floodAppendLine, floodDeleteLine, neighDeleteLine, neighReplaceLine, type KernelAttachSpec } from './commands';
import { emptySnapshot, planNetwork, type DesiredNetwork, type NetworkPlan, type ReconcileChange } from './diff';
import { deriveOverlayMtu } from './mtu';
import { VXLAN_NAME, bridgePortName, defaultNamePrefix, namespacePath, networkNamespaceName, ownedNamespacePattern } from './names';
import { kernelDataPlaneOptionsSchema, type KernelDataPlaneOptions } from './options';
import { parseSnapshot, type NamespaceSnapshot } from './snapshot';
import { readBack } from './read-back';
import { CleartextGuard, guardTableName, type GuardState } from './cleartext-guard';
import { EgressGateway, type EgressState } from './egress-gateway';
import { EncryptedRelay } from './relay';
import { parseId, parseLocalSpec, parseNetworkSpec, parseRemoteSpec } from './spec-schemas';
import { ipBatchThenServiceTable, parseServiceVip } from './services';
import { DnsRelays } from './dns-relay';
import type { HelperStatus } from './dns-protocol';
import { KernelServices, type ServiceNet } from './services-state';

const WHAT = 'KernelDataPlane';
const NETNS_DIR = '/var/run/netns';

/** One thing {@link KernelDataPlane.reconcile} could not bring to its desired state. */
export interface ReconcileError {
  /** The namespace concerned (a network's, or the host's path for the nftables guard). */
  readonly namespace: string;
  readonly error: LinuxDataPlaneError;
}

/** What {@link KernelDataPlane.reconcile} did. */
export interface ReconcileReport {
  /** Every change made, in order (empty when the kernel already matched). */
  readonly changes: readonly ReconcileChange[];
  /** What could not be repaired (a network whose commands failed, an endpoint whose sandbox is gone); everything else was. */
  readonly errors: readonly ReconcileError[];
}

type LocalSpec = LocalEndpointSpec & KernelAttachSpec;

interface NetState {
  spec: NetworkSpec;
  /** MTU of every device of the network (bytes): min(spec.mtu, underlay MTU − 50). */
  mtu: number;
  readonly namespace: string;
  readonly local: Map<string, LocalSpec>;
  readonly remote: Map<string, RemoteEndpointSpec>;
  /** The namespace is believed to exist (created or adopted by this plane). */
  active: boolean;
  /**
   * Adopted from an earlier run and not trimmed yet (until the next
   * `reconcile()`): it may hold interfaces of endpoints not programmed yet,
   * so an attach reads the kernel and adds only what is missing.
   */
  adopted?: boolean;
}

function sameLocal(a: LocalSpec, b: LocalSpec): boolean {
  return a.ip === b.ip && a.mac === b.mac && a.prefixLength === b.prefixLength && a.sandbox === b.sandbox && a.interfaceName === b.interfaceName && a.name === b.name;
}

function sameRemote(a: RemoteEndpointSpec, b: RemoteEndpointSpec): boolean {
  return a.ip === b.ip && a.mac === b.mac && a.peer.address === b.peer.address && a.peer.vxlanPort === b.peer.vxlanPort && a.peer.id === b.peer.id && a.peer.epoch === b.peer.epoch && a.peer.encryptedPort === b.peer.encryptedPort;
}

/** Whether `path` is this process's network namespace (same device and inode as `/proc/self/ns/net`). */
function isOwnNetns(path: string): boolean {
  try {
    const a = statSync(path);
    const b = statSync('/proc/self/ns/net');
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

/**
 * Checks an encrypted network's keys as a key ring would take them (building
 * one and wiping it at once).
 * @throws InvalidOptionsError naming the bad field; LinuxStateError when the generations cannot share a ring.
 */
function checkKeys(networkId: string, encryption: unknown, what: string): NetworkKeySet {
  try {
    NetworkKeys.create(encryption as NetworkKeySet).wipe();
  } catch (err) {
    if (err instanceof KeyPlanError) throw new LinuxStateError(`${what}: keys of network ${networkId}: ${err.reason}`, { cause: err });
    throw err;
  }
  return encryption as NetworkKeySet;
}

function asLinuxError(err: unknown, context: string): LinuxDataPlaneError {
  if (err instanceof LinuxDataPlaneError) return err;
  return new LinuxDataPlaneError(`${context}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * The Linux kernel data plane: core's `DataPlane` seam implemented with
 * network namespaces, bridges, kernel `vxlan` devices and veth pairs, driven
 * by iproute2 (`ip -batch`, `bridge -batch`, `ip -json`) through a
 * {@link CommandRunner}. It imports nothing of `@weft/core`.
 *
 * Per active network (one with a local endpoint; the namespace is created
 * lazily with the first one and removed with the last), as Docker's overlay
 * driver does:
 * - a namespace `<namePrefix>-<12 hex of SHA-256(network id)>`;
 * - in it a bridge `br0` (ifalias: the network id) and `vxlan0` (VNI,
 *   `dstport`, `local` underlay address, `nolearning`, `proxy`), created
 *   with `link-netns` naming the host namespace: the kernel makes it there
 *   and moves it in, so its UDP socket stays on the underlay;
 * - per local endpoint a veth pair: `ve<12 hex of SHA-256(endpoint id)>` on
 *   the bridge (ifalias: the endpoint id), the other end in the endpoint's
 *   sandbox named `interfaceName` (`eth0`) with its MAC, address and MTU;
 * - per remote endpoint `bridge fdb replace MAC dev vxlan0 dst PEER self
 *   permanent` and `ip neigh replace IP lladdr MAC dev vxlan0 nud permanent`;
 *   per peer node a flood entry (all-zero MAC).
 * Every device's MTU is min(`spec.mtu`, underlay device MTU − 50).
 *
 * The plane keeps the desired state in memory and applies each call's
 * difference at once. Processes per call: an attach 2 (network namespace,
 * sandbox), or 3 for a network's first (`unshare --net` creates the
 * namespace and runs its whole `ip` batch, then `bridge` for the FDB when
 * remote endpoints are known, then the sandbox); a remote endpoint 2; a
 * detach 1, or 2 when it removes the container's egress pair.
 * {@link KernelDataPlane.reconcile} compares the kernel with the
 * desired state and repairs it; kernel state outlives the process, so after
 * a restart program the desired state and call `reconcile()`: a network
 * namespace found at its network's first attach is adopted, added to and
 * updated but not trimmed (a container whose endpoint is not programmed yet
 * keeps its interface, remote entries not yet known stay), and the
 * `reconcile()` removes what is left over once the desired state is whole.
 * It only ever touches namespaces named with its own prefix.
 *
 * Egress (on unless `egress: false`), as Docker's `docker_gwbridge`: while
 * the plane has a non-internal network, a gateway bridge in the host
 * namespace with nftables masquerade and IPv4 forwarding; each container on
 * an active non-internal network gets a second veth pair (`eth1`, an address
 * of the egress subnet, the default route via the bridge), made by the
 * container's own `ip -batch` (no host process per attach). The gateway
 * lives with the networks rather than the containers: building it costs 3
 * host processes, which would put a container's first attach over the
 * 3-process budget. Internal networks get nothing. See
 * {@link KernelDataPlane.egressState}.
 *
 * Encrypted networks (this kernel has no ESP): their VNIs are guarded at
 * once by an nftables table in the host namespace that drops cleartext
 * VXLAN for them leaving or arriving on the underlay
 * ({@link KernelDataPlane.guardState}); with the first local container the
 * plane opens the encrypted relay (see `relay.ts`): `vxlan0`'s FDB entries
 * lead, through an nftables `dnat`, to a socket of this process, which seals
 * each frame with `@weft/crypto` (the userspace plane's wire format, so
 * kernel and userspace nodes share the network) and sends it from the
 * encrypted port; what opens there goes back to `vxlan0` over `lo`. The
 * relay needs the host namespace to be this process's (`hostNetns` unset
 * or naming it): otherwise attaching to an encrypted network rejects with
 * `UnsupportedFeatureError`.
 * Services: VIPs as nftables DNAT in each local container's namespace
 * ({@link KernelDataPlane.setServiceVip}); the DNS address answered by a
 * helper process in the network's namespace ({@link KernelDataPlane.setDnsAddress}).
 * Calls are serialized. Calls after `close()` reject with `LinuxStateError`
 * (`removeNetwork` is then a no-op; `programmed()` and `counters()` answer).
 */
export class KernelDataPlane implements DataPlane<undefined> {
  /** Kind `kernel`, the underlay address, the VXLAN port, the underlay device's MTU, this start's epoch. */
  readonly info: DataPlaneInfo;
  /** This node's id. */
  readonly nodeId: string;
  /** The prefix of every namespace this plane creates. */
  readonly namePrefix: string;
  /** The underlay device the MTU derives from. */
  readonly underlayDevice: string;
  /** Runs every command (its `spawns` counts them). */
  readonly runner: CommandRunner;
  /** Path of the host (underlay) namespace: `hostNetns`, or this process's (`/proc/<pid>/ns/net`). */
  readonly hostNetnsPath: string;
  private readonly encryptionOverhead: number;
  private readonly owned: RegExp;
  private readonly networks = new Map<string, NetState>();
  private dnsHandler: DnsQueryHandler | undefined;
  /** Service VIPs (nftables in each container's namespace) and DNS addresses (a helper in each network's namespace): see `services-state.ts`. */
  private readonly services: KernelServices;
  private failures = 0;
  /** The nftables table dropping cleartext VXLAN of encrypted networks' VNIs (named after the prefix). */
  private readonly guard: CleartextGuard;
  /** Egress through the gateway bridge (undefined when `egress: false`). */
  private readonly egress: EgressGateway | undefined;
  /** The host namespace is this process's: the encrypted relay's sockets can be bound there. */
  private readonly relayCapable: boolean;
  /** Seals and opens encrypted networks' kernel VXLAN (made with the first attach to one; see `relay.ts`). */
  private relay: EncryptedRelay | undefined;
  private closed = false;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(o: ReturnType<typeof resolve>, runner: CommandRunner, device: string, underlayMtu: number) {
    this.nodeId = o.nodeId;
    this.namePrefix = o.namePrefix ?? defaultNamePrefix(o.nodeId);
    this.owned = ownedNamespacePattern(this.namePrefix);
    this.guard = new CleartextGuard(runner, guardTableName(this.namePrefix), o.vxlanPort);
    this.runner = runner;
    this.services = new KernelServices(runner, new DnsRelays(() => this.dnsHandler));
    this.underlayDevice = device;
    this.encryptionOverhead = o.encryptionOverhead;
    this.hostNetnsPath = o.hostNetns ?? `/proc/${process.pid}/ns/net`;
    this.relayCapable = o.hostNetns === undefined || isOwnNetns(o.hostNetns);
    this.egress =
      o.egress === false
        ? undefined
        : new EgressGateway(runner, { prefix: this.namePrefix, subnet: o.egress.subnet, interfaceName: o.egress.interfaceName, hostNetns: this.hostNetnsPath, mtu: Math.min(underlayMtu, 1500) });
    this.info = {
      kind: 'kernel',
      address: canonicalIp(o.underlayAddress),
      vxlanPort: o.vxlanPort,
      encryptedPort: o.encryptedPort,
      underlayMtu,
      epoch: o.epoch ?? randomBytes(8).toString('hex'),
    };
  }

  /**
   * Checks capabilities, reads the underlay device's MTU (one `ip -json`
   * call in the host namespace) and returns the plane. Creates nothing.
   * @throws InvalidOptionsError naming the bad option.
   * @throws MissingCapabilityError when `CAP_NET_ADMIN` (or `CAP_SYS_ADMIN`) is not effective.
   * @throws LinuxDataPlaneError when the underlay address or device is not in the host namespace.
   */
  static async open(options: KernelDataPlaneOptions): Promise<KernelDataPlane> {
    const o = resolve(options);
    const runner = new CommandRunner({
      ...(o.hostNetns !== undefined ? { hostNetns: o.hostNetns } : {}),
      ...(o.capabilityReader !== undefined ? { capabilityReader: o.capabilityReader } : {}),
      timeoutMs: o.commandTimeoutMs,
    });
    const links = await runner.ipJson<{ ifname?: string; mtu?: number; addr_info?: { local?: string }[] }[]>(['addr', 'show']);
    const address = canonicalIp(o.underlayAddress);
    const found = links.find((l) =>
      o.underlayDevice !== undefined ? l.ifname === o.underlayDevice : (l.addr_info ?? []).some((a) => a.local !== undefined && canonicalIp(a.local) === address),
    );
    if (found?.ifname === undefined || typeof found.mtu !== 'number') {
      const where = o.hostNetns ?? 'this process’s namespace';
      throw new LinuxDataPlaneError(
        o.underlayDevice !== undefined ? `${WHAT}: underlay device "${o.underlayDevice}" not found in ${where}` : `${WHAT}: no device in ${where} has the underlay address ${address}`,
      );
    }
    return new KernelDataPlane(o, runner, found.ifname, found.mtu);
  }

  /** The namespace name a network gets (whether or not it exists). */
  namespaceOf(networkId: string): string {
    return networkNamespaceName(this.namePrefix, networkId);
  }

  /** The MTU (bytes) the kernel devices of a programmed network get, or undefined for an unknown network. */
  mtuOf(networkId: string): number | undefined {
    return this.networks.get(networkId)?.mtu;
  }

  /**
   * Programs a network, or updates its fields. Creates nothing in the kernel
   * until the network's first local endpoint; an active network whose VNI or
   * MTU changed is reconciled at once (its VXLAN device recreated). The
   * devices' MTU is min(`spec.mtu`, underlay MTU − 50 − `encryptionOverhead`
   * on encrypted networks). An encrypted network's VNI is added to the
   * cleartext guard (1 `nft` process when the set of VNIs changes). The
   * plane's first non-internal network builds the egress gateway (3
   * processes in the host namespace); a network that stops (or starts)
   * being internal loses (or gets) its containers' egress pairs at once.
   * @throws InvalidOptionsError for a malformed spec; UnsupportedFeatureError when a
   * network with local endpoints would become encrypted; LinuxStateError when another
   * network has the VNI or after close, or when the egress gateway cannot be built
   * (its subnet overlaps an address of the host namespace: the network is programmed
   * nonetheless, and `reconcile()` tries the gateway again).
   */
  ensureNetwork(spec: NetworkSpec): Promise<void> {
    return this.serial('ensureNetwork', async () => {
      const s = parseNetworkSpec(spec, `${WHAT}.ensureNetwork`);
      for (const other of this.networks.values()) {
        if (other.spec.id !== s.id && other.spec.vni === s.vni) throw new LinuxStateError(`${WHAT}: VNI ${s.vni} of network ${s.id} is already used by network ${other.spec.id}`);
      }
      const encrypted = s.encryption !== undefined;
      const mtu = Math.min(s.mtu, deriveOverlayMtu(this.info.underlayMtu, encrypted ? this.encryptionOverhead : 0));
      if (encrypted) checkKeys(s.id, s.encryption, `${WHAT}.ensureNetwork`);
      const existing = this.networks.get(s.id);
      if (existing !== undefined && encrypted && existing.local.size > 0 && !this.relayCapable) {
        throw new UnsupportedFeatureError('encryption', `${WHAT}: network ${s.id} has local endpoints and cannot become encrypted: ${this.noRelayReason()} (nothing changed)`);
      }
      if (existing === undefined) {
        this.networks.set(s.id, { spec: s, mtu, namespace: this.namespaceOf(s.id), local: new Map(), remote: new Map(), active: false });
      } else {
        const changed = existing.spec.vni !== s.vni || existing.mtu !== mtu || (existing.spec.encryption === undefined) === encrypted;
        existing.spec = s;
        existing.mtu = mtu;
        if (existing.active) await this.carry(existing);
        if (changed && existing.active) await this.reconcileNetwork(existing, []);
      }
      await this.guard.sync(this.encryptedVnis());
      await this.syncEgress();
    });
  }

  /**
   * Sets an encrypted network's keys: while the network has local
   * containers, its key ring in the relay goes through the three phases
   * (install, activate, retire) in an order it accepts (`@weft/crypto`'s
   * `NetworkKeys`); otherwise they are recorded for its first container.
   * @throws InvalidOptionsError for malformed keys; LinuxStateError for an unknown or a plain
   * network, or keys the ring cannot get to (an older send generation, ...): nothing changed.
   */
  setNetworkKeys(networkId: string, encryption: NetworkEncryption): Promise<void> {
    return this.serial('setNetworkKeys', async () => {
      const net = this.network(networkId);
      if (net.spec.encryption === undefined) throw new LinuxStateError(`${WHAT}: network ${networkId} is not encrypted: it has no keys`);
      checkKeys(networkId, encryption, `${WHAT}.setNetworkKeys`);
      const prev = net.spec;
      net.spec = { ...net.spec, encryption };
      try {
        if (net.active) await this.carry(net);
      } catch (err) {
        net.spec = prev;
        throw err;
      }
    });
  }

  /**
   * Removes a network: its namespace (and everything in it) when active, the
   * egress pairs of its containers that are on no other non-internal network,
   * and the egress gateway with the last non-internal network. No-op for an
   * unknown network or after close.
   */
  removeNetwork(networkId: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.serial('removeNetwork', async () => {
      const net = this.networks.get(networkId);
      if (net === undefined) return;
      if (net.active || existsSync(namespacePath(net.namespace))) await this.teardown(net.namespace);
      this.relay?.removeNetwork(networkId);
      this.networks.delete(networkId);
      this.services.forget(networkId);
      this.services.syncResolv(this.serviceNets());
      await this.guard.sync(this.encryptedVnis());
      await this.syncEgress();
    });
  }

  /**
   * Attaches a container: a veth pair whose sandbox end is named
   * `interfaceName` (`eth0`) with the endpoint's MAC, address/prefix and the
   * network's MTU, up; the other end on the network's bridge. Creates the
   * network's namespace first when this is its first local endpoint. The same
   * spec again changes nothing; other fields replace the attachment.
   * `sandbox` (a namespace path) is required; use one path per container
   * (egress pairs are per sandbox path). On a non-internal network the
   * container also gets its egress pair (`eth1`, see the class notes) in the
   * same sandbox process, unless it has one already.
   * @throws InvalidOptionsError; LinuxStateError (unknown network, address in use, an
   * `interfaceName` equal to the egress interface's, egress subnet full); LinuxCommandError
   * (e.g. the sandbox does not exist or already has the interface name) — nothing is left behind.
   */
  addLocalEndpoint(networkId: string, endpoint: LocalEndpointSpec): Promise<LocalAttachment<undefined>> {
    return this.serial('addLocalEndpoint', async () => {
      const net = this.network(networkId);
      const ep = parseLocalSpec(endpoint, `${WHAT}.addLocalEndpoint`);
      if (net.spec.encryption !== undefined && !this.relayCapable) {
        throw new UnsupportedFeatureError('encryption', `${WHAT}: network ${networkId} is encrypted: ${this.noRelayReason()} (its cleartext VXLAN is dropped by nftables meanwhile)`);
      }
      const prev = net.local.get(ep.id);
      if (prev !== undefined && sameLocal(prev, ep)) {
        if (prev.resolvConf !== ep.resolvConf) (net.local.set(ep.id, ep), this.services.syncResolv(this.serviceNets())); // no process
        return { endpointId: ep.id, handle: undefined };
      }
      if (!existsSync(ep.sandbox)) throw new LinuxStateError(`${WHAT}: endpoint ${ep.id} on network ${networkId}: the sandbox ${ep.sandbox} does not exist`);
      for (const other of net.local.values()) {
        if (other.id !== ep.id && (other.ip === ep.ip || other.mac === ep.mac)) {
          throw new LinuxStateError(`${WHAT}: endpoint ${ep.id} on network ${networkId}: ${other.ip === ep.ip ? `address ${ep.ip}` : `MAC ${ep.mac}`} is used by local endpoint ${other.id}`);
        }
      }
      if (this.egress !== undefined && ep.interfaceName === this.egress.interfaceName) {
        throw new LinuxStateError(`${WHAT}: endpoint ${ep.id} on network ${networkId}: interface name ${ep.interfaceName} is the egress interface's (egress.interfaceName)`);
      }
      if (prev !== undefined) await this.detach(net, prev.id);
      net.local.set(ep.id, ep);
      try {
        if (this.egress !== undefined && !net.spec.internal && !this.egress.active) await this.egress.build();
        if (!net.active) await this.carry(net, true); // the relay first: the FDB entries name its port
        if (!net.active) await this.activate(net);
        else if (net.adopted === true) await this.reconcileNetwork(net, [], undefined, true); // its interface may be there already
        else await this.attach(net, ep);
      } catch (err) {
        net.local.delete(ep.id);
        if (net.local.size === 0) await this.teardown(net.namespace).catch(() => undefined);
        net.active = net.local.size > 0 && net.active;
        if (!net.active) this.relay?.removeNetwork(net.spec.id);
        await this.syncEgress().catch(() => undefined);
        throw err;
      }
      try {
        await this.syncEgress(); // no process unless the container still lacks its egress pair (adopted namespace) or a replaced attachment freed one
      } catch (err) {
        await this.detach(net, ep.id).catch(() => undefined);
        await this.syncEgress().catch(() => undefined);
        throw err;
      }
      this.services.syncResolv(this.serviceNets()); // its resolv.conf, when asked (no process)
      return { endpointId: ep.id, handle: undefined };
    });
  }

  /**
   * Detaches a local endpoint (its veth pair goes, and its container's egress
   * pair when no other non-internal network holds the container); the
   * network's namespace goes with its last one. No-op when not attached.
   */
  removeLocalEndpoint(networkId: string, endpointId: string): Promise<void> {
    return this.serial('removeLocalEndpoint', async () => {
      const net = this.network(networkId);
      parseId(endpointId, 'endpointId', `${WHAT}.removeLocalEndpoint`);
      if (!net.local.has(endpointId)) return;
      await this.detach(net, endpointId);
      this.services.syncResolv(this.serviceNets());
      await this.syncEgress();
    });
  }

  /**
   * Programs a remote endpoint: its neighbour entry and FDB entry (replace
   * semantics), and a flood entry to its node when it is that node's first.
   * On an inactive network only the desired state changes (programmed when it
   * activates). 2 processes on an active network.
   * @throws InvalidOptionsError; LinuxStateError; LinuxCommandError (the desired state is then as before the call).
   */
  addRemoteEndpoint(networkId: string, endpoint: RemoteEndpointSpec): Promise<void> {
    return this.serial('addRemoteEndpoint', async () => {
      const net = this.network(networkId);
      const r = parseRemoteSpec(endpoint, `${WHAT}.addRemoteEndpoint`);
      const prev = net.remote.get(r.id);
      if (prev !== undefined && sameRemote(prev, r)) return;
      const floodBefore = this.floodTargets(net);
      net.remote.set(r.id, r);
      if (!net.active) return;
      const floodAfter = this.floodTargets(net);
      const ip: string[] = [];
      const bridge: string[] = [];
      if (prev !== undefined && prev.ip !== r.ip && !this.ipInUse(net, prev.ip)) ip.push(neighDeleteLine(prev.ip));
      ip.push(neighReplaceLine(r));
      if (prev !== undefined && prev.mac !== r.mac && !this.macInUse(net, prev.mac)) bridge.push(fdbDeleteLine(prev.mac));
      bridge.push(fdbReplaceLine(this.kernelRemote(net, r), this.info.vxlanPort));
      for (const a of floodBefore.keys()) if (!floodAfter.has(a)) bridge.push(floodDeleteLine(a));
      for (const [a, port] of floodAfter) if (!floodBefore.has(a)) bridge.push(floodAppendLine(a, port, this.info.vxlanPort));
      try {
        if (this.relay?.has(net.spec.id)) this.relay.setRemote(net.spec.id, r.id, r.mac, r.peer); // before the FDB names it
        await this.runner.ipBatch(ip, { netns: namespacePath(net.namespace) });
        await this.runner.bridgeBatch(bridge, { netns: namespacePath(net.namespace) });
      } catch (err) {
        if (prev === undefined) net.remote.delete(r.id);
        else net.remote.set(r.id, prev);
        if (this.relay?.has(net.spec.id)) {
          if (prev === undefined) this.relay.removeRemote(net.spec.id, r.id);
          else this.relay.setRemote(net.spec.id, prev.id, prev.mac, prev.peer);
        }
        throw err;
      }
    });
  }

  /** Removes a remote endpoint's FDB and neighbour entries, and its node's flood entry with that node's last endpoint. No-op when absent. */
  removeRemoteEndpoint(networkId: string, endpointId: string): Promise<void> {
    return this.serial('removeRemoteEndpoint', async () => {
      const net = this.network(networkId);
      parseId(endpointId, 'endpointId', `${WHAT}.removeRemoteEndpoint`);
      const prev = net.remote.get(endpointId);
      if (prev === undefined) return;
      const floodBefore = this.floodTargets(net);
      net.remote.delete(endpointId);
      if (!net.active) return;
      const floodAfter = this.floodTargets(net);
      const ip = this.ipInUse(net, prev.ip) ? [] : [neighDeleteLine(prev.ip)];
      const bridge = this.macInUse(net, prev.mac) ? [] : [fdbDeleteLine(prev.mac)];
      for (const a of floodBefore.keys()) if (!floodAfter.has(a)) bridge.push(floodDeleteLine(a));
      for (const [a, port] of floodAfter) if (!floodBefore.has(a)) bridge.push(floodAppendLine(a, port, this.info.vxlanPort));
      this.relay?.removeRemote(net.spec.id, endpointId);
      try {
        await this.runner.ipBatch(ip, { netns: namespacePath(net.namespace), tolerateMissing: true });
        await this.runner.bridgeBatch(bridge, { netns: namespacePath(net.namespace), tolerateMissing: true });
      } catch (err) {
        net.remote.set(endpointId, prev);
        if (this.relay?.has(net.spec.id)) this.relay.setRemote(net.spec.id, prev.id, prev.mac, prev.peer);
        throw err;
      }
    });
  }

  /**
   * Sets (or, with no backends, removes) a service VIP: every local container
   * of the network gets, in its own namespace, an nftables table that
   * DNATs each new flow to the VIP to one of the `up` backends, picked by a
   * hash of the flow (kube-proxy's nftables way; conntrack keeps a flow on
   * its backend, so a `draining` one keeps its flows and gets no new one);
   * the conntrack entries of a removed backend are deleted there at once
   * (moby#29655), so its flows move on their next packet. Rules live in the
   * containers, not in the network namespace: bridged traffic never reaches
   * the IP hooks there (no br_netfilter), and the client's own conntrack
   * un-NATs the replies. 1 process per local container (`sh`: `nft -f` and
   * `conntrack -D`); none on an inactive network (written at its attach).
   * @throws InvalidOptionsError (IPv4 only); LinuxStateError; LinuxCommandError (the desired state is then as before).
   */
  setServiceVip(networkId: string, vip: ServiceVip): Promise<void> {
    return this.serial('setServiceVip', async () => {
      const net = this.network(networkId);
      const v = parseServiceVip(vip, `${WHAT}.setServiceVip`);
      await this.services.setVip(this.serviceNet(net), v);
    });
  }

  /**
   * Sets (or clears) the network's DNS address: while the network is active,
   * the address is on its namespace's bridge (with the subnet's prefix) and a
   * helper process runs there (`nsenter --net=<ns> node dns-helper.js`),
   * listening on UDP and TCP port 53 and relaying each query over a Unix
   * socket to the handler set with {@link KernelDataPlane.setDnsHandler}. The
   * address is node-local: the VXLAN device's ARP proxy answers only for
   * remote endpoints, so requests for it are never flooded. Local endpoints
   * that asked (`resolvConf`) get a resolv.conf naming it. Costs 1 `ip`
   * process and the helper (waited for until its sockets are bound).
   * @throws InvalidOptionsError; LinuxStateError; LinuxDataPlaneError when the helper does not start.
   */
  setDnsAddress(networkId: string, address: string | undefined): Promise<void> {
    return this.serial('setDnsAddress', async () => {
      const net = this.network(networkId);
      if (address !== undefined) parseOptions(z.object({ address: z.string().refine(isValidIpv4, 'must be an IPv4 address') }), { address }, `${WHAT}.setDnsAddress`);
      await this.services.setDns(this.serviceNet(net), address === undefined ? undefined : canonicalIp(address), this.serviceNets());
    });
  }

  /** The handler answering every network's DNS queries (read on each query; undefined: queries are dropped and counted, `dns.drops.no-handler`). */
  setDnsHandler(handler: DnsQueryHandler | undefined): void {
    this.dnsHandler = handler;
  }

  /**
   * The network's DNS helper as it reports itself over its socket (no
   * process): its pid, whether its address is on an interface of the
   * network namespace, its counters (`udp.queries`, `tcp.queries`,
   * `answers`, `drops.<reason>`: `malformed`, `overload`, `timeout`, …).
   * Undefined when no helper runs (or it does not answer within 5 s).
   */
  dnsHelper(networkId: string): Promise<HelperStatus | undefined> {
    return this.services.dns.status(networkId);
  }

  /**
   * Reads back, from the kernel, every namespace this plane owns (its
   * prefix): local endpoints whose bridge port exists (fields as attached;
   * the sandbox side is not re-read), remote endpoints whose neighbour and
   * FDB entries both exist (ids and peers matched against the desired state;
   * unmatched entries are reported with id `unknown:<ip>` and a peer known
   * only by address), flood peers. Networks by id order.
   */
  programmed(): Promise<ProgrammedState> {
    return this.serial(
      'programmed',
      async () => {
        const byNamespace = new Map([...this.networks.values()].map((n) => [n.namespace, n]));
        const out: ProgrammedNetwork[] = [];
        for (const name of this.ownedNamespaces()) {
          const snap = await this.snapshot(name);
          const net = byNamespace.get(name);
          const read = readBack(snap, net, this.info.vxlanPort);
          if (net !== undefined) {
            // services as programmed by this plane (the containers' tables are not read here: reconcile() does)
            const dnsAddress = this.services.dns.pidOf(net.spec.id) !== undefined ? this.services.dnsAddressOf(net.spec.id) : undefined;
            Object.assign(read, { vips: this.services.vipsOf(net.spec.id), ...(dnsAddress !== undefined ? { dnsAddress } : {}) });
          }
          // a carried encrypted network floods through the relay, to every peer node
          const relayed = net !== undefined && this.relayedPort(net) !== undefined && read.flood.length > 0;
          out.push(relayed ? { ...read, flood: [...new Map([...net.remote.values()].map((r) => [r.peer.id, r.peer])).values()].sort((a, b) => (a.id < b.id ? -1 : 1)) } : read);
        }
        out.sort((a, b) => (a.spec.id < b.spec.id ? -1 : a.spec.id > b.spec.id ? 1 : 0));
        return { networks: out };
      },
      true,
    );
  }

  /** `spawns` (processes started), `commandFailures`, `activeNetworks`, `localEndpoints`, `remoteEndpoints`. */
  async counters(): Promise<Readonly<Record<string, number>>> {
    let active = 0;
    let local = 0;
    let remote = 0;
    for (const n of this.networks.values()) {
      if (n.active) active++;
      local += n.local.size;
      remote += n.remote.size;
    }
    const relayed: Record<string, number> = {};
    if (this.relay !== undefined) {
      for (const [k, v] of Object.entries(this.relay.counters)) relayed[`relay.${k}`] = v;
      for (const [id, c] of Object.entries(this.relay.espCounters())) for (const [k, v] of Object.entries(c)) relayed[`net.${id}.esp.${k}`] = v;
    }
    return { spawns: this.runner.spawns, commandFailures: this.failures, activeNetworks: active, localEndpoints: local, remoteEndpoints: remote, ...relayed, ...this.services.dns.counters() };
  }

  /**
   * Brings the kernel to the desired state: removes every namespace with
   * this plane's prefix that no active network wants (a crashed run's
   * leftovers), creates missing ones, and in each wanted one adds, replaces
   * or removes devices, bridge ports and FDB/neighbour/flood entries (see
   * `planNetwork`). Reads with `ip -json`/`bridge -json` (3 processes per
   * namespace) and changes nothing when nothing differs. Never touches a
   * namespace without this plane's prefix.
   * @throws LinuxStateError after close. Per-network failures are in the report, not thrown.
   */
  reconcile(): Promise<ReconcileReport> {
    return this.serial('reconcile', async () => {
      const changes: ReconcileChange[] = [];
      const errors: ReconcileError[] = [];
      const wanted = new Map<string, NetState>();
      for (const n of this.networks.values()) {
        if (n.local.size > 0) wanted.set(n.namespace, n);
        else {
          n.active = false;
          n.adopted = false;
          this.relay?.removeNetwork(n.spec.id);
        }
      }
      if (this.egress !== undefined) {
        // first, so the networks' repairs find the gateway built and the containers' egress pairs in place
        try {
          const sandboxes = [...wanted.values()].filter((n) => !n.spec.internal).flatMap((n) => [...n.local.values()].map((ep) => ep.sandbox));
          const r = await this.egress.reconcile(this.egressWanted(), sandboxes);
          changes.push(...r.changes);
          for (const e of r.errors) errors.push({ namespace: this.hostNetnsPath, error: asLinuxError(e, `${WHAT}.reconcile (egress)`) });
        } catch (err) {
          errors.push({ namespace: this.hostNetnsPath, error: asLinuxError(err, `${WHAT}.reconcile (egress)`) });
        }
      }
      for (const name of this.ownedNamespaces()) {
        if (wanted.has(name)) continue;
        try {
          await this.teardown(name);
          changes.push({ action: 'remove', kind: 'namespace', namespace: name, target: name });
        } catch (err) {
          errors.push({ namespace: name, error: asLinuxError(err, `${WHAT}.reconcile`) });
        }
      }
      for (const net of wanted.values()) {
        try {
          await this.carry(net, true);
          if (existsSync(namespacePath(net.namespace))) await this.reconcileNetwork(net, changes, errors);
          else await this.activate(net, changes, errors);
        } catch (err) {
          errors.push({ namespace: net.namespace, error: asLinuxError(err, `${WHAT}.reconcile`) });
        }
      }
      try {
        await this.services.reconcile(this.serviceNets(), changes, errors); // VIP tables, DNS helpers, resolv.conf
      } catch (err) {
        errors.push({ namespace: this.hostNetnsPath, error: asLinuxError(err, `${WHAT}.reconcile (services)`) });
      }
      try {
        const action = await this.guard.reconcile(this.encryptedVnis());
        if (action !== undefined) changes.push({ action, kind: 'guard', namespace: this.hostNetnsPath, target: this.guard.table });
      } catch (err) {
        errors.push({ namespace: this.hostNetnsPath, error: asLinuxError(err, `${WHAT}.reconcile`) });
      }
      return { changes, errors };
    });
  }

  /** Reads one namespace back (3 processes). Exposed for tests and diagnostics. */
  async snapshot(namespace: string): Promise<NamespaceSnapshot> {
    const target = { netns: namespacePath(namespace) };
    const links = await this.runner.ipJson(['-d', 'link', 'show'], target);
    const hasVxlan = Array.isArray(links) && links.some((l: { ifname?: string }) => l?.ifname === VXLAN_NAME);
    const fdb = hasVxlan ? await this.runner.bridgeJson(['fdb', 'show', 'dev', VXLAN_NAME], target) : [];
    const neigh = hasVxlan ? await this.runner.ipJson(['neigh', 'show', 'dev', VXLAN_NAME], target) : [];
    return parseSnapshot(namespace, links, fdb, neigh);
  }

  /**
   * Reads back the cleartext guard (the nftables table in the host namespace
   * that drops cleartext VXLAN of encrypted networks' VNIs, both ways), or
   * undefined when the table does not exist. 1 process.
   */
  guardState(): Promise<GuardState | undefined> {
    return this.guard.state();
  }

  /**
   * Reads back egress in the host namespace (2 processes): the gateway
   * bridge, every container's port (with the egress address its MAC
   * carries), the nftables tables with their counters, and whether IPv4
   * forwarding is on. Undefined when the plane was opened with `egress: false`.
   */
  async egressState(): Promise<EgressState | undefined> {
    return this.egress?.state();
  }

  /** A sandbox's egress address (its `eth1`), or undefined when it has no egress pair. */
  egressAddressOf(sandbox: string): string | undefined {
    return this.egress?.addressOf(sandbox);
  }

  /** Names of the namespaces that exist now with this plane's prefix. */
  ownedNamespaces(): string[] {
    let names: string[] = [];
    try {
      names = readdirSync(NETNS_DIR);
    } catch {
      return [];
    }
    return names.filter((n) => this.owned.test(n)).sort();
  }

  /**
   * Stops the plane's parts that live in this process and leaves the kernel
   * as it is — as a crash would, but cleanly: the encrypted relay's socket
   * closes and the DNS helpers stop, while the namespaces, bridges, VXLAN
   * devices, FDB and neighbour entries, the containers' interfaces, the
   * cleartext guard, egress and VIP rules all stay, so containers on plain
   * networks keep their traffic flowing. The next plane opened with the
   * same node id adopts it all and its `reconcile()` trims what changed
   * meanwhile (Docker's live restore; a node process changing roles or
   * restarting for an upgrade). Encrypted networks carry nothing until the
   * next start (their kernel devices send to the relay socket, which is
   * gone: dropped, never cleartext). After it the plane is closed;
   * `close()` is then a no-op. Idempotent.
   */
  release(): Promise<void> {
    if (this.closed) return this.tail.then(() => undefined);
    return this.serial(
      'release',
      async () => {
        this.closed = true;
        this.networks.clear();
        this.dnsHandler = undefined;
        try {
          await this.services.release();
        } catch (err) {
          throw asLinuxError(err, `${WHAT}.release`);
        } finally {
          await this.closeRelay();
        }
      },
      true,
    );
  }

  /** Removes every namespace with this plane's prefix (and so every device and entry it created) and forgets the desired state. Idempotent. */
  close(): Promise<void> {
    if (this.closed) return this.tail.then(() => undefined);
    const done = this.serial(
      'close',
      async () => {
        this.closed = true;
        let first: unknown;
        const serviceNets = this.serviceNets(); // the containers' VIP tables go too
        for (const name of this.ownedNamespaces()) {
          try {
            await this.teardown(name);
          } catch (err) {
            first ??= err;
          }
        }
        this.networks.clear();
        this.dnsHandler = undefined;
        try {
          await this.services.close(serviceNets); // every DNS helper, the containers' VIP tables, the resolv.conf files written
        } catch (err) {
          first ??= err;
        }
        try {
          await this.guard.write([]);
        } catch (err) {
          first ??= err;
        }
        await this.closeRelay();
        try {
          await this.egress?.remove();
        } catch (err) {
          first ??= err;
        }
        if (first !== undefined) throw asLinuxError(first, `${WHAT}.close`);
      },
      true,
    );
    return done;
  }

  /** Closes the encrypted relay's sockets (if open); the guard stops naming its port. */
  private async closeRelay(): Promise<void> {
    const relay = this.relay;
    this.relay = undefined;
    this.guard.relay = undefined;
    await relay?.close();
  }

  // -------------------------------------------------------------------------

  private serial<T>(what: string, fn: () => Promise<T>, evenClosed = false): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed && !evenClosed) throw new LinuxStateError(`${WHAT}.${what}: the data plane is closed`);
      try {
        return await fn();
      } catch (err) {
        if (err instanceof LinuxCommandError) this.failures++;
        throw err;
      }
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** What the services (VIPs, DNS, resolv.conf) need of a network. */
  private serviceNet(net: NetState): ServiceNet {
    const locals = [...net.local.values()];
    return {
      id: net.spec.id,
      namespace: net.namespace,
      nsPath: namespacePath(net.namespace),
      prefixLength: Number(net.spec.subnet.split('/')[1] ?? 32),
      active: net.active,
      sandboxes: [...new Set(locals.map((ep) => ep.sandbox))],
      resolvConfs: [...new Set(locals.flatMap((ep) => (ep.resolvConf !== undefined ? [ep.resolvConf] : [])))],
    };
  }

  private serviceNets(): ServiceNet[] {
    return [...this.networks.values()].sort((a, b) => (a.spec.id < b.spec.id ? -1 : 1)).map((n) => this.serviceNet(n));
  }

  /** VNIs of the encrypted networks, ascending. */
  private encryptedVnis(): number[] {
    return [...this.networks.values()].filter((n) => n.spec.encryption !== undefined).map((n) => n.spec.vni).sort((a, b) => a - b);
  }

  private network(networkId: string): NetState {
    const net = this.networks.get(networkId);
    if (net === undefined) throw new LinuxStateError(`${WHAT}: unknown network ${JSON.stringify(networkId)} (call ensureNetwork first)`);
    return net;
  }

  /**
   * The network's desired state for a plan. A local endpoint whose sandbox
   * path is gone (the container died) and whose bridge port is not in
   * `snapshot` cannot be attached: it is left out (so it does not stop the
   * rest of the network's repair) and reported in `errors`.
   */
  private desired(net: NetState, snapshot?: NamespaceSnapshot, errors?: ReconcileError[]): DesiredNetwork {
    const ports = new Set(snapshot?.ports.map((p) => p.name) ?? []);
    const local = [...net.local.values()].filter((ep) => {
      if (ports.has(bridgePortName(ep.id)) || existsSync(ep.sandbox)) return true;
      errors?.push({ namespace: net.namespace, error: new LinuxStateError(`${WHAT}: endpoint ${ep.id} on network ${net.spec.id}: its sandbox ${ep.sandbox} does not exist; not attached`) });
      return false;
    });
    return {
      id: net.spec.id,
      namespace: net.namespace,
      hostNetns: this.hostNetnsPath,
      vxlan: { vni: net.spec.vni, port: this.info.vxlanPort, local: this.info.address, mtu: net.mtu },
      local,
      remote: [...net.remote.values()].map((r) => this.kernelRemote(net, r)),
      flood: this.floodTargets(net),
      relayed: this.relayedPort(net) !== undefined,
    };
  }

  /**
   * The flood entries the kernel should hold (peer address → port): one per
   * peer node on a plain network; on a carried encrypted network one, to
   * the relay (`dst` the lowest peer address, so it routes, then `dnat`: the
   * relay sends each flooded frame to every peer node once).
   */
  private floodTargets(net: NetState): Map<string, number> {
    const out = new Map<string, number>();
    const relayed = this.relayedPort(net);
    for (const r of net.remote.values()) {
      if (relayed === undefined) out.set(r.peer.address, r.peer.vxlanPort);
      else if (out.size === 0 || r.peer.address < [...out.keys()][0]!) (out.clear(), out.set(r.peer.address, relayed));
    }
    return out;
  }

  /** The relay port when `net` is encrypted and carried by the relay (its FDB entries then name it), else undefined. */
  private relayedPort(net: NetState): number | undefined {
    return net.spec.encryption !== undefined && this.relay?.has(net.spec.id) ? this.relay.relayPort : undefined;
  }

  /** A remote endpoint as the kernel's FDB holds it: on a carried encrypted network, behind its peer at the relay port. */
  private kernelRemote(net: NetState, r: RemoteEndpointSpec): RemoteEndpointSpec {
    const port = this.relayedPort(net);
    return port === undefined ? r : { ...r, peer: { ...r.peer, vxlanPort: port } };
  }

  /** Why this plane cannot carry encrypted networks. */
  private noRelayReason(): string {
    return `the encrypted relay's sockets must be bound in the host namespace, and hostNetns (${this.hostNetnsPath}) is not this process's namespace (run one node process per host namespace, e.g. with ip netns exec)`;
  }

  /**
   * Brings the relay in line with `net`: while it is encrypted and `wanted`
   * (it has local endpoints) the relay carries it with its keys and remote
   * endpoints (the relay is made with the first such network, and the
   * guard's relay rules written before any FDB entry names the relay port);
   * otherwise not.
   * @throws LinuxDataPlaneError when the relay's sockets cannot be bound; LinuxStateError when the keys cannot get there.
   */
  private async carry(net: NetState, wanted = net.active): Promise<void> {
    const keys = net.spec.encryption;
    if (keys === undefined || !wanted) {
      this.relay?.removeNetwork(net.spec.id);
      return;
    }
    if (!this.relayCapable) throw new UnsupportedFeatureError('encryption', `${WHAT}: network ${net.spec.id}: ${this.noRelayReason()}`);
    if (this.relay === undefined) {
      const { address, vxlanPort, encryptedPort, epoch } = this.info;
      try {
        this.relay = await EncryptedRelay.open({ nodeId: this.nodeId, epoch, address, vxlanPort, encryptedPort });
      } catch (err) {
        throw new LinuxDataPlaneError(`${WHAT}: cannot open the encrypted relay on ${address} (encrypted port ${encryptedPort}): ${(err as Error)?.message ?? String(err)}`, { cause: err });
      }
      this.guard.relay = { address, port: this.relay.relayPort };
    }
    await this.guard.sync(this.encryptedVnis());
    try {
      this.relay.setNetwork(net.spec.id, net.spec.vni, keys as NetworkKeySet);
    } catch (err) {
      if (err instanceof KeyPlanError) throw new LinuxStateError(`${WHAT}: keys of network ${net.spec.id}: ${err.reason}`, { cause: err });
      throw err;
    }
    for (const r of net.remote.values()) this.relay.setRemote(net.spec.id, r.id, r.mac, r.peer);
  }

  private ipInUse(net: NetState, ip: string): boolean {
    return [...net.remote.values()].some((r) => r.ip === ip);
  }

  private macInUse(net: NetState, mac: string): boolean {
    return [...net.remote.values()].some((r) => r.mac === mac);
  }

  /** Creates (or adopts, when it exists from an earlier run) the network's namespace with everything desired in it. */
  private async activate(net: NetState, changes?: ReconcileChange[], errors?: ReconcileError[]): Promise<void> {
    if (existsSync(namespacePath(net.namespace))) {
      // adopted from an earlier run: add and update only while the desired state is programmed call by call;
      // what it holds beyond that goes with the next reconcile() (when this runs for reconcile(), at once)
      await this.reconcileNetwork(net, changes ?? [], errors, changes === undefined);
      return;
    }
    const plan = planNetwork(this.desired(net, undefined, errors), emptySnapshot(net.namespace));
    net.active = true;
    try {
      await this.apply(net, plan, true);
    } catch (err) {
      net.active = false;
      await this.teardown(net.namespace).catch(() => undefined);
      throw err;
    }
    changes?.push({ action: 'add', kind: 'namespace', namespace: net.namespace, target: net.namespace }, ...plan.changes);
    try {
      await this.services.syncDns(this.serviceNet(net)); // the helper (the address went on the bridge with the batch)
    } catch {
      // the attach stands without its DNS helper (counted, dns.helperFailures); reconcile() starts it or reports why not
      this.services.dns.failures++;
    }
  }

  private async reconcileNetwork(net: NetState, changes: ReconcileChange[], errors?: ReconcileError[], keepUndesired = false): Promise<void> {
    const snapshot = await this.snapshot(net.namespace);
    const plan = planNetwork(this.desired(net, snapshot, errors), snapshot, { keepUndesired });
    net.active = true;
    net.adopted = keepUndesired;
    await this.apply(net, plan, false);
    changes.push(...plan.changes);
  }

  /** Runs a plan: `create` makes the namespace in the same process that runs the `ip` batch in it. */
  private async apply(net: NetState, plan: NetworkPlan, create: boolean): Promise<void> {
    const at = { netns: namespacePath(net.namespace) };
    if (create) {
      mkdirSync(NETNS_DIR, { recursive: true });
      writeFileSync(namespacePath(net.namespace), '', { flag: 'wx' });
      await this.runner.ipBatch([...plan.ns, ...this.services.creationLines(this.serviceNet(net))], { newNetns: namespacePath(net.namespace) });
      this.services.created(this.serviceNet(net));
    } else await this.runner.ipBatch(plan.ns, at);
    await this.runner.bridgeBatch(plan.bridge, at);
    for (const ep of plan.sandboxes) await this.sandboxBatch(net, ep);
  }

  /**
   * The sandbox's `ip -batch` (1 process): its overlay interface's address,
   * and on a non-internal network the egress pair when the sandbox has none
   * yet (`EgressGateway.claim`: made from inside the sandbox, so an attach
   * costs no process in the host namespace). A failure gives the egress
   * address back and removes a half-made pair.
   */
  private async sandboxBatch(net: NetState, ep: KernelAttachSpec): Promise<void> {
    const egress = this.egress !== undefined && !net.spec.internal ? this.egress.claim(ep.sandbox) : [];
    const services = this.services.tableScript(this.serviceNet(net)); // the network's VIPs: in the same process
    try {
      if (services === undefined) await this.runner.ipBatch([...attachSandboxLines(ep), ...egress], { netns: ep.sandbox });
      else await ipBatchThenServiceTable(this.runner, ep.sandbox, [...attachSandboxLines(ep), ...egress], services);
    } catch (err) {
      if (egress.length > 0) await this.egress!.abandon(ep.sandbox);
      throw err;
    }
  }

  /** The gateway is wanted: egress is on and a non-internal network is programmed (active or not). */
  private egressWanted(): boolean {
    return this.egress !== undefined && [...this.networks.values()].some((n) => !n.spec.internal);
  }

  /**
   * Brings egress to the desired state this plane holds in memory, with no
   * process when nothing differs: builds the gateway with the first
   * non-internal network (3 processes: a read, the bridge, the tables and
   * forwarding) and removes it with the last; removes the egress pairs of
   * containers no longer on any active non-internal network (1 process);
   * gives one to a container that lacks it — adopted without a process when
   * a previous run's pair exists, else 1 process (after a restart, or when a
   * network stops being internal).
   */
  private async syncEgress(): Promise<void> {
    const g = this.egress;
    if (g === undefined) return;
    if (!this.egressWanted()) {
      if (g.active) await g.remove();
      return;
    }
    if (!g.active) await g.build();
    const want = new Set<string>();
    for (const n of this.networks.values()) if (!n.spec.internal && n.active) for (const ep of n.local.values()) want.add(ep.sandbox);
    await g.release(g.liveSandboxes().filter((s) => !want.has(s)));
    for (const sandbox of want) {
      const lines = g.claim(sandbox);
      if (lines.length === 0) continue;
      try {
        await this.runner.ipBatch(lines, { netns: sandbox });
      } catch (err) {
        await g.abandon(sandbox);
        throw err;
      }
    }
  }

  /** Attaches one endpoint on an active network: 2 processes (network namespace, sandbox). Removes the pair again when the sandbox step fails. */
  private async attach(net: NetState, ep: KernelAttachSpec): Promise<void> {
    const at = { netns: namespacePath(net.namespace) };
    await this.runner.ipBatch(attachPortLines(ep, net.mtu), at);
    try {
      await this.sandboxBatch(net, ep);
    } catch (err) {
      await this.runner.ipBatch([detachLine(ep.id)], { ...at, tolerateMissing: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Detaches one endpoint: 1 process, or the namespace's teardown with the network's last local endpoint. */
  private async detach(net: NetState, endpointId: string): Promise<void> {
    const prev = net.local.get(endpointId);
    net.local.delete(endpointId);
    if (!net.active) return;
    try {
      if (net.local.size === 0) {
        await this.teardown(net.namespace);
        net.active = false;
        net.adopted = false;
        this.relay?.removeNetwork(net.spec.id);
      } else {
        await this.runner.ipBatch([detachLine(endpointId)], { netns: namespacePath(net.namespace), tolerateMissing: true });
      }
      // the container's table of the network's VIPs goes too (1 process; none when the network has no VIP)
      if (prev !== undefined && ![...net.local.values()].some((ep) => ep.sandbox === prev.sandbox)) await this.services.detached(this.serviceNet(net), prev.sandbox);
    } catch (err) {
      if (prev !== undefined) net.local.set(endpointId, prev);
      throw err;
    }
  }

  /**
   * Deletes a namespace: first every device the plane made in it (link group
   * {@link LINK_GROUP}: the veth pairs, sandbox ends included, the bridge and
   * the VXLAN device, so the VNI's UDP socket in the host namespace is
   * released now, not when the kernel gets round to the namespace's
   * asynchronous cleanup), then the namespace. 1 process; nothing when it is gone.
   */
  private async teardown(name: string): Promise<void> {
    await this.services.deactivating([...this.networks.values()].find((n) => n.namespace === name)?.spec.id, name);
    if (!existsSync(namespacePath(name))) return;
    try {
      await this.runner.ipBatch([`link del group ${LINK_GROUP}`, `link del ${VXLAN_NAME}`, `netns del ${name}`], { netns: namespacePath(name), tolerateMissing: true });
    } catch (err) {
      // not enterable (e.g. an empty file left by a creation that failed before its mount): remove it from the host
      if (!existsSync(namespacePath(name))) return;
      await this.runner.ipBatch([`netns del ${name}`], { tolerateMissing: true });
      if (existsSync(namespacePath(name))) throw err;
    }
  }
}

function resolve(options: KernelDataPlaneOptions) {
  return parseOptions(kernelDataPlaneOptionsSchema, options, `${WHAT}.open`);
}
