/**
 * The iproute2 lines the kernel plane runs, one builder per object (each a
 * line of an `ip -batch -` or `bridge -batch -` script, without the tool).
 */
import type { RemoteEndpointSpec } from '@weft/interface';
import { BRIDGE_NAME, FLOOD_MAC, VXLAN_NAME, bridgePortName } from './names';

/** A local endpoint after validation: sandbox and interface name always set. */
export interface KernelAttachSpec {
  readonly id: string;
  readonly ip: string;
  readonly prefixLength: number;
  readonly mac: string;
  readonly sandbox: string;
  readonly interfaceName: string;
}

/** Fields of the VXLAN device of a network. */
export interface VxlanFields {
  readonly vni: number;
  readonly port: number;
  readonly local: string;
  readonly mtu: number;
}

/**
 * Link group of every device the plane creates in a network namespace (the
 * bridge, `vxlan0`, the bridge-side veths), so `ip link del group` removes
 * them all at once, before the namespace goes.
 */
export const LINK_GROUP = 22001;

/** Text safe as one batch token (ifalias): URI-encoded, so no space or `#`. */
export function aliasOf(id: string): string {
  return encodeURIComponent(id).slice(0, 250);
}

/**
 * Network namespace: creates the network's VXLAN device with `link-netns`
 * naming the host (underlay) namespace. The kernel creates the device in the
 * host namespace and moves it into this one in the same request, so its UDP
 * socket lives on the underlay (the device shows `link-netns`), as when
 * Docker creates it in the host namespace and moves it.
 * @param hostNetns Path of the host namespace (`/proc/<pid>/ns/net`, `/var/run/netns/NAME`).
 */
export function vxlanAddLine(hostNetns: string, v: VxlanFields, relayed = false): string {
  // relayed (encrypted networks): `gso_max_segs 1`, so the stack segments GSO packets before the device and each frame is one
  // datagram to the relay; `noudpcsum`, since the relay's `dnat` would spoil an outer checksum computed over an inner one left
  // to offload (the relay's socket then drops the datagram as a checksum error)
  return `link add ${VXLAN_NAME} link-netns ${hostNetns} group ${LINK_GROUP} mtu ${v.mtu}${relayed ? ' gso_max_segs 1' : ''} type vxlan id ${v.vni} dstport ${v.port} local ${v.local} nolearning proxy${relayed ? ' noudpcsum' : ''}`;
}

/** Network namespace: the bridge (created when `withBridge`), the VXLAN device enslaved and everything up. */
export function bridgeSetupLines(networkId: string, mtu: number, withBridge: boolean): string[] {
  return [
    'link set lo up',
    ...(withBridge ? [`link add ${BRIDGE_NAME} group ${LINK_GROUP} mtu ${mtu} type bridge`] : [`link set ${BRIDGE_NAME} mtu ${mtu}`]),
    `link set ${BRIDGE_NAME} alias ${aliasOf(networkId)}`,
    `link set ${VXLAN_NAME} master ${BRIDGE_NAME} up`,
    `link set ${BRIDGE_NAME} up`,
  ];
}

/** Network namespace: the veth pair of `ep` — bridge side enslaved and up, the other end created in the sandbox with its name, MAC and MTU. */
export function attachPortLines(ep: KernelAttachSpec, mtu: number): string[] {
  const port = bridgePortName(ep.id);
  return [
    `link add ${port} group ${LINK_GROUP} mtu ${mtu} master ${BRIDGE_NAME} up type veth peer name ${ep.interfaceName} address ${ep.mac} mtu ${mtu} netns ${ep.sandbox}`,
    `link set ${port} alias ${aliasOf(ep.id)}`,
  ];
}

/** Sandbox: the endpoint's address and the interface up. */
export function attachSandboxLines(ep: KernelAttachSpec): string[] {
  return [`addr replace ${ep.ip}/${ep.prefixLength} dev ${ep.interfaceName}`, `link set ${ep.interfaceName} up`];
}

/** Network namespace: removes a local endpoint's veth pair (its sandbox end goes with it). */
export function detachLine(endpointId: string): string {
  return `link del ${bridgePortName(endpointId)}`;
}

function portPart(port: number, devicePort: number): string {
  return port === devicePort ? '' : ` port ${port}`;
}

/** `bridge`: the remote endpoint's MAC behind its node (replace: never EEXIST over a learned entry). */
export function fdbReplaceLine(r: RemoteEndpointSpec, devicePort: number): string {
  return `fdb replace ${r.mac} dev ${VXLAN_NAME} dst ${r.peer.address}${portPart(r.peer.vxlanPort, devicePort)} self permanent`;
}

/** `bridge`: removes the FDB entry of `mac`. */
export function fdbDeleteLine(mac: string): string {
  return `fdb del ${mac} dev ${VXLAN_NAME} self`;
}

/** `bridge`: a flood (all-zero MAC) entry to a peer node. */
export function floodAppendLine(address: string, port: number, devicePort: number): string {
  return `fdb append ${FLOOD_MAC} dev ${VXLAN_NAME} dst ${address}${portPart(port, devicePort)} self permanent`;
}

/** `bridge`: removes the flood entry to a peer node. */
export function floodDeleteLine(address: string): string {
  return `fdb del ${FLOOD_MAC} dev ${VXLAN_NAME} dst ${address} self`;
}

/** `ip`: the remote endpoint's neighbour entry (answered by the device's ARP proxy). */
export function neighReplaceLine(r: { readonly ip: string; readonly mac: string }): string {
  return `neigh replace ${r.ip} lladdr ${r.mac} dev ${VXLAN_NAME} nud permanent`;
}

/** `ip`: removes a neighbour entry. */
export function neighDeleteLine(ip: string): string {
  return `neigh del ${ip} dev ${VXLAN_NAME}`;
}
