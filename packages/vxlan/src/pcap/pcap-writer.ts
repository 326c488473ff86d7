import { parseOptions, type Clock } from '@weft/interface';
import { z } from 'zod';
import { clockSchema } from '../option-schemas';
import { PcapClosedError } from './errors';
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
   * Time source of record timestamps. Unlike most clocks in Weft, its readings
   * are taken as wall-clock milliseconds since the Unix epoch (fractions allowed; µs are kept).
   * Default: `performance.timeOrigin + performance.now()`. Inject a `ManualClock` for replayable tests.
   */
  clock?: Clock;
}

const settingsSchema = z.object({
  snaplen: z.number().int().min(1).max(262144).optional(),
  linkType: z.number().int().min(0).max(0xffffffff).optional(),
  clock: clockSchema.optional(),
});

const optionsSchema = settingsSchema.extend({
  sink: z.custom<PcapSink>(
    (s) => typeof s === 'object' && s !== null && typeof (s as PcapSink).write === 'function' && typeof (s as PcapSink).close === 'function',
    { message: 'must be an object with write(chunk) and close()' },
  ),
});

const wallClock: Clock = { now: () => performance.timeOrigin + performance.now() };

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
  private readonly clock: Clock;
  private closed = false;
  private count = 0;

  /** @throws InvalidOptionsError naming the option when `options` is invalid. */
  constructor(options: PcapWriterOptions) {
    const o = parseOptions(optionsSchema, options, 'PcapWriter');
    this.sink = o.sink;
    this.snaplen = o.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.linkType = o.linkType ?? LINKTYPE_ETHERNET;
    this.clock = o.clock ?? wallClock;
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

  /**
   * A writer whose capture stays in memory; read it with `sink.bytes()`.
   * @throws InvalidOptionsError naming the option when `options` is invalid.
   */
  static toMemory(options: Omit<PcapWriterOptions, 'sink'> = {}): { writer: PcapWriter; sink: MemoryPcapSink } {
    const o = parseOptions(settingsSchema, options, 'PcapWriter.toMemory');
    const sink = new MemoryPcapSink();
    return { writer: new PcapWriter({ ...o, sink }), sink };
  }

  /**
   * A writer to the file at `path` (created or truncated). Options are checked
   * before the file is touched.
   * @throws InvalidOptionsError naming the option (`path`, `snaplen`, ...) when one is invalid.
   * @throws the `fs` error when the file cannot be opened.
   */
  static toFile(path: string, options: Omit<PcapWriterOptions, 'sink'> = {}): PcapWriter {
    const o = parseOptions(settingsSchema, options, 'PcapWriter.toFile');
    const sink = new FilePcapSink(path);
    try {
      return new PcapWriter({ ...o, sink });
    } catch (err) {
      sink.close(); // the header write failed: do not leak the descriptor just opened
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
   * @throws PcapClosedError when the writer is closed.
   */
  write(frame: Uint8Array, timestampMs: number = this.clock.now()): void {
    if (this.closed) throw new PcapClosedError('pcap writer');
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
