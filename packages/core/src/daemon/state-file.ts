import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SocketAddress } from '@weft/interface';
import { DataDirError } from './errors';

/** @internal A manager's join address as `weft join` takes it: `HOST:PORT`. */
export const JOIN_ADDRESS = /^[^:\s]+:[0-9]{1,5}$/;

/** @internal `HOST:PORT` (as {@link JOIN_ADDRESS} validated it) as a socket address. */
export function hostPortOf(text: string): SocketAddress {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

const address = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });

/** @internal What a node process keeps in `<data dir>/node.json` to start again after a crash or a stop. */
export const nodeStateSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1),
  role: z.enum(['manager', 'worker']),
  /** The address other nodes reach this one at (control ports). */
  advertiseAddr: z.string().min(1),
  /** The address its listeners bind. */
  listenAddr: z.string().min(1),
  ports: z.object({ raft: z.number().int().min(1).max(65535), store: z.number().int().min(1).max(65535), join: z.number().int().min(1).max(65535) }),
  /** The data plane's underlay address and UDP ports. */
  dataAddr: z.string().min(1),
  vxlanPort: z.number().int().min(0).max(65535),
  encryptedPort: z.number().int().min(0).max(65535),
  /** Which data plane: userspace (in this process) or the Linux kernel's (`@weft/linux`, root; containers are network namespaces). */
  dataPlane: z.enum(['userspace', 'kernel']).default('userspace'),
  /** Kernel plane: egress through a gateway bridge (`false`: none; `subnet`: the bridge's, default the first free 172.x/16). */
  egress: z.union([z.literal(false), z.object({ subnet: z.string().min(1).optional() })]).default({}),
  /** Kernel plane: a graceful stop leaves the kernel's state for the next start (live restore). */
  liveRestore: z.boolean().default(false),
  /** Managers as last known: where to find the store, Raft peers and join services. */
  managers: z.array(z.object({ id: z.string().min(1), raft: address, store: address })),
  /** Join services this node knows (the one it joined through; a manager's own): where it renews its certificate. */
  joinAddresses: z.array(address).default([]),
});

/** @internal The parsed `node.json`. */
export type NodeState = z.output<typeof nodeStateSchema>;

/** @internal Paths inside a data dir. */
export function dataDirPaths(dataDir: string): { state: string; tls: string; key: string; cert: string; ca: string; raft: string; socket: string } {
  const tls = join(dataDir, 'tls');
  return {
    state: join(dataDir, 'node.json'),
    tls,
    key: join(tls, 'node-key.pem'),
    cert: join(tls, 'node-cert.pem'),
    ca: join(tls, 'ca-cert.pem'),
    raft: join(dataDir, 'raft'),
    socket: join(dataDir, 'weft.sock'),
  };
}

/** @internal Reads `node.json` (undefined when the data dir holds no node yet). @throws DataDirError when it does not parse. */
export function readNodeState(dataDir: string): NodeState | undefined {
  const p = dataDirPaths(dataDir).state;
  if (!existsSync(p)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    throw new DataDirError(dataDir, `node.json is not JSON (${(err as Error).message})`);
  }
  const r = nodeStateSchema.safeParse(raw);
  if (!r.success) throw new DataDirError(dataDir, `node.json does not parse: ${r.error.issues[0]?.path.join('.') ?? ''} ${r.error.issues[0]?.message ?? ''}`);
  return r.data;
}

/** @internal Writes a file atomically (temp + rename) with `mode`. */
export function writeFileAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** @internal Writes `node.json`. */
export function writeNodeState(dataDir: string, state: NodeState): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(dataDirPaths(dataDir).state, JSON.stringify(state, null, 2) + '\n', 0o600);
}

/** @internal The node's credentials as PEM files (key 0600). */
export interface PemCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** @internal Writes the credentials into `<data dir>/tls`. */
export function writeCredentials(dataDir: string, c: PemCredentials): void {
  const p = dataDirPaths(dataDir);
  mkdirSync(p.tls, { recursive: true, mode: 0o700 });
  writeFileAtomic(p.ca, c.caPem, 0o644);
  writeFileAtomic(p.key, c.keyPem, 0o600);
  writeFileAtomic(p.cert, c.certPem, 0o644);
}

/** @internal Reads the credentials from `<data dir>/tls`. @throws DataDirError when missing. */
export function readCredentials(dataDir: string): PemCredentials {
  const p = dataDirPaths(dataDir);
  try {
    return { caPem: readFileSync(p.ca, 'utf8'), certPem: readFileSync(p.cert, 'utf8'), keyPem: readFileSync(p.key, 'utf8') };
  } catch (err) {
    throw new DataDirError(dataDir, `the node's certificate files are missing (${(err as Error).message})`);
  }
}
