import { z } from 'zod';
import { nodeIdSchema } from '../../node/node-options';
import { DEFAULT_CA_LIFETIME_MS, DEFAULT_NODE_CERT_LIFETIME_MS, MAX_LIFETIME_MS } from './profile';

/*
 * @internal Schemas of the PKI's public options (STYLE §8: validated once, at
 * the boundary, with `parseOptions`, which names the bad field). Not exported
 * from the package.
 */

const fn = <T>(message: string) => z.custom<T>((v) => typeof v === 'function', { message });

/** Wall clock: ms since the Unix epoch. Default `Date.now`. */
const now = fn<() => number>('must be a function returning ms since the Unix epoch').optional();
/** Cryptographically strong random bytes. Default node:crypto `randomBytes`. */
const randomBytes = fn<(length: number) => Uint8Array>('must be a function (length) => Uint8Array').optional();
/** Deny list: true for a serial (lowercase hex) that must be refused. */
const denied = fn<(serial: string) => boolean>('must be a function (serial) => boolean').optional();
const pem = z.string().min(1).max(65_536);
const lifetime = z.number().int().min(1000, 'must be at least 1000 ms (certificate times have 1 s resolution)').max(MAX_LIFETIME_MS);

/** @internal Node ids and cluster ids in certificates: 1–64 characters of letters, digits, `_`, `.` or `-` (the node id rule). */
export const pkiIdSchema = nodeIdSchema;
/** @internal `manager` or `worker`. */
export const roleSchema = z.enum(['manager', 'worker']);

/** @internal `ClusterCa.create`. */
export const clusterCaCreateSchema = z
  .object({ clusterId: pkiIdSchema, lifetimeMs: lifetime.default(DEFAULT_CA_LIFETIME_MS), now, randomBytes })
  .strict();

/** @internal `ClusterCa.fromPem`'s options. */
export const clusterCaLoadSchema = z.object({ now, randomBytes }).strict();

/** @internal `ClusterCa.fromPem`'s two PEM arguments. */
export const caPemSchema = z.object({ certificatePem: pem, keyPem: pem }).strict();

/** @internal `ClusterCa.issue`. */
export const issueSchema = z
  .object({ csrPem: pem, nodeId: pkiIdSchema, role: roleSchema, lifetimeMs: lifetime.default(DEFAULT_NODE_CERT_LIFETIME_MS), now })
  .strict();

/** @internal `createCsr`'s arguments. */
export const createCsrSchema = z
  .object({
    nodeId: pkiIdSchema,
    key: z.custom<object>((v) => typeof v === 'object' && v !== null && 'privateKey' in v && 'publicKey' in v, {
      message: 'must be a key pair from generateNodeKey()',
    }),
  })
  .strict();

/** @internal `verifyNodeCertificate`'s options. */
export const verifyCertificateSchema = z.object({ now, denied }).strict();

/** @internal `JoinTokens.generate`'s options. */
export const generateTokenSchema = z.object({ now, randomBytes }).strict();

/** @internal `tlsOptionsFor`. */
export const tlsCredentialsSchema = z
  .object({
    caPem: pem,
    certPem: pem,
    keyPem: pem,
    /** What a client requires of the server it dials, beyond "certified by this CA". */
    peer: z.object({ nodeId: pkiIdSchema.optional(), role: roleSchema.optional() }).strict().optional(),
    denied,
  })
  .strict();

/** @internal `peerIdentity`'s options. */
export const peerIdentitySchema = z.object({ denied }).strict();

/** @internal `transportTlsFor`'s options. */
export const transportTlsSchema = z
  .object({
    /** Accept only peers of this role (Raft: managers). */
    role: roleSchema.optional(),
    denied,
    /** Refuse a peer whose node id this returns true for (removed from the cluster). */
    removed: fn<(nodeId: string) => boolean>('must be a function (nodeId) => boolean').optional(),
    now,
  })
  .strict();
