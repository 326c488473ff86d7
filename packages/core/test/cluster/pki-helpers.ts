/** Test helpers for the cluster PKI: a node's credentials issued by a CA, PEM ↔ DER. */
import { ClusterCa, createCsr, exportNodeKeyPem, generateNodeKey, type NodeKeyPair, type NodeRole } from '../../src/cluster/pki';

/** A node's key pair, PEM key and certificate. */
export interface NodeCreds {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly keys: NodeKeyPair;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
}

/** Generates a key, a CSR and has `ca` issue a certificate for it. */
export async function issueNode(
  ca: ClusterCa,
  nodeId: string,
  role: NodeRole,
  extra: { lifetimeMs?: number; now?: () => number } = {},
): Promise<NodeCreds> {
  const keys = await generateNodeKey();
  const csrPem = await createCsr(nodeId, keys);
  const certPem = await ca.issue({ csrPem, nodeId, role, ...extra });
  return { nodeId, role, keys, keyPem: await exportNodeKeyPem(keys), certPem, caPem: ca.certificatePem };
}

/** DER bytes of the first PEM block of `pem`. */
export function derOf(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/** `der` as PEM with `label`. */
export function pemOf(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Resolves with what `p` rejects with (fails the test if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${String(v)}`);
    },
    (e: unknown) => e,
  );
}

/** What `f` throws (fails the test if it returns). */
export function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** The three PEM texts `tlsOptionsFor` takes. */
export function creds(node: NodeCreds): { caPem: string; certPem: string; keyPem: string } {
  return { caPem: node.caPem, certPem: node.certPem, keyPem: node.keyPem };
}
