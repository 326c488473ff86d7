import { CoreError } from '../errors';
import type { EndpointRecord } from '../records/schemas';

/** What an {@link Attachment} needs from its node. */
export interface AttachmentHost {
  /** The data plane's handle of a local endpoint (the userspace `Endpoint`), if programmed. */
  handleOf(endpointId: string): unknown;
  /** Detaches the endpoint (idempotent). */
  detachRecord(record: EndpointRecord): Promise<void>;
}

/**
 * An endpoint attached on this node: its address, MAC and network, and — on
 * the userspace data plane — the `Endpoint` that pings and sends UDP.
 */
export class Attachment<H = unknown> {
  constructor(
    private readonly host: AttachmentHost,
    /** The endpoint's record as stored. */
    readonly record: EndpointRecord,
    /** The network's name when attached. */
    readonly networkName: string,
  ) {}

  /** The endpoint's cluster-wide id. */
  get id(): string {
    return this.record.id;
  }
  /** Its name on the network. */
  get name(): string {
    return this.record.name;
  }
  /** Its address on the network. */
  get ip(): string {
    return this.record.ip;
  }
  /** Its MAC (02:42 + the IPv4 address). */
  get mac(): string {
    return this.record.mac;
  }
  /** The network's id. */
  get networkId(): string {
    return this.record.networkId;
  }

  /**
   * The data plane's object for this endpoint: on the userspace plane an
   * `@weft/vxlan` `Endpoint` (ping, UDP sockets).
   * @throws CoreError when the data plane has none (the kernel plane: use the sandbox) or the endpoint is detached.
   */
  get endpoint(): H {
    const h = this.host.handleOf(this.record.id);
    if (h === undefined) throw new CoreError(`endpoint ${this.record.name} (${this.record.id}) has no userspace handle: detached, or its data plane is not userspace`);
    return h as H;
  }

  /** Releases the address and removes the endpoint everywhere; resolves once it is gone from this node's data plane. Idempotent. */
  detach(): Promise<void> {
    return this.host.detachRecord(this.record);
  }
}
