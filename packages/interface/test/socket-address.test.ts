import fc from 'fast-check';
import {
  InvalidAddressError,
  formatMac,
  formatSocketAddress,
  isValidMac,
  macForIpv4,
  parseIpv4,
  parseMac,
  parseSocketAddress,
  readIpv6,
  parseIpv6,
  sameSocketAddress,
  toSocketAddress,
  writeIpv6,
} from '../src/index';

describe('socket addresses', () => {
  it.each([
    ['127.0.0.1:4789', { host: '127.0.0.1', port: 4789 }],
    ['[::1]:7000', { host: '::1', port: 7000 }],
    ['10.0.0.1:0', { host: '10.0.0.1', port: 0 }],
  ])('parses %s and formats it back', (text, address) => {
    expect(parseSocketAddress(text)).toEqual(address);
    expect(formatSocketAddress(address)).toBe(text);
    expect(toSocketAddress(text)).toEqual(address);
    expect(toSocketAddress(address)).toBe(address);
  });

  it.each(['localhost:80', '127.0.0.1', '::1:80', '[::1]80', '1.2.3.4:65536', '1.2.3.4:-1', '1.2.3.4:8a', '[1.2.3.4:5'])(
    'rejects %j with InvalidAddressError',
    (text) => {
      expect(() => parseSocketAddress(text)).toThrow(InvalidAddressError);
      expect(() => parseSocketAddress(text)).toThrow(/invalid socket address/);
    },
  );

  it('compares IPv6 hosts canonically', () => {
    expect(sameSocketAddress({ host: '::1', port: 1 }, { host: '0:0:0::1', port: 1 })).toBe(true);
    expect(sameSocketAddress({ host: '::1', port: 1 }, { host: '::1', port: 2 })).toBe(false);
    expect(sameSocketAddress({ host: '127.0.0.1', port: 1 }, { host: '127.0.0.2', port: 1 })).toBe(false);
  });
});

describe('MAC text', () => {
  it('parses either case and formats lowercase', () => {
    expect(formatMac(parseMac('02:42:0A:00:00:FF'))).toBe('02:42:0a:00:00:ff');
    expect(isValidMac('02:42:0a:00:00:ff')).toBe(true);
  });

  it.each(['', '02:42:0a:00:00', '02-42-0a-00-00-ff', '02:42:0a:00:00:fg', '02:42:0a:00:00:ff:'])('rejects %j', (text) => {
    expect(isValidMac(text)).toBe(false);
    expect(() => parseMac(text)).toThrow(InvalidAddressError);
  });

  it('derives Docker MACs from IPv4 addresses (02:42 + the four bytes)', () => {
    expect(macForIpv4(parseIpv4('10.0.0.2'))).toBe('02:42:0a:00:00:02');
    expect(macForIpv4(parseIpv4('192.168.255.1'))).toBe('02:42:c0:a8:ff:01');
  });

  it('round-trips every byte pattern', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
        expect(parseMac(formatMac(b))).toEqual(b);
      }),
    );
  });
});

describe('IPv6 bytes', () => {
  it('writes and reads network order', () => {
    const v = parseIpv6('2001:db8::1');
    const buf = new Uint8Array(18);
    writeIpv6(v, buf, 1);
    expect(Array.from(buf.subarray(1, 5))).toEqual([0x20, 0x01, 0x0d, 0xb8]);
    expect(buf[16]).toBe(1);
    expect(readIpv6(buf, 1)).toBe(v);
    expect(() => readIpv6(buf, 3)).toThrow(RangeError);
  });
});
