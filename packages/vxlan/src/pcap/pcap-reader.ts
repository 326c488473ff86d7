import { MalformedPacketError } from '../errors';
import { PCAP_GLOBAL_HEADER_LENGTH, PCAP_MAGIC, PCAP_MAGIC_NANO, PCAP_RECORD_HEADER_LENGTH } from './pcap-format';

/** The global header of a classic libpcap file. */
export interface PcapHeader {
  /** Format major version (2 for every classic pcap file). */
  versionMajor: number;
  /** Format minor version (4). */
  versionMinor: number;
  /** Snapshot length in bytes. */
  snaplen: number;
  /** Link type (1 = Ethernet). */
  linkType: number;
  /** True when timestamps are in nanoseconds (magic a1b23c4d). */
  nanosecond: boolean;
  /** Byte order of the file. */
  littleEndian: boolean;
}

/** One captured packet. */
export interface PcapRecord {
  /** Seconds part of the capture time, since the Unix epoch. */
  seconds: number;
  /** Sub-second part in microseconds (converted from nanoseconds if the file uses them). */
  microseconds: number;
  /** Capture time in ms since the epoch (fractional). */
  timestampMs: number;
  /** Length of the packet on the wire, in bytes (`data` may be shorter if cut at snaplen). */
  originalLength: number;
  /** The captured bytes: a view of the input. */
  data: Uint8Array;
}

/** A whole capture. */
export interface PcapFile {
  /** The global header. */
  header: PcapHeader;
  /** Every record, in file order; `data` fields are views of the input. */
  records: PcapRecord[];
}

/**
 * Parses a classic libpcap file (either byte order, µs or ns timestamps).
 * Not pcapng: tshark writes pcapng unless given `-F pcap`.
 * @throws MalformedPacketError (layer `pcap`) for a bad magic, a truncated header or record.
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < PCAP_GLOBAL_HEADER_LENGTH) {
    throw new MalformedPacketError('pcap', `truncated global header: ${bytes.length} of 24 bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (le === PCAP_MAGIC || le === PCAP_MAGIC_NANO) {
    littleEndian = true;
    nanosecond = le === PCAP_MAGIC_NANO;
  } else if (be === PCAP_MAGIC || be === PCAP_MAGIC_NANO) {
    littleEndian = false;
    nanosecond = be === PCAP_MAGIC_NANO;
  } else {
    throw new MalformedPacketError('pcap', `bad magic 0x${be.toString(16).padStart(8, '0')} (pcapng is not supported)`);
  }
  const header: PcapHeader = {
    versionMajor: view.getUint16(4, littleEndian),
    versionMinor: view.getUint16(6, littleEndian),
    snaplen: view.getUint32(16, littleEndian),
    linkType: view.getUint32(20, littleEndian),
    nanosecond,
    littleEndian,
  };
  const records: PcapRecord[] = [];
  let p = PCAP_GLOBAL_HEADER_LENGTH;
  while (p < bytes.length) {
    if (p + PCAP_RECORD_HEADER_LENGTH > bytes.length) {
      throw new MalformedPacketError('pcap', `truncated record header at offset ${p}`);
    }
    const seconds = view.getUint32(p, littleEndian);
    const frac = view.getUint32(p + 4, littleEndian);
    const inclLen = view.getUint32(p + 8, littleEndian);
    const originalLength = view.getUint32(p + 12, littleEndian);
    const start = p + PCAP_RECORD_HEADER_LENGTH;
    if (start + inclLen > bytes.length) {
      throw new MalformedPacketError('pcap', `truncated record at offset ${p}: needs ${inclLen} bytes, ${bytes.length - start} left`);
    }
    const microseconds = nanosecond ? Math.floor(frac / 1000) : frac;
    records.push({
      seconds,
      microseconds,
      timestampMs: seconds * 1000 + (nanosecond ? frac / 1e6 : frac / 1000),
      originalLength,
      data: bytes.subarray(start, start + inclLen),
    });
    p = start + inclLen;
  }
  return { header, records };
}
