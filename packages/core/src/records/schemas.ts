import { z } from 'zod';

/**
 * Schemas of the records core keeps in the store. Values are UTF-8 JSON;
 * every record read from the store is parsed with these (shared state is a
 * trust boundary: a malformed record is skipped and counted, never trusted).
 */

const id = z.string().min(1).max(128).regex(/^[^/\s]+$/, 'must not contain "/" or whitespace');
const ip = z.string().min(2).max(45);
const labels = z.record(z.string(), z.string());

/** `cluster` */
export const clusterRecordSchema = z.object({
  id,
  createdAt: z.string(),
  /** Default address pools networks take subnets from. */
  defaultPools: z.array(z.object({ base: z.string(), size: z.number().int() })),
  /** First VNI handed out. */
  vniStart: z.number().int().min(1).max(0xffffff),
  ingressNetworkId: id.optional(),
});
export type ClusterRecord = z.infer<typeof clusterRecordSchema>;

/** The data-plane facts a node advertises (see `DataPlaneInfo`). */
export const dataPlaneInfoSchema = z.object({
  kind: z.string().min(1),
  address: ip,
  vxlanPort: z.number().int().min(1).max(65535),
  encryptedPort: z.number().int().min(1).max(65535),
  underlayMtu: z.number().int().min(576).max(65535),
  epoch: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits'),
});

/** `nodes/<id>` */
export const nodeRecordSchema = z.object({
  id,
  role: z.enum(['manager', 'worker']),
  dataPlane: dataPlaneInfoSchema,
  labels,
  startedAt: z.string(),
});
export type NodeRecord = z.infer<typeof nodeRecordSchema>;

/** `node-status/<id>`: a node's state as the managers judge it by its heartbeat. */
export const nodeStatusRecordSchema = z.object({
  state: z.enum(['ready', 'down']),
  /** When the judgement changed (the judging manager's wall clock, ISO 8601). */
  since: z.string(),
});
export type NodeStatusRecord = z.infer<typeof nodeStatusRecordSchema>;

/** `removed-nodes/<id>`: a node removed from the cluster. */
export const removedNodeRecordSchema = z.object({ removedAt: z.string(), by: id });
export type RemovedNodeRecord = z.infer<typeof removedNodeRecordSchema>;

/** `leader`: the manager that last became Raft leader. */
export const leaderRecordSchema = z.object({ id, term: z.number().int().min(0) });
export type LeaderRecord = z.infer<typeof leaderRecordSchema>;

/** `networks/<id>` */
export const networkRecordSchema = z.object({
  id,
  name: z.string().min(1).max(128),
  driver: z.literal('overlay'),
  scope: z.literal('swarm'),
  vni: z.number().int().min(1).max(0xffffff),
  subnet: z.string(),
  gateway: ip.nullable(),
  mtu: z.number().int().min(68).max(65535),
  encrypted: z.boolean(),
  attachable: z.boolean(),
  internal: z.boolean(),
  ingress: z.boolean(),
  labels,
  createdAt: z.string(),
  /**
   * The network's node-local DNS address: reserved in its pool at creation,
   * answered on every node by that node's embedded DNS server for its own
   * endpoints, never advertised. Absent on networks created without one.
   */
  dnsAddress: ip.optional(),
});
export type NetworkRecord = z.infer<typeof networkRecordSchema>;

/** `keys/<networkId>`: an encrypted network's secrets and rotation state. */
export const keysRecordSchema = z.object({
  networkId: id,
  suite: z.string(),
  keys: z.array(z.object({ generation: z.number().int().min(0).max(0xffffffff), secret: z.string().min(43) })).min(1),
  sendGeneration: z.number().int().min(0),
  /** Rotation in progress: `install` (new generation accepted for receive), `activate` (sent with). Absent when idle. */
  rotation: z
    .object({ phase: z.enum(['install', 'activate']), generation: z.number().int().min(0), startedAtMs: z.number() })
    .optional(),
  /** Wall-clock ms of the last completed rotation (or creation). */
  rotatedAtMs: z.number(),
});
export type KeysRecord = z.infer<typeof keysRecordSchema>;

/** `key-acks/<networkId>/<nodeId>`: what a node has programmed of a network's keys. */
export const keyAckSchema = z.object({
  nodeId: id,
  receive: z.array(z.number().int().min(0)),
  send: z.number().int().min(0),
});
export type KeyAck = z.infer<typeof keyAckSchema>;

/** `endpoints/<networkId>/<id>` */
export const endpointRecordSchema = z.object({
  id,
  networkId: id,
  name: z.string().min(1).max(255),
  aliases: z.array(z.string().min(1).max(255)),
  ip,
  prefixLength: z.number().int().min(0).max(128),
  mac: z.string().length(17),
  nodeId: id,
  sandbox: z.string().optional(),
  interfaceName: z.string().optional(),
  /** Kernel plane: the resolv.conf file the attach asked to have written. */
  resolvConf: z.string().optional(),
  service: z.string().optional(),
  requestId: id,
  createdAt: z.string(),
});
export type EndpointRecord = z.infer<typeof endpointRecordSchema>;

/** `node-endpoints/<nodeId>/<endpointId>`: the network of one of the node's endpoints. */
export const nodeEndpointRefSchema = z.object({ networkId: id });
export type NodeEndpointRef = z.infer<typeof nodeEndpointRefSchema>;

/** `heartbeats/<nodeId>` */
export const heartbeatSchema = z.object({ nodeId: id, seq: z.number().int().min(0) });

/** `services/<id>`: a service and its VIP on each of its networks. */
export const serviceRecordSchema = z.object({
  id,
  name: z.string().min(1).max(63),
  /** `vip`: the name resolves to one virtual IP per network, balanced client-side; `dnsrr`: to every backend, rotating. */
  mode: z.enum(['vip', 'dnsrr']),
  networks: z.array(z.object({ networkId: id, vip: ip.nullable() })).min(1),
  labels,
  createdAt: z.string(),
});
export type ServiceRecord = z.infer<typeof serviceRecordSchema>;

/** `service-backends/<networkId>/<endpointId>/<serviceId>`: an endpoint backing a service on a network. */
export const serviceBackendSchema = z.object({
  /** `up` takes new flows; `draining`: the orchestrator is stopping it (no new flows, out of DNS answers). */
  state: z.enum(['up', 'draining']),
});
export type ServiceBackendRecord = z.infer<typeof serviceBackendSchema>;
