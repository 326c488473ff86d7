/**
 * The certificate profile of a Weft cluster: algorithms, names and lifetimes,
 * defined once. The layout follows Docker Swarm's: a node certificate's
 * subject is `CN=<nodeId>, OU=<role>, O=<clusterId>`.
 */

/** A node's role in the cluster, carried in its certificate's OU. */
export type NodeRole = 'manager' | 'worker';

/** Every role, in a fixed order. */
export const NODE_ROLES: readonly NodeRole[] = ['manager', 'worker'];

/** @internal Key generation/import parameters: ECDSA over P-256 (see {@link ClusterCa} for why). */
export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** @internal Signature algorithm of every certificate and CSR: ecdsa-with-SHA256. */
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Common name of every cluster CA certificate (its O is the cluster id). */
export const CA_COMMON_NAME = 'weft-cluster-ca';

const DAY_MS = 24 * 3600_000;

/** Default lifetime of a cluster CA certificate: 20 years (7300 days), as Swarm's root CA (ms). */
export const DEFAULT_CA_LIFETIME_MS = 7300 * DAY_MS;

/** Default lifetime of a node certificate: 90 days, as Swarm's node certificates (ms). */
export const DEFAULT_NODE_CERT_LIFETIME_MS = 90 * DAY_MS;

/**
 * How far before "now" a certificate's `notBefore` is set (ms): 5 minutes, as
 * cfssl (Swarm's CA library) backdates, so a peer whose clock is slightly
 * behind does not see a brand-new certificate as not yet valid.
 */
export const CERT_BACKDATE_MS = 5 * 60_000;

/** @internal Longest lifetime accepted for any certificate (ms): 100 years. */
export const MAX_LIFETIME_MS = 36_500 * DAY_MS;

/** @internal Bytes of randomness in a certificate serial number (128 bits). */
export const SERIAL_BYTES = 16;

/** The URI a node certificate carries in its subjectAltName: `weft://<clusterId>/node/<nodeId>`. */
export function nodeUri(clusterId: string, nodeId: string): string {
  return `weft://${clusterId}/node/${nodeId}`;
}

/** @internal True when `name` is an LDH host name (then it also goes into the certificate as a DNS name). */
export function isHostName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}
