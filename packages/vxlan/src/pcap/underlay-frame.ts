import { formatIpv4, macForIpv4, tryParseIpv4, tryParseIpv6, writeIpv6 } from '@weft/interface';
import { InvalidFieldError } from '../errors';
import { addChecksum, finishChecksum } from '../codec/checksum';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, IPPROTO_UDP, VXLAN_PORT } from '../codec/constants';
import { ethernet } from '../codec/ethernet';
import { ipv4 } from '../codec/ipv4';
import { readIpv4 } from '../codec/ipv4-address';
import { udp } from '../codec/udp';

/** Length of the fixed IPv6 header, in bytes. */
const IPV6_HEADER_LENGTH = 40;

/** What `buildUnderlayFrame` needs to turn a VXLAN UDP payload into a capturable frame. */
export interface UnderlayFrameOptions {
  /**
   * Outer source address (the sending VTEP): IPv4 dotted quad or IPv6 text
   * (a `%zone` suffix, as node:dgram reports for link-local peers, is dropped).
   * Both addresses must be of the same family.
   */
  srcIp: string;
  /** Outer destination address (the receiving VTEP), same family as `srcIp`. */
  dstIp: string;
  /** Outer UDP source port (a VTEP uses a flow hash in 49152–65535). */
  srcPort: number;
  /** Outer UDP destination port; default 4789 so tshark's VXLAN dissector picks it up. */
  dstPort?: number;
  /** The UDP payload: VXLAN header + inner Ethernet frame. Copied. */
  payload: Uint8Array;
  /** Outer source MAC; default `02:42:` + the last 4 bytes of `srcIp` (`macForIpv4` of `@weft/interface`; locally administered). */
  srcMac?: string;
  /** Outer destination MAC; default `02:42:` + the last 4 bytes of `dstIp`. */
  dstMac?: string;
  /** Outer IPv4 TTL or IPv6 hop limit; default 64. */
  ttl?: number;
  /** Outer IPv4 identification; default 0. Ignored for IPv6. */
  id?: number;
  /** Outer IPv4 Don't Fragment flag; default false (as the Linux vxlan device's default `df unset`). Ignored for IPv6. */
  df?: boolean;
}

/** The address bytes of `ip` (4 or 16), zone suffix dropped. */
function addressBytes(field: string, ip: string): Uint8Array {
  if (typeof ip !== 'string') throw new InvalidFieldError('pcap', field, `must be an IP address string, got ${String(ip)}`);
  if (ip.includes(':')) {
    const zone = ip.indexOf('%');
    const value = tryParseIpv6(zone >= 0 ? ip.slice(0, zone) : ip);
    if (value === undefined) throw new InvalidFieldError('pcap', field, `must be an IPv6 address like "2001:db8::1", got ${JSON.stringify(ip)}`);
    const out = new Uint8Array(16);
    writeIpv6(value, out, 0);
    return out;
  }
  const n = tryParseIpv4(ip);
  if (n < 0) throw new InvalidFieldError('pcap', field, `must be an IPv4 dotted quad like "192.0.2.1", got ${JSON.stringify(ip)}`);
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** The stand-in MAC of an address: `macForIpv4` of its last four bytes (all of an IPv4 address). */
function standInMac(addr: Uint8Array): string {
  return macForIpv4(readIpv4(addr, addr.length - 4));
}

/**
 * Wraps a VXLAN UDP payload (as a `Vtep` sends or receives it on its socket)
 * into a full Ethernet / IPv4 or IPv6 / UDP frame with correct IP header and
 * UDP checksums, so a capture of the underlay opens in tshark/Wireshark with
 * the VXLAN dissector (UDP port 4789). The outer MACs are stand-ins: the
 * socket never sees them. With the kernel's MACs, IP id and TTL it reproduces
 * a Linux vxlan device's IPv4 frame byte for byte. Returns a new buffer.
 * @throws InvalidFieldError for a malformed or mixed-family address, a port
 * out of range or an oversized payload.
 */
export function buildUnderlayFrame(options: UnderlayFrameOptions): Uint8Array {
  const src = addressBytes('srcIp', options.srcIp);
  const dst = addressBytes('dstIp', options.dstIp);
  if (src.length !== dst.length) {
    throw new InvalidFieldError('pcap', 'dstIp', `must be the same address family as srcIp, got ${options.srcIp} and ${options.dstIp}`);
  }
  const srcMac = options.srcMac ?? standInMac(src);
  const dstMac = options.dstMac ?? standInMac(dst);
  const datagramFields = { srcPort: options.srcPort, dstPort: options.dstPort ?? VXLAN_PORT, payload: options.payload };
  if (src.length === 4) {
    const srcText = formatIpv4(readIpv4(src, 0));
    const dstText = formatIpv4(readIpv4(dst, 0));
    const packet = ipv4.encode({
      tos: 0,
      id: options.id ?? 0,
      df: options.df ?? false,
      mf: false,
      fragmentOffset: 0,
      ttl: options.ttl ?? 64,
      protocol: IPPROTO_UDP,
      src: srcText,
      dst: dstText,
      payload: udp.encode(datagramFields, undefined, 0, { src: srcText, dst: dstText }),
    });
    return ethernet.encode({ dst: dstMac, src: srcMac, etherType: ETHERTYPE_IPV4, payload: packet });
  }
  return ipv6Frame(src, dst, srcMac, dstMac, options.ttl ?? 64, datagramFields);
}

function ipv6Frame(
  src: Uint8Array,
  dst: Uint8Array,
  srcMac: string,
  dstMac: string,
  hopLimit: number,
  datagram: { srcPort: number; dstPort: number; payload: Uint8Array },
): Uint8Array {
  if (!Number.isInteger(hopLimit) || hopLimit < 0 || hopLimit > 255) {
    throw new InvalidFieldError('pcap', 'ttl', `must be an integer in 0..255, got ${hopLimit}`);
  }
  const udpLength = udp.encodingLength(datagram);
  const packet = new Uint8Array(IPV6_HEADER_LENGTH + udpLength);
  udp.encode(datagram, packet, IPV6_HEADER_LENGTH);
  // RFC 8200 §8.1: the UDP checksum is mandatory over IPv6, with this pseudo-header.
  let sum = addChecksum(0, src, 0, 16);
  sum = addChecksum(sum, dst, 0, 16);
  sum += udpLength + IPPROTO_UDP; // upper-layer length (< 2^16 here) and next header
  const check = finishChecksum(addChecksum(sum, packet, IPV6_HEADER_LENGTH, udpLength)) || 0xffff;
  packet[IPV6_HEADER_LENGTH + 6] = check >> 8;
  packet[IPV6_HEADER_LENGTH + 7] = check & 0xff;
  packet[0] = 0x60; // version 6, traffic class 0, flow label 0
  packet[4] = udpLength >> 8;
  packet[5] = udpLength & 0xff;
  packet[6] = IPPROTO_UDP;
  packet[7] = hopLimit;
  packet.set(src, 8);
  packet.set(dst, 24);
  return ethernet.encode({ dst: dstMac, src: srcMac, etherType: ETHERTYPE_IPV6, payload: packet });
}
