import { isValidIpv4, parseOptions } from '@weft/interface';
import { z } from 'zod';
import { buildUnderlayFrame } from '../pcap';
import type { PcapWriter } from '../pcap';
import type { OuterPacket, Vtep } from './vtep';

const captureArgsSchema = z.object({
  vtep: z.custom<Vtep>((v) => typeof v === 'object' && v !== null && typeof (v as Vtep).onOuter === 'function', 'must be a Vtep'),
  writer: z.custom<PcapWriter>((w) => typeof w === 'object' && w !== null && typeof (w as PcapWriter).write === 'function', 'must be a PcapWriter'),
});

/** A running capture started by {@link captureOuter}. */
export interface OuterCapture {
  /** Packets written. */
  readonly written: number;
  /** Packets skipped because an outer address was not IPv4 (only IPv4 underlays are captured; `buildUnderlayFrame` itself also frames IPv6). */
  readonly skipped: number;
  /** Stops capturing (the writer stays open; close it yourself). Idempotent. */
  stop(): void;
}

/**
 * Records every outer packet `vtep` sends or receives into `writer` as a full
 * Ethernet/IPv4/UDP frame (stand-in MACs), so tshark's VXLAN dissector shows
 * the VNI and the inner frame. Ports are the real ones: sent packets carry
 * the source port they left from (per flow with a `sourcePorts` pool),
 * received ones the sender's.
 * Unspecified local hosts (`0.0.0.0`) are written as `127.0.0.1`. Packets
 * with an IPv6 outer address are not written, only counted in `skipped`.
 * @throws InvalidOptionsError (field `vtep` or `writer`) when either is not what it should be.
 */
export function captureOuter(vtep: Vtep, writer: PcapWriter): OuterCapture {
  parseOptions(captureArgsSchema, { vtep, writer }, 'captureOuter');
  let written = 0;
  let skipped = 0;
  const host = (h: string): string => (h === '0.0.0.0' ? '127.0.0.1' : h);
  const stop = vtep.onOuter((p: OuterPacket) => {
    const src = host(p.source.host);
    const dst = host(p.destination.host);
    if (!isValidIpv4(src) || !isValidIpv4(dst)) {
      skipped++;
      return;
    }
    writer.write(buildUnderlayFrame({ srcIp: src, dstIp: dst, srcPort: p.source.port, dstPort: p.destination.port, payload: p.packet }));
    written++;
  });
  return {
    get written() {
      return written;
    },
    get skipped() {
      return skipped;
    },
    stop,
  };
}
