import { z } from 'zod';
import { InvalidFieldError, VxlanError } from '../errors';
import { LINKTYPE_ETHERNET, PCAP_DEFAULT_SNAPLEN, PCAP_GLOBAL_HEADER_LENGTH, PCAP_MAGIC, PCAP_RECORD_HEADER_LENGTH } from './pcap-format';
import { FilePcapSink, MemoryPcapSink, type PcapSink } from './pcap-sink';

/** Options of a `PcapWriter`. */
export interface PcapWriterOptions {
  /** Where the bytes go. */
  sink: PcapSink;
  /** Snapshot length in bytes (1..262144, default 65535): longer frames are cut, their original length kept. */
  snaplen?: number;
  /** Link type in the global header (default 1, Ethernet). */
  linkType?: number;
  /**
   * Wall clock in milliseconds since the Unix epoch, fractions allowed (µs are kept).
   * Default: `performance.timeOrigin + performance.now()`. Inject a fake for replayable tests.
   */
  clock?: () => number;
}

const optionsSchema = z.object({
  sink: z.custom<PcapSink>(
    (s) => typeof s === 'object' && s !== null && typeof (s as PcapSink).write === 'function' && typeof (s as PcapSink).close === 'function',
    { message: 'must be an object with write(chunk) and close()' },
  ),
  snaplen: z.number().int().min(1).max(262144).optional(),
  linkType: z.number().int().min(0).max(0xffffffff).optional(),
  clock: z.custom<() => number>((c) => typeof c === 'function', { message: 'must be a function returning ms' }).optional(),
});

const defaultClock = (): number => performance.timeOrigin + performance.now();

/**
 * Writes a classic libpcap file (magic a1b2c3d4, version 2.4, microsecond
 * timestamps, little-endian, link type Ethernet by default) that tcpdump,
 * tshark and Wireshark open. The global header is written by the constructor;
 * each `write` appends one record synchronously, in call order.
 */
export class PcapWriter {
  /** Snapshot length in bytes. */
  readonly snaplen: number;
  /** Link type written in the global header. */
  readonly linkType: number;
  private readonly sink: PcapSink;
  private readonly clock: () => number;
  private closed = false;
  private count = 0;

  /** @throws InvalidFieldError naming the option when `options` is invalid. */
  constructor(options: PcapWriterOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'options';
      throw new InvalidFieldError('pcap', field, issue?.message ?? 'invalid', { cause: parsed.error });
    }
    this.sink = options.sink;
    this.snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.linkType = options.linkType ?? LINKTYPE_ETHERNET;
    this.clock = options.clock ?? defaultClock;
    const header = new Uint8Array(PCAP_GLOBAL_HEADER_LENGTH);
    const view = new DataView(header.buffer);
    view.setUint32(0, PCAP_MAGIC, true);
    view.setUint16(4, 2, true);
    view.setUint16(6, 4, true);
    view.setInt32(8, 0, true); // thiszone
    view.setUint32(12, 0, true); // sigfigs
    view.setUint32(16, this.snaplen, true);
    view.setUint32(20, this.linkType, true);
    this.sink.write(header);
  }

  /** A writer whose capture stays in memory; read it with `sink.bytes()`. */
  static toMemory(options: Omit<PcapWriterOptions, 'sink'> = {}): { writer: PcapWriter; sink: MemoryPcapSink } {
    const sink = new MemoryPcapSink();
    return { writer: new PcapWriter({ ...options, sink }), sink };
  }

  /** A writer to the file at `path` (created or truncated). @throws the `fs` error when it cannot be opened; InvalidFieldError for a bad option (the file is closed again). */
  static toFile(path: string, options: Omit<PcapWriterOptions, 'sink'> = {}): PcapWriter {
    const sink = new FilePcapSink(path);
    try {
      return new PcapWriter({ ...options, sink });
    } catch (err) {
      sink.close(); // invalid options: do not leak the descriptor just opened
      throw err;
    }
  }

  /** Records written so far. */
  get packets(): number {
    return this.count;
  }

  /**
   * Appends one frame (copied; the caller keeps ownership of `frame`).
   * @param timestampMs capture time in ms since the epoch; default: the injected clock.
   * @throws VxlanError when the writer is closed.
   */
  write(frame: Uint8Array, timestampMs: number = this.clock()): void {
    if (this.closed) throw new VxlanError('pcap: write after close');
    const captured = Math.min(frame.length, this.snaplen);
    const record = new Uint8Array(PCAP_RECORD_HEADER_LENGTH + captured);
    const view = new DataView(record.buffer);
    let sec = Math.floor(timestampMs / 1000);
    let usec = Math.round((timestampMs - sec * 1000) * 1000);
    if (usec >= 1_000_000) {
      sec += 1;
      usec -= 1_000_000;
    }
    view.setUint32(0, sec >>> 0, true);
    view.setUint32(4, usec, true);
    view.setUint32(8, captured, true);
    view.setUint32(12, frame.length, true);
    record.set(frame.subarray(0, captured), PCAP_RECORD_HEADER_LENGTH);
    this.sink.write(record);
    this.count++;
  }

  /** Closes the sink (the file descriptor for a file). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }
}
