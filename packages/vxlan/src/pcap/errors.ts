import { VxlanError } from '../errors';

/** A write to a `PcapWriter` or `FilePcapSink` after `close()`. */
export class PcapClosedError extends VxlanError {
  override name = 'PcapClosedError';
  override readonly code = 'ERR_PCAP_CLOSED';
  constructor(
    /** What was closed: `pcap writer` or `pcap file sink /tmp/x.pcap`. */
    readonly what: string,
  ) {
    super(`${what} is closed`);
  }
}
