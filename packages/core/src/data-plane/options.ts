import { canonicalIp, isValidIp, systemClock, type Clock, type SocketAddress, type Underlay } from '@weft/interface';
import { z } from 'zod';

/** The IANA VXLAN port (RFC 7348 §5): the default port of plain overlay traffic. */
export const DEFAULT_VXLAN_PORT = 4789;

/**
 * Default UDP port of sealed (encrypted network) traffic: 4790.
 *
 * It must differ from 4789 so a kernel `vxlan` device can keep that port.
 * 4790 is IANA's VXLAN-GPE port, which a VXLAN-GPE device on the same host
 * would also want; the alternative considered, 4500 (RFC 3948 UDP-encapsulated
 * ESP, which Wireshark would dissect as ESP), is taken by the IKE daemon on
 * many hosts (strongSwan, libreswan) and would fail to bind there far more
 * often. Set `encryptedPort` when 4790 is in use.
 */
export const DEFAULT_ENCRYPTED_PORT = 4790;

/** Default underlay MTU in bytes (Ethernet). */
export const DEFAULT_UNDERLAY_MTU = 1500;

/** Default idle time (ms) after which a VIP flow is forgotten: 120 s, the kernel's `nf_conntrack_udp_timeout_stream`. */
export const DEFAULT_SERVICE_FLOW_IDLE_MS = 120_000;

/** Default most VIP flows kept per local endpoint. */
export const DEFAULT_SERVICE_FLOW_LIMIT = 4096;

/**
 * Opens the datagram socket the plane sends and receives on at `address`
 * (`port` 0: any free port; read it back from `Underlay.local`). The plane
 * calls it twice, for the VXLAN port and for the encrypted port, and closes
 * what it returns on `close()`.
 */
export type UnderlayFactory = (address: SocketAddress) => Promise<Underlay>;

/** Options of {@link UserspaceDataPlane.open}. */
export interface UserspaceDataPlaneOptions {
  /** This node's id (1–255 characters): the local id of per-pair keys on encrypted networks; peers know this node by it. */
  nodeId: string;
  /** The underlay IP literal the plane binds and advertises to peers (not `0.0.0.0` or `::`). */
  address: string;
  /** UDP port of plain VXLAN traffic; default 4789; 0 picks a free port. */
  vxlanPort?: number;
  /** UDP port of sealed traffic, shared by every encrypted network; default 4790 ({@link DEFAULT_ENCRYPTED_PORT}); 0 picks a free port. */
  encryptedPort?: number;
  /** MTU of the underlay path in bytes (advertised; core derives networks' MTUs from it); default 1500. */
  underlayMtu?: number;
  /**
   * Opens the two sockets; default binds `@weft/vxlan` `UdpUnderlay`s (with
   * `sourcePorts`). Tests and simulations pass `memoryUnderlayFactory(network)`.
   */
  underlay?: UnderlayFactory;
  /** Monotonic ms clock for VTEPs (FDB aging) and endpoints (ping RTT, ARP cache); default `performance.now`. */
  clock?: Clock;
  /**
   * This start's data-plane epoch, advertised as `DataPlaneInfo.epoch`: 16
   * lowercase hex digits. Default: 64 bits from `node:crypto` `randomBytes`,
   * new on every `open`. Every key this node seals and opens with on
   * encrypted networks derives from it (and from the peer's), so a restarted
   * node never repeats a nonce and never accepts packets sealed for its
   * previous run. Set it only for deterministic tests or simulations, and
   * never give two starts the same value.
   */
  epoch?: string;
  /**
   * Per-flow outer source ports (RFC 7348 §5) of the default UDP sockets: each
   * socket gets a pool of this many extra sockets in 49152–65535 (0–64,
   * default 0: everything leaves from the bound port). Ignored with `underlay`.
   */
  sourcePorts?: number;
  /**
   * How long (ms) a client endpoint's UDP flow to a service VIP stays pinned
   * to its backend without a datagram either way; default 120000 (120 s),
   * 1 … 86400000. Its next datagram after that is a new flow.
   */
  serviceFlowIdleMs?: number;
  /**
   * Most VIP flows one local endpoint keeps pinned (default 4096, 1 … 1048576);
   * a new flow beyond it forgets that endpoint's oldest.
   */
  serviceFlowLimit?: number;
}

const portSchema = z.number().int().min(0).max(65535);

/** A data-plane epoch: 16 lowercase hex digits (as `DataPlaneInfo.epoch` and `PeerNode.epoch`). */
export const epochSchema = z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits');

function isSpecific(host: string): boolean {
  if (!isValidIp(host)) return true; // reported by the literal check
  const c = canonicalIp(host);
  return c !== '0.0.0.0' && c !== '::';
}

/** @internal zod schema of {@link UserspaceDataPlaneOptions}. */
export const userspaceDataPlaneOptionsSchema = z
  .strictObject({
    nodeId: z.string().min(1).max(255),
    address: z.string().refine(isValidIp, 'must be an IPv4 or IPv6 literal').refine(isSpecific, 'must be an address peers can reach, not the unspecified address'),
    vxlanPort: portSchema.default(DEFAULT_VXLAN_PORT),
    encryptedPort: portSchema.default(DEFAULT_ENCRYPTED_PORT),
    underlayMtu: z.number().int().min(576).max(65535).default(DEFAULT_UNDERLAY_MTU),
    underlay: z.custom<UnderlayFactory>((v) => typeof v === 'function', 'must be a function (address) => Promise<Underlay>').optional(),
    clock: z.custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function', 'must be an object with now()').default(systemClock),
    sourcePorts: z.number().int().min(0).max(64).default(0),
    epoch: epochSchema.optional(),
    serviceFlowIdleMs: z.number().int().min(1).max(86_400_000).default(DEFAULT_SERVICE_FLOW_IDLE_MS),
    serviceFlowLimit: z.number().int().min(1).max(1 << 20).default(DEFAULT_SERVICE_FLOW_LIMIT),
  })
  .refine((o) => o.vxlanPort === 0 || o.vxlanPort !== o.encryptedPort, {
    path: ['encryptedPort'],
    message: 'must differ from vxlanPort (plain and sealed traffic need their own sockets)',
  });

/** Options after validation, defaults applied. */
export type ResolvedOptions = z.infer<typeof userspaceDataPlaneOptionsSchema>;
