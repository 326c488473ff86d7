/** MAC / IPv4 address helpers and the Internet checksum. */
import fc from 'fast-check';
import {
  addChecksum,
  finishChecksum,
  formatIpv4,
  formatIpv6,
  parseIpv6,
  formatMac,
  formatMacKey,
  internetChecksum,
  isBroadcastMac,
  isMulticastMac,
  macKey,
  macKeyOf,
  parseIpv4,
  parseMac,
  pseudoHeaderSum,
  readIpv4,
  writeIpv4,
  InvalidFieldError,
  MalformedPacketError,
} from '../../src';

describe('MAC helpers', () => {
  test('parse / format round trip, lowercase output, either case input', () => {
    expect(Array.from(parseMac('02:42:0A:2a:00:FF'))).toEqual([0x02, 0x42, 0x0a, 0x2a, 0x00, 0xff]);
    expect(formatMac(parseMac('02:42:0A:2a:00:FF'))).toBe('02:42:0a:2a:00:ff');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
        expect(parseMac(formatMac(b))).toEqual(b);
      }),
    );
  });

  test('malformed text is an InvalidFieldError naming the value', () => {
    for (const bad of ['', '02:42:0a:2a:00', '02-42-0a-2a-00-01', '02:42:0a:2a:00:0g', '02:42:0a:2a:00:011', ' 2:42:0a:2a:00:01']) {
      expect(() => parseMac(bad)).toThrow(InvalidFieldError);
      expect(() => parseMac(bad)).toThrow(JSON.stringify(bad));
    }
  });

  test('formatMac past the end is a MalformedPacketError', () => {
    expect(() => formatMac(new Uint8Array(8), 3)).toThrow(MalformedPacketError);
  });

  test('macKey is injective, exact, and formatMacKey inverts it', () => {
    expect(macKeyOf('ff:ff:ff:ff:ff:ff')).toBe(2 ** 48 - 1);
    expect(macKeyOf('00:00:00:00:00:01')).toBe(1);
    expect(macKeyOf('80:00:00:00:00:00')).toBe(2 ** 47);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 10 }), (b, off) => {
        const buf = new Uint8Array(off + 6);
        buf.set(b, off);
        const key = macKey(buf, off);
        const expected = b.reduce((acc, x) => acc * 256 + x, 0);
        expect(key).toBe(expected);
        expect(formatMacKey(key)).toBe(formatMac(b));
      }),
    );
  });

  test('multicast = group bit (includes broadcast); broadcast = all ones', () => {
    expect(isMulticastMac(parseMac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isMulticastMac(parseMac('01:00:5e:00:00:01'))).toBe(true);
    expect(isMulticastMac(parseMac('33:33:00:00:00:01'))).toBe(true);
    expect(isMulticastMac(parseMac('02:42:0a:2a:00:01'))).toBe(false);
    expect(isBroadcastMac(parseMac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isBroadcastMac(parseMac('ff:ff:ff:ff:ff:fe'))).toBe(false);
  });
});

describe('IPv4 address helpers', () => {
  test('parse / format', () => {
    expect(parseIpv4('192.0.2.1')).toBe(0xc0000201);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(formatIpv4(0xc0000201)).toBe('192.0.2.1');
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => expect(parseIpv4(formatIpv4(n))).toBe(n)));
  });

  test('malformed text', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4']) {
      expect(() => parseIpv4(bad)).toThrow(InvalidFieldError);
    }
  });

  test('read / write at an offset', () => {
    const buf = new Uint8Array(7);
    writeIpv4('10.42.0.2', buf, 3);
    expect(Array.from(buf)).toEqual([0, 0, 0, 10, 42, 0, 2]);
    expect(readIpv4(buf, 3)).toBe(parseIpv4('10.42.0.2'));
    expect(() => readIpv4(buf, 4)).toThrow(MalformedPacketError);
    expect(() => writeIpv4('10.0.0.1', buf, 4)).toThrow(InvalidFieldError);
  });
});

describe('IPv6 address helpers', () => {
  /** WHATWG URL serialises IPv6 hosts in RFC 5952 form: an independent oracle. */
  const viaUrl = (ip: string): string => new URL(`http://[${ip}]/`).hostname.slice(1, -1);

  test('parse / format against known forms', () => {
    expect(formatIpv6(parseIpv6('2001:DB8:0:0:0:0:0:1'))).toBe('2001:db8::1');
    expect(formatIpv6(parseIpv6('::'))).toBe('::');
    expect(formatIpv6(parseIpv6('::1'))).toBe('::1');
    expect(formatIpv6(parseIpv6('1::'))).toBe('1::');
    expect(formatIpv6(parseIpv6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1'); // a single zero group stays
    expect(formatIpv6(parseIpv6('2001:0:0:1:0:0:0:1'))).toBe('2001:0:0:1::1'); // longest run
    expect(formatIpv6(parseIpv6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1'); // first on a tie
    expect(Array.from(parseIpv6('::ffff:192.0.2.1').subarray(10))).toEqual([0xff, 0xff, 192, 0, 2, 1]);
  });

  test('random addresses format like the URL serialiser and parse back', () => {
    // Mostly-zero groups so that :: compression is exercised.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (gs) => {
        const bytes = new Uint8Array(16);
        gs.forEach((g, i) => {
          bytes[i * 2] = g >> 8;
          bytes[i * 2 + 1] = g & 0xff;
        });
        const text = formatIpv6(bytes);
        expect(parseIpv6(text)).toEqual(bytes);
        expect(parseIpv6(gs.map((g) => g.toString(16).toUpperCase()).join(':'))).toEqual(bytes);
        expect(text).toBe(viaUrl(text));
      }),
    );
  });

  test('malformed text', () => {
    for (const bad of ['', ':', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7::8', 'fe80::1%eth0', '::1.2.3', '1.2.3.4::']) {
      expect(() => parseIpv6(bad)).toThrow(InvalidFieldError);
    }
    expect(() => formatIpv6(new Uint8Array(15))).toThrow(MalformedPacketError);
  });
});

describe('Internet checksum (RFC 1071)', () => {
  test('RFC 1071 §3 worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2, checksum 0x220d', () => {
    const data = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(finishChecksum(addChecksum(0, data, 0, 8))).toBe(0x220d);
    expect(internetChecksum(data)).toBe(0x220d);
  });

  test('odd length pads with a zero byte; sums can be continued', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (data, r) => {
        const padded = new Uint8Array(data.length + (data.length % 2));
        padded.set(data);
        expect(internetChecksum(data)).toBe(internetChecksum(padded));
        const split = (r % (Math.floor(data.length / 2) + 1)) * 2; // an even split point
        expect(finishChecksum(addChecksum(addChecksum(0, data, 0, split), data, split, data.length - split))).toBe(
          internetChecksum(data),
        );
      }),
    );
  });

  test('pseudo-header sum equals the checksum of the 12-byte pseudo-header', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }), (s, d, len) => {
        const ph = new Uint8Array(12);
        writeIpv4(s, ph, 0);
        writeIpv4(d, ph, 4);
        ph[9] = 17;
        ph[10] = len >> 8;
        ph[11] = len & 0xff;
        expect(finishChecksum(pseudoHeaderSum(s, d, 17, len))).toBe(internetChecksum(ph));
      }),
    );
  });
});
