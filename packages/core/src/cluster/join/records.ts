import { createHash, X509Certificate } from 'node:crypto';
import { textOf, type KeyValue, type Store } from '@weft/interface';
import { z } from 'zod';
import { KeyLayout } from '../../records/keys';
import { ClusterCa } from '../pki/cluster-ca';
import type { JoinTokenRecord } from '../pki/join-token';
import { ClusterPkiMissingError } from './errors';

/*
 * @internal The PKI's records in the store (all under `pki/` but the deny
 * list) and their schemas. Every one is JSON.
 */

const role = z.enum(['manager', 'worker']);

/** @internal `pki/ca`: the cluster CA. */
export const caRecordSchema = z.object({ clusterId: z.string().min(1), certificatePem: z.string().min(1), keyPem: z.string().min(1), createdAtMs: z.number() });
export type CaRecord = z.infer<typeof caRecordSchema>;

/** @internal `pki/join-tokens/<role>`: the token's record (its secret's hash) and its full text, for `weft join-token ROLE`. */
export const tokenRecordSchema = z.object({
  record: z.object({ role, secretHash: z.string(), createdAtMs: z.number() }),
  token: z.string().min(1),
});
export type StoredJoinToken = z.infer<typeof tokenRecordSchema>;

/** @internal `pki/node-certs/<nodeId>`: the certificate a node holds now. */
export const nodeCertRecordSchema = z.object({ serial: z.string(), keyDigest: z.string(), role, notAfterMs: z.number(), issuedAtMs: z.number() });
export type NodeCertRecord = z.infer<typeof nodeCertRecordSchema>;

/** @internal `denied-serials/<serial>`: a refused certificate. */
export const deniedRecordSchema = z.object({ nodeId: z.string(), notAfterMs: z.number(), deniedAtMs: z.number(), reason: z.string() });
export type DeniedRecord = z.infer<typeof deniedRecordSchema>;

/** @internal `roles/<nodeId>` as promote/demote write it (only the role is read here). */
export const roleRecordSchema = z.object({ role }).passthrough();

/** @internal JSON bytes of a record, for a txn put. */
export function recordBytes(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** @internal A record parsed with `schema`, or undefined when absent or not such a record. */
export function parseKv<T>(schema: z.ZodType<T>, kv: KeyValue | undefined): T | undefined {
  if (kv === undefined) return undefined;
  try {
    const r = schema.safeParse(JSON.parse(textOf(kv)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** @internal SHA-256 (hex) of a certificate's SubjectPublicKeyInfo: which key a node id is held by. */
export function keyDigestOf(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** @internal Reads and loads the CA (linearizable read). @throws ClusterPkiMissingError when absent or unreadable. */
export async function readCa(store: Store, keys: KeyLayout, now?: () => number): Promise<{ ca: ClusterCa; kv: KeyValue }> {
  const kv = await store.get(keys.clusterCa());
  const rec = parseKv(caRecordSchema, kv);
  if (kv === undefined || rec === undefined) throw new ClusterPkiMissingError(kv === undefined ? `no CA record at ${keys.clusterCa()} (initClusterPki has not run)` : `the CA record at ${keys.clusterCa()} does not parse`);
  // Loading the CA imports and checks its key: done once per record version (each join and renewal reads it).
  const cached = loadedCas.get(store);
  if (cached !== undefined && cached.key === keys.clusterCa() && cached.modRevision === kv.modRevision && cached.now === now && cached.certificatePem === rec.certificatePem && cached.keyPem === rec.keyPem) {
    return { ca: cached.ca, kv };
  }
  const ca = await ClusterCa.fromPem(rec.certificatePem, rec.keyPem, now !== undefined ? { now } : {});
  loadedCas.set(store, { key: keys.clusterCa(), modRevision: kv.modRevision, now, certificatePem: rec.certificatePem, keyPem: rec.keyPem, ca });
  return { ca, kv };
}

/** The CA last loaded from each store, with the record version it was loaded from. */
const loadedCas = new WeakMap<Store, { key: string; modRevision: number; now: (() => number) | undefined; certificatePem: string; keyPem: string; ca: ClusterCa }>();

/** @internal The current token records of both roles, and the revisions they were read at. */
export async function readTokens(store: Store, keys: KeyLayout): Promise<{ records: { manager?: JoinTokenRecord; worker?: JoinTokenRecord }; mod: Record<'manager' | 'worker', number>; stored: Partial<Record<'manager' | 'worker', StoredJoinToken>> }> {
  const r = await store.range({ prefix: keys.joinTokens() });
  const records: { manager?: JoinTokenRecord; worker?: JoinTokenRecord } = {};
  const stored: Partial<Record<'manager' | 'worker', StoredJoinToken>> = {};
  const mod = { manager: 0, worker: 0 };
  for (const kv of r.kvs) {
    const rest = kv.key.slice(keys.joinTokens().length);
    if (rest !== 'manager' && rest !== 'worker') continue;
    const t = parseKv(tokenRecordSchema, kv);
    if (t === undefined || t.record.role !== rest) continue;
    records[rest] = t.record;
    stored[rest] = t;
    mod[rest] = kv.modRevision;
  }
  return { records, mod, stored };
}
