import { createHash } from 'node:crypto';

/** Name of the bridge inside every network namespace. */
export const BRIDGE_NAME = 'br0';
/** Name of the kernel VXLAN device inside every network namespace. */
export const VXLAN_NAME = 'vxlan0';
/** The all-zero MAC of flood (head-end replication) FDB entries. */
export const FLOOD_MAC = '00:00:00:00:00:00';

const SAFE_ID = /^[A-Za-z0-9_.-]{1,32}$/;

function hex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * The default prefix of everything a node's kernel plane names: `weft-` and
 * the node id when the id is short and safe in a file name (1–32 of
 * `A-Z a-z 0-9 _ . -`), else `weft-` and 12 hex digits of its SHA-256.
 */
export function defaultNamePrefix(nodeId: string): string {
  return `weft-${SAFE_ID.test(nodeId) ? nodeId : hex(nodeId, 12)}`;
}

/** `<prefix>-<12 hex digits of SHA-256(networkId)>`: the network's namespace name (under /var/run/netns). */
export function networkNamespaceName(prefix: string, networkId: string): string {
  return `${prefix}-${hex(networkId, 12)}`;
}

/** Matches exactly the namespace names {@link networkNamespaceName} gives for `prefix` (and no other node's). */
export function ownedNamespacePattern(prefix: string): RegExp {
  return new RegExp(`^${prefix.replace(/[.]/g, '\\.')}-[0-9a-f]{12}$`);
}

/** `ve<12 hex digits of SHA-256(endpointId)>`: the bridge-side veth of a local endpoint, inside the network namespace (15 characters at most). */
export function bridgePortName(endpointId: string): string {
  return `ve${hex(endpointId, 12)}`;
}

/** Matches the bridge-side veth names {@link bridgePortName} gives. */
export const BRIDGE_PORT_PATTERN = /^ve[0-9a-f]{12}$/;

/** The path of a named namespace. */
export function namespacePath(name: string): string {
  return `/var/run/netns/${name}`;
}

/** 6 hex digits of SHA-256(prefix): the part of a plane's egress device names that tells nodes apart (interface names have 15 characters at most). */
function egressTag(prefix: string): string {
  return hex(prefix, 6);
}

/**
 * `gw<6 hex of SHA-256(prefix)>`: the plane's egress gateway bridge in the
 * host namespace (its ifalias is the prefix itself, which is how a hash
 * collision with another node's bridge is told apart).
 */
export function gatewayBridgeName(prefix: string): string {
  return `gw${egressTag(prefix)}`;
}

/**
 * `gw<6 hex of SHA-256(prefix)><7 hex of SHA-256(sandbox path)>` (15
 * characters): the host-side veth of a container's egress pair, a port of
 * {@link gatewayBridgeName}.
 */
export function egressPortName(prefix: string, sandbox: string): string {
  return `${gatewayBridgeName(prefix)}${hex(sandbox, 7)}`;
}

/** Matches exactly the egress port names {@link egressPortName} gives for `prefix`. */
export function egressPortPattern(prefix: string): RegExp {
  return new RegExp(`^${gatewayBridgeName(prefix)}[0-9a-f]{7}$`);
}
