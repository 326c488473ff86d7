import { Endpoint } from '@weft/vxlan';
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
export class Attachment {
  /** @internal Built by `WeftNode.attach` and `WeftNode.attachments`. */
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
   * The userspace endpoint: an `@weft/vxlan` `Endpoint` (ping, UDP sockets)
   * living in this node's process.
   * @throws CoreError when there is none: the endpoint is detached, or the
   * node's data plane is not userspace (on the kernel plane the endpoint is a
   * real interface in its sandbox).
   */
  get endpoint(): Endpoint {
    const h = this.host.handleOf(this.record.id);
    if (!(h instanceof Endpoint)) {
      throw new CoreError(`endpoint ${this.record.name} (${this.record.id}) has no userspace handle: detached, or its data plane is not userspace`);
    }
    return h;
  }

  /** The data plane's handle of this endpoint, whatever the plane (undefined when it has none). */
  get handle(): unknown {
    return this.host.handleOf(this.record.id);
  }

  /** Releases the address and removes the endpoint everywhere; resolves once it is gone from this node's data plane. Idempotent. */
  detach(): Promise<void> {
    return this.host.detachRecord(this.record);
  }
}
