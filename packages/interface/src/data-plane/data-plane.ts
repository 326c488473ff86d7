import type {
  DataPlaneInfo,
  LocalEndpointSpec,
  NetworkEncryption,
  NetworkSpec,
  ProgrammedState,
  RemoteEndpointSpec,
  ServiceVip,
  DnsQueryHandler,
} from './types';

/**
 * What `addLocalEndpoint` gives back. `handle` is plane-specific: the
 * userspace plane's `Endpoint` (a NIC with ping and UDP sockets in the node
 * process); undefined on the kernel plane, where the endpoint is a real
 * interface in the sandbox.
 */
export interface LocalAttachment<H = unknown> {
  readonly endpointId: string;
  readonly handle: H | undefined;
}

/**
 * The seam between `@weft/core`'s control plane and what forwards frames: a
 * userspace VTEP (`@weft/vxlan` in the node process) or the Linux kernel
 * (`@weft/linux`). Core computes the desired state from the store and calls
 * these methods with the difference; it never wipes and reprograms.
 *
 * Contract:
 * - every method is idempotent: adding what is there with the same fields,
 *   or removing what is not there, changes nothing and succeeds;
 * - `add*` of an existing id with other fields replaces it in place (replace
 *   semantics: no window in which traffic is dropped, no EEXIST);
 * - endpoints are added to a network after `ensureNetwork`; `removeNetwork`
 *   removes everything programmed for it;
 * - flood entries are derived by the plane: one per distinct peer node of
 *   the network's remote endpoints;
 * - `programmed()` reads back what is really programmed (on the kernel plane,
 *   from the kernel), in the shape core computes as desired state;
 * - failures reject with a `DataPlaneError` (or `InvalidOptionsError` for a
 *   malformed spec); a failed call leaves the plane as it was or as asked,
 *   never half-way for a single entry.
 */
export interface DataPlane<H = unknown> {
  /** What peers need to reach this node; advertised in its node record. */
  readonly info: DataPlaneInfo;
  /** Programs a network (segment/VNI, MTU, keys), or updates its fields. */
  ensureNetwork(spec: NetworkSpec): Promise<void>;
  /** Replaces an encrypted network's keys (a rotation phase). */
  setNetworkKeys(networkId: string, encryption: NetworkEncryption): Promise<void>;
  /** Removes a network and every entry programmed for it. */
  removeNetwork(networkId: string): Promise<void>;
  /** Attaches an endpoint on this node. */
  addLocalEndpoint(networkId: string, endpoint: LocalEndpointSpec): Promise<LocalAttachment<H>>;
  /** Detaches a local endpoint; entries pointing at it go with it. */
  removeLocalEndpoint(networkId: string, endpointId: string): Promise<void>;
  /** Programs (or replaces) a remote endpoint: FDB, neighbour, and its peer's flood entry. */
  addRemoteEndpoint(networkId: string, endpoint: RemoteEndpointSpec): Promise<void>;
  /** Removes a remote endpoint's entries (and the flood entry when it was its peer's last). */
  removeRemoteEndpoint(networkId: string, endpointId: string): Promise<void>;
  /**
   * Sets (or, with no backends, removes) a service VIP on a network: traffic
   * from this node's local endpoints to the VIP is balanced over the up
   * backends per flow; a flow stays on its backend while that backend exists.
   */
  setServiceVip(networkId: string, vip: ServiceVip): Promise<void>;
  /**
   * Sets (or clears, with undefined) the network's node-local DNS address:
   * this node's local endpoints' DNS queries to it (UDP port 53) go to the
   * handler set with {@link DataPlane.setDnsHandler} and its reply goes back.
   * The address is never advertised to peers, flooded or put in a remote FDB.
   */
  setDnsAddress(networkId: string, address: string | undefined): Promise<void>;
  /** The handler answering DNS queries at every network's DNS address (undefined: queries are dropped and counted). */
  setDnsHandler(handler: DnsQueryHandler | undefined): void;
  /** What is programmed, read back. */
  programmed(): Promise<ProgrammedState>;
  /** Per-reason counters (drops and traffic), for tests and diagnostics. */
  counters(): Promise<Readonly<Record<string, number>>>;
  /** Removes everything this plane programmed and releases sockets. Idempotent. */
  close(): Promise<void>;
  /**
   * Optional, for planes whose state outlives the process (the kernel's):
   * stops what lives in the process (sockets, helpers) and leaves what is
   * programmed in place for the next plane of the same node to adopt; the
   * plane is closed afterwards. A plane without it has nothing to keep:
   * `close()` is used instead. Idempotent.
   */
  release?(): Promise<void>;
}
