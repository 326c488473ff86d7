/** buildUnderlayFrame: the outer frame around a VXLAN UDP payload, for captures. */
import { formatIpv6, macForIpv4, parseIpv4, readIpv6 } from '@weft/interface';
import {
  buildUnderlayFrame,
  ethernet,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  InvalidFieldError,
  ipv4,
  udp,
  vxlanHeader,
  VXLAN_PORT,
} from '../../src';

const payload = (() => {
  const p = new Uint8Array(8 + 14);
  vxlanHeader.encode({ vni: 5000 }, p, 0);
  return p;
})();

describe('buildUnderlayFrame', () => {
  test('IPv4: defaults (port 4789, TTL 64, no DF, stand-in MACs) and verified checksums', () => {
    const frame = buildUnderlayFrame({ srcIp: '127.0.0.1', dstIp: '127.0.0.2', srcPort: 49153, payload });
    const eth = ethernet.decode(frame).value;
    expect(eth).toMatchObject({ src: '02:42:7f:00:00:01', dst: '02:42:7f:00:00:02', etherType: ETHERTYPE_IPV4 });
    const ip = ipv4.decode(eth.payload).value;
    expect(ip).toMatchObject({ src: '127.0.0.1', dst: '127.0.0.2', ttl: 64, df: false, id: 0, protocol: 17 });
    const d = udp.decode(ip.payload, 0, { src: ip.src, dst: ip.dst });
    expect(d.value.srcPort).toBe(49153);
    expect(d.value.dstPort).toBe(VXLAN_PORT);
    expect(d.value.payload).toEqual(payload);
    expect((ip.payload[6]! << 8) | ip.payload[7]!).not.toBe(0); // a real checksum, not "none"
    // The stand-in MACs are @weft/interface's macForIpv4 of the address (02:42 + its four bytes).
    const other = ethernet.decode(buildUnderlayFrame({ srcIp: '192.0.2.255', dstIp: '198.51.100.7', srcPort: 1, payload })).value;
    expect([other.src, other.dst]).toEqual([macForIpv4(parseIpv4('192.0.2.255')), '02:42:c6:33:64:07']);
  });

  test('the payload is copied', () => {
    const p = Uint8Array.from(payload);
    const frame = buildUnderlayFrame({ srcIp: '127.0.0.1', dstIp: '127.0.0.2', srcPort: 1, payload: p });
    p[4] = 0xee;
    expect(frame[14 + 20 + 8 + 4]).toBe(0);
  });

  test('IPv6: header fields, addresses, zone dropped', () => {
    const frame = buildUnderlayFrame({ srcIp: 'fe80::1%lo', dstIp: '2001:db8::2', srcPort: 65000, dstPort: 8472, payload, ttl: 7 });
    const eth = ethernet.decode(frame).value;
    expect(eth.etherType).toBe(ETHERTYPE_IPV6);
    expect(eth.src).toBe('02:42:00:00:00:01'); // the last four bytes of fe80::1
    expect(eth.dst).toBe('02:42:00:00:00:02');
    const ip6 = eth.payload;
    expect(ip6[0]! >> 4).toBe(6);
    expect((ip6[4]! << 8) | ip6[5]!).toBe(8 + payload.length); // payload length
    expect(ip6[6]).toBe(17); // next header UDP
    expect(ip6[7]).toBe(7); // hop limit
    expect(formatIpv6(readIpv6(ip6, 8))).toBe('fe80::1');
    expect(formatIpv6(readIpv6(ip6, 24))).toBe('2001:db8::2');
    const d = udp.decode(ip6, 40).value;
    expect(d).toMatchObject({ srcPort: 65000, dstPort: 8472 });
    expect(d.payload).toEqual(payload);
    expect((ip6[46]! << 8) | ip6[47]!).not.toBe(0); // mandatory on IPv6
    expect(buildUnderlayFrame({ srcIp: 'fe80::1', dstIp: '2001:db8::2', srcPort: 65000, dstPort: 8472, payload, ttl: 7 })).toEqual(frame);
  });

  test('bad input is an InvalidFieldError naming the field', () => {
    expect(() => buildUnderlayFrame({ srcIp: '127.0.0.1', dstIp: '::1', srcPort: 1, payload })).toThrow(/pcap: dstIp must be the same address family/);
    expect(() => buildUnderlayFrame({ srcIp: '127.0.0.300', dstIp: '127.0.0.1', srcPort: 1, payload })).toThrow(InvalidFieldError);
    expect(() => buildUnderlayFrame({ srcIp: '127.0.0.300', dstIp: '127.0.0.1', srcPort: 1, payload })).toThrow('pcap: srcIp must be an IPv4 dotted quad like "192.0.2.1", got "127.0.0.300"');
    expect(() => buildUnderlayFrame({ srcIp: '::1', dstIp: '2001:db8::g', srcPort: 1, payload })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_FIELD', layer: 'pcap', field: 'dstIp' }));
    expect(() => buildUnderlayFrame({ srcIp: '127.0.0.1', dstIp: '127.0.0.2', srcPort: 70000, payload })).toThrow(/udp: srcPort/);
    expect(() => buildUnderlayFrame({ srcIp: '::1', dstIp: '::2', srcPort: 1, payload, ttl: 256 })).toThrow(/pcap: ttl/);
  });
});
