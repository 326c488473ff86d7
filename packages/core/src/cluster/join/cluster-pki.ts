import { parseOptions, type Store } from '@weft/interface';
import { z } from 'zod';
import { nodeIdSchema } from '../../node/node-options';
import { KeyLayout } from '../../records/keys';
import { ClusterCa } from '../pki/cluster-ca';
import { createCsr } from '../pki/csr';
import { JoinTokens } from '../pki/join-token';
import { exportNodeKeyPem, generateNodeKey, type NodeKeyPair } from '../pki/keys';
import { DEFAULT_NODE_CERT_LIFETIME_MS, MAX_LIFETIME_MS, type NodeRole } from '../pki/profile';
import type { NodeCredentials } from '../pki/tls';
import { ClusterPkiMissingError } from './errors';
import { keyDigestOf, parseKv, readCa, recordBytes, tokenRecordSchema, type CaRecord, type NodeCertRecord, type StoredJoinToken } from './records';
import { parseNodeCertificate } from '../pki/node-certificate';

/** Options of {@link initClusterPki}. */
export interface InitClusterPkiOptions {
  /** Root of the cluster's keys (default `weft/`, as `WeftNode`'s `keyPrefix`). */
  readonly keyPrefix?: string;
  /** The cluster id: the CA's O and every node certificate's. */
  readonly clusterId: string;
  /** The id of the node running `weft init` (it gets the first manager certificate). */
  readonly nodeId: string;
  /** Lifetime of node certificates (ms, default 90 days). */
  readonly certLifetimeMs?: number;
  /** The init node's key pair (default: a fresh one). */
  readonly key?: NodeKeyPair;
  /** Wall clock (ms since the Unix epoch; default `Date.now`). */
  readonly now?: () => number;
}

/** What {@link initClusterPki} returns. */
export interface InitClusterPkiResult {
  /** The init node's credentials (CA certificate, its manager certificate, its key). */
  readonly credentials: NodeCredentials;
  readonly nodeId: string;
  readonly role: 'manager';
  /** The CA's digest, as every join token pins it. */
  readonly caDigest: string;
  /** True when this call created the CA; false when the store already had one (another manager's init won, or init ran before). */
  readonly created: boolean;
}

/** Options of {@link loadClusterPki}, {@link joinTokenOf} and {@link rotateJoinToken}. */
export interface ClusterPkiOptions {
  /** Root of the cluster's keys (default `weft/`). */
  readonly keyPrefix?: string;
  /** Wall clock (ms since the Unix epoch; default `Date.now`). */
  readonly now?: () => number;
}

const fn = <T>(message: string) => z.custom<T>((v) => typeof v === 'function', { message });
const storeSchema = z.custom<Store>((v) => typeof v === 'object' && v !== null && typeof (v as Store).txn === 'function', { message: 'must be a Store' });
const prefixSchema = z.string().regex(/^[A-Za-z0-9_.-]*\/$/, 'must be letters, digits, "_", "." or "-" ending in "/"').default('weft/');
const nowSchema = fn<() => number>('must be a function returning ms since the Unix epoch').optional();
const initSchema = z
  .object({
    store: storeSchema,
    keyPrefix: prefixSchema,
    clusterId: nodeIdSchema,
    nodeId: nodeIdSchema,
    certLifetimeMs: z.number().int().min(1000).max(MAX_LIFETIME_MS).default(DEFAULT_NODE_CERT_LIFETIME_MS),
    key: z.custom<NodeKeyPair>((v) => typeof v === 'object' && v !== null && 'privateKey' in v && 'publicKey' in v, { message: 'must be a NodeKeyPair' }).optional(),
    now: nowSchema,
  })
  .strict();
const pkiSchema = z.object({ store: storeSchema, keyPrefix: prefixSchema, now: nowSchema }).strict();
const roleArgSchema = z.object({ role: z.enum(['manager', 'worker']) });

/**
 * Creates the cluster's PKI in the store, once, at `weft init` (Swarm's
 * `swarm init`): a new CA (ECDSA P-256) whose certificate and private key go
 * to `pki/ca`, a join token per role (`pki/join-tokens/<role>`: the token's
 * hash record and its full text — as sensitive as the CA key; neither is
 * readable by workers), and the init node's own manager certificate.
 *
 * Race-safe: the records are written by one txn that requires `pki/ca` to be
 * absent, so of two managers initialising at once one CA wins; the other
 * call (and any later one) loads that CA and issues its node a certificate
 * from it (`created: false`).
 * @throws InvalidOptionsError (rejects) naming a bad option.
 * @throws StoreUnavailableError (rejects) when the store cannot be reached.
 */
