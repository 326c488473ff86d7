/**
 * The values that flow through the {@link DataPlane} seam. Plain data only,
 * no classes, so a data plane package (`@weft/linux`) implements the seam
 * without importing `@weft/core`, and core can compare desired with
 * programmed state field by field.
 */

/** What a node's data plane advertises in the node's record, for peers to reach it. */
export interface DataPlaneInfo {
  /** `userspace` (`@weft/vxlan` in the node process) or `kernel` (`@weft/linux`), or another implementation's name. */
  readonly kind: string;
  /** The underlay IP literal peers send to. */
  readonly address: string;
  /** UDP port of plain VXLAN traffic (4789 by default). */
  readonly vxlanPort: number;
  /** UDP port of sealed (encrypted network) traffic. */
  readonly encryptedPort: number;
  /** MTU of the underlay path in bytes (the largest outer IP packet it carries), e.g. 1500. */
  readonly underlayMtu: number;
  /**
   * A random value chosen each time the data plane starts (16 lowercase hex
   * digits): part of the derivation of every pair key this node seals and
   * opens with, so a restarted node never reuses a (key, sequence number)
   * pair — AES-GCM and ChaCha20-Poly1305 nonces must never repeat under one
   * key — and packets captured before a restart cannot be replayed after it.
   */
  readonly epoch: string;
}

/** One generation of an encrypted network's secret. */
export interface NetworkKey {
  /** Generation number, 0 … 2^32 − 1; newer generations are larger. */
  readonly generation: number;
  /** The secret, at least 32 bytes. Owned by the caller: a data plane copies what it keeps. */
  readonly secret: Uint8Array;
}

/** How an encrypted network's traffic is sealed on this node. */
export interface NetworkEncryption {
  /** AEAD suite, e.g. `aes-256-gcm`. */
  readonly suite: string;
  /** Every generation accepted for receiving, ascending. */
  readonly keys: readonly NetworkKey[];
  /** The generation used for sending (one of `keys`). */
  readonly sendGeneration: number;
}

/** A network as a data plane programs it. */
export interface NetworkSpec {
  /** The network's cluster-wide id. */
  readonly id: string;
  /** Its name (for device names and diagnostics). */
  readonly name: string;
  /** VXLAN network identifier, 1 … 2^24 − 1. */
  readonly vni: number;
  /** Overlay MTU in bytes: the largest inner IP packet; larger frames are dropped and counted. */
  readonly mtu: number;
  /** The subnet in CIDR text, e.g. `10.0.1.0/24`. */
  readonly subnet: string;
  /** The gateway address inside the subnet, when there is one. */
  readonly gateway?: string;
  /** No egress out of the overlay (enforced by planes that have egress). */
  readonly internal: boolean;
  /** Present on encrypted networks only: cleartext VXLAN for this VNI is then dropped and counted. */
  readonly encryption?: NetworkEncryption;
}

/** A node that carries endpoints of a network, as seen by the other nodes. */
export interface PeerNode {
  /** The node's id (part of per-pair key derivation). */
  readonly id: string;
  /** Its underlay IP literal. */
  readonly address: string;
  /** Its plain VXLAN port. */
  readonly vxlanPort: number;
  /** Its sealed-traffic port. */
  readonly encryptedPort: number;
  /** Its data plane's current epoch (see `DataPlaneInfo.epoch`): the pair keys to and from it derive from it. */
  readonly epoch: string;
}

/** An endpoint on this node. */
export interface LocalEndpointSpec {
  /** The endpoint's cluster-wide id. */
  readonly id: string;
  /** Its name on the network. */
  readonly name: string;
  /** Its address (IP literal). */
  readonly ip: string;
  /** Prefix length of the network's subnet. */
  readonly prefixLength: number;
  /** Its MAC, `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /**
   * Where the endpoint lives, opaque to core: nothing (undefined) on the
   * userspace plane; a network-namespace path on the kernel plane.
   */
  readonly sandbox?: string;
  /** Interface name inside the sandbox (kernel plane; `eth0` by default there). */
  readonly interfaceName?: string;
  /**
   * Kernel plane: the absolute path of a resolv.conf file the plane writes
   * for this endpoint's container (`nameserver` the network's DNS address),
   * kept in step with the DNS address and removed when no endpoint asks for
   * it any more; e.g. `/etc/netns/<name>/resolv.conf` for an `ip netns`
   * container (`ip netns exec` mounts it over `/etc/resolv.conf`). Undefined:
   * no file is written. The userspace plane validates and ignores it.
   */
  readonly resolvConf?: string;
}

/** An endpoint on another node: what FDB, neighbour and flood entries are made of. */
export interface RemoteEndpointSpec {
  /** The endpoint's cluster-wide id. */
  readonly id: string;
  /** Its address (IP literal). */
  readonly ip: string;
  /** Its MAC. */
  readonly mac: string;
  /** The node it lives on. */
  readonly peer: PeerNode;
}

/** One backend of a service VIP. */
export interface ServiceBackend {
  /** The backend endpoint's address on the network. */
  readonly ip: string;
  /**
   * `up`: takes new flows. `draining`: the orchestrator is stopping it — no
   * new flow goes to it; flows already pinned to it continue.
   */
  readonly state: 'up' | 'draining';
}

/** A service's virtual IP on a network and the backends it balances over (client-side, in the sending node's data plane). */
export interface ServiceVip {
  /** The virtual IP (inside the network's subnet). */
  readonly vip: string;
  /** Backends, sorted by address. */
  readonly backends: readonly ServiceBackend[];
}

/** One DNS query that reached a data plane at a network's DNS address, from one of its local endpoints. */
export interface DnsQuery {
  /** The network whose DNS address was asked: the scope of the answer. */
  readonly networkId: string;
  /** The asking endpoint's address and port. */
  readonly sourceIp: string;
  readonly sourcePort: number;
  /** How it arrived (the reply over UDP is truncated, TC set, when too large). */
  readonly transport: 'udp' | 'tcp';
  /** The query in DNS wire format; owned by the handler. */
  readonly message: Uint8Array;
}

/** Answers DNS queries for a data plane: resolves with the reply in wire format, or undefined to send none. */
export type DnsQueryHandler = (query: DnsQuery) => Promise<Uint8Array | undefined>;

/** What a data plane has programmed for one network (read back, not remembered). */
export interface ProgrammedNetwork {
  readonly spec: NetworkSpec;
  /** Local endpoints, by id order. */
  readonly local: readonly LocalEndpointSpec[];
  /** Remote endpoints (FDB + neighbour entries), by id order. */
  readonly remote: readonly RemoteEndpointSpec[];
  /** Flood-list peers (head-end replication targets), by id order. */
  readonly flood: readonly PeerNode[];
  /** Service VIPs, by VIP order. */
  readonly vips: readonly ServiceVip[];
  /** The node-local DNS address of the network, when set. */
  readonly dnsAddress?: string;
}

/**
 * Everything a data plane has programmed, read back. Core removes a network
 * from its plane with its last local endpoint (lazy activation), so once
 * reconciled none is here without one; a read-back reports what is really
 * there either way.
 */
export interface ProgrammedState {
  /** By network id order. */
  readonly networks: readonly ProgrammedNetwork[];
}
