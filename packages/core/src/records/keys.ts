import { InvalidOptionsError } from '@weft/interface';

/**
 * The key layout of Weft's shared state (see docs/architecture.md). Every
 * key lives under one root prefix (default `weft/`), so a store can be shared
 * with other data, and several clusters can share one etcd under different
 * roots. Ids never contain `/`.
 */
export class KeyLayout {
  /**
   * @param root - prefix of every key, ending in `/` (e.g. `weft/`).
   * @throws InvalidOptionsError (field `root`) for anything else.
   */
  constructor(readonly root: string) {
    if (typeof root !== 'string' || !/^[A-Za-z0-9_.-]*\/$/.test(root)) {
      throw new InvalidOptionsError('root', `KeyLayout: option "root" must be letters, digits, "_", "." or "-" ending in "/" (got ${JSON.stringify(root)})`);
    }
  }

  /** The cluster record (id, default pools, ingress network id). */
  cluster(): string {
    return `${this.root}cluster`;
  }
  /** Node records: `nodes/<nodeId>`. */
  nodes(): string {
    return `${this.root}nodes/`;
  }
  node(nodeId: string): string {
    return `${this.nodes()}${nodeId}`;
  }
  /** Node status as the managers judge it from heartbeats: `node-status/<nodeId>` (written by the Raft leader, on change only). */
  nodeStatuses(): string {
    return `${this.root}node-status/`;
  }
  nodeStatus(nodeId: string): string {
    return `${this.nodeStatuses()}${nodeId}`;
  }
  /** Nodes removed from the cluster (`removeNode`): `removed-nodes/<nodeId>`. Their certificates are refused from then on; their ids are never taken again. */
  removedNodes(): string {
    return `${this.root}removed-nodes/`;
  }
  removedNode(nodeId: string): string {
    return `${this.removedNodes()}${nodeId}`;
  }
  /**
   * The managers registry (`managers/<managerId>` → its Raft and store
   * addresses): the desired Raft membership, which the leader's membership
   * reconciler makes real. The key `managers/` itself holds the leader's
   * view of which managers it hears from. (A `RaftStore`'s `registryPrefix`
   * must equal this for nodes to see the same registry; both default to `weft/managers/`.)
   */
  managers(): string {
    return `${this.root}managers/`;
  }
  manager(managerId: string): string {
    return `${this.managers()}${managerId}`;
  }
  /** Desired roles (`roles/<nodeId>` → `{ role }`), written by `promote`/`demote`; the node's process acts on its own (see `WeftNode.onRoleChange`). */
  roles(): string {
    return `${this.root}roles/`;
  }
  role(nodeId: string): string {
    return `${this.roles()}${nodeId}`;
  }
  /** Node availability (`availability/<nodeId>` → `{ availability }`), as `setAvailability` writes it; absent means `active`. */
  availabilities(): string {
    return `${this.root}availability/`;
  }
  availability(nodeId: string): string {
    return `${this.availabilities()}${nodeId}`;
  }
  /**
   * The cluster CA (`pki/ca` → its certificate and private key as PEM): managers only — the
   * worker store policy does not list `pki/`, so no worker can read it.
   */
  clusterCa(): string {
    return `${this.root}pki/ca`;
  }
  /** Join tokens (`pki/join-tokens/<role>` → the token's record and its full text): managers only, as the CA key. */
  joinTokens(): string {
    return `${this.root}pki/join-tokens/`;
  }
  joinToken(role: 'manager' | 'worker'): string {
    return `${this.joinTokens()}${role}`;
  }
  /** The certificate each node holds now (`pki/node-certs/<nodeId>` → serial, key fingerprint, role, notAfter), written at join and renewal: managers only. */
  nodeCertificates(): string {
    return `${this.root}pki/node-certs/`;
  }
  nodeCertificate(nodeId: string): string {
    return `${this.nodeCertificates()}${nodeId}`;
  }
  /** Cluster-wide PKI settings (`pki/settings` → `{ certLifetimeMs }`), set at `weft init`; managers only. */
  pkiSettings(): string {
    return `${this.root}pki/settings`;
  }
  /** Managers' join services (`join-services/<managerId>` → `{ host, port }`), published by node processes so any manager can renew a certificate. */
  joinServices(): string {
    return `${this.root}join-services/`;
  }
  joinService(managerId: string): string {
    return `${this.joinServices()}${managerId}`;
  }
  /** The certificate deny list (`denied-serials/<serial>` → node id, notAfter): a serial listed here is refused on every control connection; an entry may be pruned once its certificate has expired. */
  deniedSerials(): string {
    return `${this.root}denied-serials/`;
  }
  deniedSerial(serial: string): string {
    return `${this.deniedSerials()}${serial}`;
  }
  /** The id of the manager that last became Raft leader (written by that manager). */
  leader(): string {
    return `${this.root}leader`;
  }
  /** Node liveness: rewritten every heartbeat interval; only managers read it. */
  heartbeats(): string {
    return `${this.root}heartbeats/`;
  }
  heartbeat(nodeId: string): string {
    return `${this.heartbeats()}${nodeId}`;
  }
  /** Network records: `networks/<networkId>`. */
  networks(): string {
    return `${this.root}networks/`;
  }
  network(networkId: string): string {
    return `${this.networks()}${networkId}`;
  }
  /** Name index: `network-names/<name>` → network id (names are unique). */
  networkName(name: string): string {
    return `${this.root}network-names/${name}`;
  }
  /** VNI index: `vnis/<vni>` → network id (a VNI is used by one network at a time). */
  vnis(): string {
    return `${this.root}vnis/`;
  }
  vni(vni: number): string {
    return `${this.vnis()}${vni}`;
  }
  /** The last VNI handed out (serial allocation). */
  vniCursor(): string {
    return `${this.root}vni-cursor`;
  }
  /** Subnet allocation of the cluster's address space (an `@weft/ipam` snapshot). */
  subnets(): string {
    return `${this.root}ipam/subnets`;
  }
  /** One network's address pool (an `@weft/ipam` snapshot); one key per pool, so networks never contend. */
  pool(networkId: string): string {
    return `${this.root}ipam/pools/${networkId}`;
  }
  /** An encrypted network's key record. */
  networkKeys(networkId: string): string {
    return `${this.root}keys/${networkId}`;
  }
  /** Key-rotation acknowledgements of one network: `key-acks/<networkId>/<nodeId>`. */
  keyAcks(networkId: string): string {
    return `${this.root}key-acks/${networkId}/`;
  }
  keyAck(networkId: string, nodeId: string): string {
    return `${this.keyAcks(networkId)}${nodeId}`;
  }
  /** Endpoint records of one network: `endpoints/<networkId>/<endpointId>` (what peers watch). */
  endpoints(networkId: string): string {
    return `${this.root}endpoints/${networkId}/`;
  }
  /** Every network's endpoint records. */
  allEndpoints(): string {
    return `${this.root}endpoints/`;
  }
  endpoint(networkId: string, endpointId: string): string {
    return `${this.endpoints(networkId)}${endpointId}`;
  }
  /** Which endpoints live on a node: `node-endpoints/<nodeId>/<endpointId>` → `{ networkId }` (what a node watches for its own; the record is under `endpoints/`). */
  nodeEndpoints(nodeId: string): string {
    return `${this.root}node-endpoints/${nodeId}/`;
  }
  nodeEndpoint(nodeId: string, endpointId: string): string {
    return `${this.nodeEndpoints(nodeId)}${endpointId}`;
  }
  /** Endpoint name index per network: `endpoint-names/<networkId>/<name>` → endpoint id. */
  endpointName(networkId: string, name: string): string {
    return `${this.root}endpoint-names/${networkId}/${name.toLowerCase()}`;
  }

  /** Service records: `services/<serviceId>`. */
  services(): string {
    return `${this.root}services/`;
  }
  service(serviceId: string): string {
    return `${this.services()}${serviceId}`;
  }
  /** Service name index: `service-names/<name>` → service id (names are unique, case-insensitively). */
  serviceName(name: string): string {
    return `${this.root}service-names/${name.toLowerCase()}`;
  }
  /** Service backends on one network: `service-backends/<networkId>/<endpointId>/<serviceId>` → `{ state }` (what active nodes watch). */
  serviceBackends(networkId: string): string {
    return `${this.root}service-backends/${networkId}/`;
  }
  /** Every service one endpoint backs (an endpoint's detach deletes this prefix). */
  endpointBackends(networkId: string, endpointId: string): string {
    return `${this.serviceBackends(networkId)}${endpointId}/`;
  }
  serviceBackend(networkId: string, endpointId: string, serviceId: string): string {
    return `${this.endpointBackends(networkId, endpointId)}${serviceId}`;
  }
}