export async function initClusterPki(store: Store, options: InitClusterPkiOptions): Promise<InitClusterPkiResult> {
  const o = parseOptions(initSchema, { ...(options as object), store }, 'initClusterPki');
  const keys = new KeyLayout(o.keyPrefix);
  const clock = o.now ?? Date.now;
  const nodeKey = o.key ?? (await generateNodeKey());
  const csrPem = await createCsr(o.nodeId, nodeKey);
  const keyPem = await exportNodeKeyPem(nodeKey);
  const fresh = await ClusterCa.create({ clusterId: o.clusterId, now: clock });
  const worker = JoinTokens.generate(fresh, 'worker');
  const manager = JoinTokens.generate(fresh, 'manager');
  const certPem = await fresh.issue({ csrPem, nodeId: o.nodeId, role: 'manager', lifetimeMs: o.certLifetimeMs });
  const caRec: CaRecord = { clusterId: o.clusterId, ...fresh.toPem(), createdAtMs: clock() };
  const tok = (g: typeof worker): StoredJoinToken => ({ record: g.record, token: g.token });
  const r = await store.txn({
    compare: [{ key: keys.clusterCa(), target: 'createRevision', result: 'equal', value: 0 }],
    success: [
      { op: 'put', key: keys.clusterCa(), value: recordBytes(caRec) },
      { op: 'put', key: keys.joinToken('worker'), value: recordBytes(tok(worker)) },
      { op: 'put', key: keys.joinToken('manager'), value: recordBytes(tok(manager)) },
      { op: 'put', key: keys.nodeCertificate(o.nodeId), value: recordBytes(nodeCertRecord(certPem, clock())) },
    ],
    failure: [],
  });
  if (r.succeeded) {
    return { credentials: { caPem: fresh.certificatePem, certPem, keyPem }, nodeId: o.nodeId, role: 'manager', caDigest: fresh.digest, created: true };
  }
  // Another init won: use its CA.
  const { ca } = await readCa(store, keys, clock);
  const ours = await ca.issue({ csrPem, nodeId: o.nodeId, role: 'manager', lifetimeMs: o.certLifetimeMs });
  await store.put(keys.nodeCertificate(o.nodeId), JSON.stringify(nodeCertRecord(ours, clock())));
  return { credentials: { caPem: ca.certificatePem, certPem: ours, keyPem }, nodeId: o.nodeId, role: 'manager', caDigest: ca.digest, created: false };
}

/** @internal The `pki/node-certs/<nodeId>` record of a certificate just issued. */
export function nodeCertRecord(certPem: string, issuedAtMs: number): NodeCertRecord {
  const id = parseNodeCertificate(certPem);
  return { serial: id.serial, keyDigest: keyDigestOf(certPem), role: id.role, notAfterMs: id.notAfter.getTime(), issuedAtMs };
}

/**
 * The cluster CA as the store holds it (a linearizable read), for a manager
 * that issues certificates.
 * @throws ClusterPkiMissingError (rejects) when the store has no CA yet.
 * @throws InvalidOptionsError (rejects) naming a bad option.
 */
export async function loadClusterPki(store: Store, options: ClusterPkiOptions = {}): Promise<ClusterCa> {
  const o = parseOptions(pkiSchema, { ...(options as object), store }, 'loadClusterPki');
  return (await readCa(store, new KeyLayout(o.keyPrefix), o.now)).ca;
}

/**
 * The current join token of `role` (its full text, `WEFT-1-…`), as `weft join-token ROLE` prints it.
 * @throws ClusterPkiMissingError (rejects) when the store has no token for the role.
 * @throws InvalidOptionsError (rejects) for a bad role or option.
 */
export async function joinTokenOf(store: Store, role: NodeRole, options: ClusterPkiOptions = {}): Promise<string> {
  const o = parseOptions(pkiSchema, { ...(options as object), store }, 'joinTokenOf');
  const r = parseOptions(roleArgSchema, { role }, 'joinTokenOf').role;
  const keys = new KeyLayout(o.keyPrefix);
  const t = parseKv(tokenRecordSchema, await store.get(keys.joinToken(r)));
  if (t === undefined) throw new ClusterPkiMissingError(`no ${r} join token at ${keys.joinToken(r)}`);
  return t.token;
}

/**
 * Replaces `role`'s join token with a new one and returns its text. The old
 * token is refused from the moment this resolves (a join server reads the
 * token records linearizably for every join); tokens of the other role and
 * certificates already issued are unaffected.
 * @throws ClusterPkiMissingError (rejects) when the store has no CA.
 * @throws InvalidOptionsError (rejects) for a bad role or option.
 */
export async function rotateJoinToken(store: Store, role: NodeRole, options: ClusterPkiOptions = {}): Promise<string> {
  const o = parseOptions(pkiSchema, { ...(options as object), store }, 'rotateJoinToken');
  const r = parseOptions(roleArgSchema, { role }, 'rotateJoinToken').role;
  const keys = new KeyLayout(o.keyPrefix);
  const { ca, kv } = await readCa(store, keys, o.now);
  const g = JoinTokens.generate(ca, r);
  // The CA must still be the one the token pins when it is written.
  const res = await store.txn({
    compare: [{ key: keys.clusterCa(), target: 'modRevision', result: 'equal', value: kv.modRevision }],
    success: [{ op: 'put', key: keys.joinToken(r), value: recordBytes({ record: g.record, token: g.token } satisfies StoredJoinToken) }],
    failure: [],
  });
  if (!res.succeeded) throw new ClusterPkiMissingError('the cluster CA changed while the token was rotated; retry');
  return g.token;
}

