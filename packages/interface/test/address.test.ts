import fc from 'fast-check';
import {
  InvalidAddressError,
  formatIp,
  formatIpv4,
  formatIpv6,
  isValidIp,
  isValidIpv4,
  isValidIpv6,
  parseIp,
  parseIpv4,
  parseIpv6,
} from '../src/index';

const canonical6 = (text: string): string => formatIpv6(parseIpv6(text));

describe('IPv4 text', () => {
  it('parses and formats dotted decimal', () => {
    expect(parseIpv4('10.0.0.1')).toBe(0x0a000001);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(formatIpv4(0xc0a80101)).toBe('192.168.1.1');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
  });

  it.each(['', '10.0.0', '10.0.0.0.1', '256.0.0.1', '10.0.0.01', '1.2.3.-4', '1.2.3.4 ', ' 1.2.3.4', '1..2.3', 'a.b.c.d', '1.2.3.4/24', '1234.1.1.1'])(
    'rejects %j with InvalidAddressError naming the text',
    (text) => {
      expect(isValidIpv4(text)).toBe(false);
      let err: unknown;
      try {
        parseIpv4(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidAddressError);
      expect((err as InvalidAddressError).name).toBe('InvalidAddressError');
      expect((err as InvalidAddressError).text).toBe(text);
      expect((err as Error).message).toContain(JSON.stringify(text));
    },
  );
});

describe('IPv6 text (RFC 5952)', () => {
  // RFC 5952 §1: eight spellings of one address; §4 says the canonical one is 2001:db8::1:0:0:1.
  it.each([
    '2001:db8:0:0:1:0:0:1',
    '2001:0db8:0:0:1:0:0:1',
    '2001:db8::1:0:0:1',
    '2001:db8::0:1:0:0:1',
    '2001:0db8::1:0:0:1',
    '2001:db8:0:0:1::1',
    '2001:db8:0000:0:1::1',
    '2001:DB8:0:0:1::1',
  ])('§1 spelling %s → 2001:db8::1:0:0:1 (§4.2.3: the first of equal runs)', (text) => {
    expect(canonical6(text)).toBe('2001:db8::1:0:0:1');
  });

  it('§2.1 leading zeros and §4.1 suppression', () => {
    for (const t of ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:01', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1']) {
      expect(canonical6(t)).toBe('2001:db8:aaaa:bbbb:cccc:dddd:eeee:1');
    }
    expect(canonical6('2001:0db8::0001')).toBe('2001:db8::1');
  });

  it('§2.2 zero compression and §4.2.2 one zero group is not compressed', () => {
    expect(canonical6('2001:db8:aaaa:bbbb:cccc:dddd::1')).toBe('2001:db8:aaaa:bbbb:cccc:dddd:0:1');
    expect(canonical6('2001:db8:aaaa:bbbb:cccc:dddd:0:1')).toBe('2001:db8:aaaa:bbbb:cccc:dddd:0:1');
    for (const t of ['2001:db8:0:0:0::1', '2001:db8:0:0::1', '2001:db8:0::1', '2001:db8::1']) expect(canonical6(t)).toBe('2001:db8::1');
    expect(canonical6('2001:db8::aaaa:0:0:1')).toBe('2001:db8::aaaa:0:0:1');
    expect(canonical6('2001:db8:0:0:aaaa::1')).toBe('2001:db8::aaaa:0:0:1');
    expect(canonical6('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
  });

  it('§4.2.1 shorten as much as possible; §4.2.3 the longest run wins', () => {
    expect(canonical6('2001:db8:0:0:0:0:2:1')).toBe('2001:db8::2:1');
    expect(canonical6('2001:db8::0:1')).toBe('2001:db8::1');
    expect(canonical6('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1');
  });

  it('§2.3 and §4.3 lowercase', () => {
    for (const t of ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:AAAA', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:AaAa']) {
      expect(canonical6(t)).toBe('2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa');
    }
  });

  it('§5 IPv4-mapped addresses keep the dotted tail', () => {
    expect(canonical6('::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(canonical6('0:0:0:0:0:ffff:c000:0201')).toBe('::ffff:192.0.2.1');
  });

  it('all-zero, loopback and full-width values', () => {
    expect(canonical6('::')).toBe('::');
    expect(canonical6('0:0:0:0:0:0:0:0')).toBe('::');
    expect(canonical6('::1')).toBe('::1');
    expect(canonical6('1::')).toBe('1::');
    expect(parseIpv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe((1n << 128n) - 1n);
    expect(canonical6('fe80:0:0:0:0:0:0:0')).toBe('fe80::');
    expect(canonical6('::2:3:4:5:6:7:8')).toBe('0:2:3:4:5:6:7:8');
  });

  it.each([':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8::', '::1.2.3', '1.2.3.4::', '::1.2.3.4:5', 'fe80::1%eth0', '1:2:3:4:5:6:7::8:9', ':1::2', '1::2:'])(
    'rejects %j with InvalidAddressError',
    (text) => {
      expect(isValidIpv6(text)).toBe(false);
      expect(() => parseIpv6(text)).toThrow(InvalidAddressError);
    },
  );

  it('parseIp detects the family; formatIp round-trips', () => {
    expect(parseIp('10.1.2.3')).toEqual({ family: 4, value: 0x0a010203n });
    expect(parseIp('2001:db8::1')).toEqual({ family: 6, value: 0x20010db8000000000000000000000001n });
    expect(formatIp(parseIp('2001:DB8::0:1'))).toBe('2001:db8::1');
    expect(isValidIp('10.0.0.1')).toBe(true);
    expect(isValidIp('10.0.0.256')).toBe(false);
    expect(() => parseIp('nope')).toThrow(/invalid IP address "nope"/);
  });
});

describe('properties', () => {
  // Groups biased towards zero so that runs of zero groups (and ties) are common.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const v6 = fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => gs.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n));

  it('IPv6 formatting agrees with the WHATWG URL host serializer (an independent RFC 5952 implementation) and round-trips', () => {
    fc.assert(
      fc.property(v6, (value) => {
        const text = formatIpv6(value);
        expect(parseIpv6(text)).toBe(value);
        // Node's URL parser prints IPv6 hosts compressed per RFC 5952, but IPv4-mapped ones in hex.
        if (!text.startsWith('::ffff:') || !text.includes('.')) {
          expect(new URL(`http://[${text.toUpperCase()}]/`).hostname).toBe(`[${text}]`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv4 formatting round-trips for every 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        expect(parseIpv4(formatIpv4(value))).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('IPv6 with a dotted IPv4 tail and no "::" (RFC 4291 §2.2 example)', () => {
  it('parses the full form and rejects nine groups', () => {
    expect(canonical6('0:0:0:0:0:FFFF:129.144.52.38')).toBe('::ffff:129.144.52.38');
    expect(isValidIpv6('1:2:3:4:5:6:7:1.2.3.4')).toBe(false);
    expect(isValidIpv6('1:2:3:4:5:6:1.2.3.4')).toBe(true);
  });
});

describe('input that is not text', () => {
  it.each([undefined, null, 42, {}, ['1.2.3.4']])('is invalid, never a TypeError: %j', (value) => {
    const v = value as unknown as string;
    expect(isValidIp(v)).toBe(false);
    expect(isValidIpv4(v)).toBe(false);
    expect(isValidIpv6(v)).toBe(false);
    expect(() => parseIp(v)).toThrow(InvalidAddressError);
    expect(() => parseIpv4(v)).toThrow(InvalidAddressError);
    expect(() => parseIpv6(v)).toThrow(InvalidAddressError);
  });

  it('formatting refuses values out of range', () => {
    expect(() => formatIpv6(1n << 128n)).toThrow(RangeError);
    expect(() => formatIpv6(-1n)).toThrow(RangeError);
    expect(() => formatIpv4(2 ** 32)).toThrow(RangeError);
    expect(() => formatIpv4(-1)).toThrow(RangeError);
  });
});
