/**
 * The wire-level MAC / IPv4 helpers and the Internet checksum. IP and MAC
 * text (parseIpv4, formatMac, ...) is @weft/interface's and tested there;
 * these tests pin what vxlan adds on top: field errors for encoders, map keys,
 * group bits and bounds-checked byte access.
 */
import fc from 'fast-check';
import { formatMac, InvalidAddressError, parseIpv4, parseMac } from '@weft/interface';
import {
  addChecksum,
  finishChecksum,
  formatMacKey,
  internetChecksum,
  isBroadcastMac,
  isMulticastMac,
  macKey,
  macKeyOf,
  pseudoHeaderSum,
  readIpv4,
  writeIpv4,
  writeMac,
  InvalidFieldError,
  MalformedPacketError,
} from '../../src';

describe('MAC helpers', () => {
  test('writeMac writes either case at an offset', () => {
    const buf = new Uint8Array(9);
    writeMac('02:42:0A:2a:00:FF', buf, 3);
    expect(Array.from(buf)).toEqual([0, 0, 0, 0x02, 0x42, 0x0a, 0x2a, 0x00, 0xff]);
  });

  test('writeMac: malformed text or a short buffer is an InvalidFieldError naming the value', () => {
    for (const bad of ['', '02:42:0a:2a:00', '02-42-0a-2a-00-01', '02:42:0a:2a:00:0g', '02:42:0a:2a:00:011', ' 2:42:0a:2a:00:01']) {
      expect(() => writeMac(bad, new Uint8Array(6))).toThrow(InvalidFieldError);
      expect(() => writeMac(bad, new Uint8Array(6))).toThrow(`mac: address must look like "aa:bb:cc:dd:ee:ff", got ${JSON.stringify(bad)}`);
    }
    expect(() => writeMac('02:42:0a:2a:00:01', new Uint8Array(8), 3)).toThrow(/mac: buf too small: need 6 bytes at offset 3, buffer has 8/);
  });

  test('macKeyOf of malformed text is an InvalidAddressError naming the text', () => {
    expect(() => macKeyOf('02:42:0a:2a:00')).toThrow(InvalidAddressError);
    expect(() => macKeyOf('02:42:0a:2a:00')).toThrow('"02:42:0a:2a:00"');
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
  test('read / write at an offset', () => {
    const buf = new Uint8Array(7);
    writeIpv4('10.42.0.2', buf, 3);
    expect(Array.from(buf)).toEqual([0, 0, 0, 10, 42, 0, 2]);
    expect(readIpv4(buf, 3)).toBe(parseIpv4('10.42.0.2'));
    writeIpv4(0xc0000201, buf, 0);
    expect(readIpv4(buf, 0)).toBe(0xc0000201);
    expect(() => readIpv4(buf, 4)).toThrow(MalformedPacketError);
    expect(() => writeIpv4('10.0.0.1', buf, 4)).toThrow(InvalidFieldError);
  });

  test('writeIpv4: malformed text or an out-of-range number is an InvalidFieldError naming the value', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4']) {
      expect(() => writeIpv4(bad, new Uint8Array(4))).toThrow(`ipv4: address must be a dotted quad like "192.0.2.1", got ${JSON.stringify(bad)}`);
    }
    for (const bad of [-1, 2 ** 32, 1.5, NaN]) expect(() => writeIpv4(bad, new Uint8Array(4))).toThrow(InvalidFieldError);
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
