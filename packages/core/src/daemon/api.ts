import { z } from 'zod';
import type { NetworkInfo, NetworkInspect } from '../network/inspect-network';
import type { NodeInfo } from '../node/node-status';

/** Version of the local control protocol (Unix socket between `weft` / `WeftClient` and a node process). */
export const CONTROL_PROTOCOL_VERSION = 1;

/** What `info` answers: who the node process is and where it listens. */
export interface NodeSummary {
  readonly id: string;
  readonly role: 'manager' | 'worker';
  /** The data plane's underlay address. */
  readonly address: string;
  /** Where a joining node reaches this manager's join service (`host:port`); managers only. */
  readonly joinAddress?: string;
  /** Raft leader's id as this node knows it (managers only; null when none is known). */
  readonly leader?: string | null;
  /** The node process's pid. */
  readonly pid: number;
  /** The data directory it keeps its state in. */
  readonly dataDir: string;
  /** Whether control connections use mutual TLS (always, for nodes run by `weft`). */
  readonly tls: boolean;
  /** Serial of the node's current certificate (lowercase hex). */
  readonly certificateSerial?: string;
  /** Its expiry (ISO 8601). */
  readonly certificateNotAfter?: string;
}

/** An endpoint living in the node process (a userspace endpoint), as listed. */
export interface EndpointSummary {
  readonly id: string;
  readonly name: string;
  readonly network: string;
  readonly networkId: string;
  readonly ip: string;
  readonly mac: string;
}

/** What `endpoint.ping` answers. */
export interface PingResult {
  readonly target: string;
  readonly sent: number;
  readonly received: number;
  /** Round-trip time of each answered echo, ms. */
  readonly rttMs: readonly number[];
  /** Why each unanswered echo failed (error name and message). */
  readonly errors: readonly string[];
}

/** A join token and the managers it can be used with. */
export interface JoinTokenInfo {
  readonly role: 'manager' | 'worker';
  readonly token: string;
  /** Join addresses (`host:port`) of the managers. */
  readonly managers: readonly string[];
}

/** The node's counters: Raft, store connections, data plane, per-network peers. */
export interface DaemonStats {
  readonly node: unknown;
  readonly raft?: unknown;
  readonly storeServer?: unknown;
  readonly joinServer?: unknown;
  readonly control: unknown;
  readonly dataPlane: unknown;
  /** Remote nodes programmed per active network (network name → node ids). */
  readonly peers: Readonly<Record<string, readonly string[]>>;
  /** The kernel data plane's reconcile at start (absent on the userspace plane). */
  readonly startupReconcile?: ReconcileSummary;
}

/**
 * What a reconcile of the node's data plane changed: the kernel plane lists
 * what exists in its namespaces, compares it with the desired state (from the
 * store) and repairs the difference. The userspace plane has nothing to
 * reconcile (`supported: false`, no changes).
 */
export interface ReconcileSummary {
  readonly supported: boolean;
  /** Every change made (empty when the kernel already matched the desired state). */
  readonly changes: readonly { readonly action: string; readonly kind: string; readonly namespace: string; readonly target: string }[];
  /** What could not be repaired (namespace and error message). */
  readonly errors: readonly { readonly namespace: string; readonly error: string }[];
  /** When it ran (ISO 8601). */
  readonly at: string;
}

const name = z.string().min(1).max(255);
const role = z.enum(['manager', 'worker']);

/** Parameter schemas of every control method (validated by the node process; the client passes them as given). */
export const methodParams = {
  info: z.object({}).strict(),
  stats: z.object({}).strict(),
  'network.create': z.object({ name }).passthrough(),
  'network.ls': z.object({}).strict(),
  'network.inspect': z.object({ network: name }).strict(),
  'network.rm': z.object({ network: name }).strict(),
  'node.ls': z.object({}).strict(),
  'node.rm': z.object({ node: name, force: z.boolean().default(false) }).strict(),
  'node.promote': z.object({ node: name }).strict(),
  'node.demote': z.object({ node: name }).strict(),
  'join-token': z.object({ role, rotate: z.boolean().default(false) }).strict(),
  'endpoint.attach': z
    .object({
      network: name,
      name,
      aliases: z.array(name).optional(),
      ip: z.string().min(1).optional(),
      /** Kernel data plane: the container's network namespace (`/var/run/netns/NAME`, `/proc/PID/ns/net`). */
      netns: z.string().regex(/^\/[^\0\n]*$/, 'must be an absolute path').optional(),
      /** Kernel data plane: the interface name inside it (default eth0). */
      interfaceName: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be 1-15 characters (a Linux interface name)').optional(),
      /** Kernel data plane: a resolv.conf file to write naming the network's DNS server. */
      resolvConf: z.string().regex(/^\/[^\0\n]*[^/\0\n]$/, 'must be the absolute path of a file').optional(),
    })
    .strict(),
  'endpoint.ls': z.object({}).strict(),
  'endpoint.ping': z
    .object({
      endpoint: name,
      target: name,
      count: z.number().int().min(1).max(1000).default(3),
      intervalMs: z.number().int().min(0).max(60_000).default(200),
      timeoutMs: z.number().int().min(1).max(60_000).default(1000),
    })
    .strict(),
  'endpoint.rm': z.object({ endpoint: name }).strict(),
  leave: z.object({}).strict(),
  reconcile: z.object({}).strict(),
} as const;

/** The methods of the control protocol. */
export type ControlMethod = keyof typeof methodParams;

/** Parameters of a method, as a caller gives them. */
export type ParamsOf<M extends ControlMethod> = z.input<(typeof methodParams)[M]>;
/** Parameters of a method after validation. */
export type ParsedParamsOf<M extends ControlMethod> = z.output<(typeof methodParams)[M]>;

/** What each method answers. */
export interface ControlResults {
  info: NodeSummary;
  stats: DaemonStats;
  'network.create': NetworkInfo;
  'network.ls': NetworkInfo[];
  'network.inspect': NetworkInspect;
  'network.rm': Record<string, never>;
  'node.ls': NodeInfo[];
  'node.rm': Record<string, never>;
  'node.promote': Record<string, never>;
  'node.demote': Record<string, never>;
  'join-token': JoinTokenInfo;
  'endpoint.attach': EndpointSummary;
  'endpoint.ls': EndpointSummary[];
  'endpoint.ping': PingResult;
  'endpoint.rm': Record<string, never>;
  leave: Record<string, never>;
  reconcile: ReconcileSummary;
}

/** @internal A request frame. */
export const requestSchema = z.object({
  id: z.number().int().min(0),
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
});

/** @internal An error as it crosses the socket. */
export interface WireControlError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  /** Named fields of the error worth keeping (e.g. `field` of InvalidOptionsError). */
  readonly fields?: Record<string, string | number | boolean>;
}

/** @internal A response frame. */
export type ControlResponse = { readonly id: number; readonly result: unknown } | { readonly id: number; readonly error: WireControlError };

/** @internal Turns any thrown value into its wire form. */
export function controlErrorToWire(err: unknown): WireControlError {
  const e = err as Record<string, unknown> | null;
  const fields: Record<string, string | number | boolean> = {};
  if (e !== null && typeof e === 'object') {
    for (const [k, v] of Object.entries(e)) {
      if (k === 'name' || k === 'code' || k === 'message' || k === 'stack' || k === 'cause') continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
    }
  }
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    code: typeof e?.code === 'string' ? e.code : 'ERR_WEFT',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}
