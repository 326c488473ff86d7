import {
  InvalidCidrError,
  broadcastAddress,
  cidrSize,
  contains,
  firstAddress,
  firstUsable,
  formatCidr,
  formatIp,
  isValidCidr,
  lastAddress,
  lastUsable,
  networkOf,
  overlaps,
  parseCidr,
  parseIp,
  splitCidr,
  subnetAt,
  subnetCount,
} from '../src/index';

const ip = (c: string, f: (x: ReturnType<typeof parseCidr>) => { family: 4 | 6; value: bigint } | undefined): string | undefined => {
  const r = f(parseCidr(c));
  return r === undefined ? undefined : formatIp(r);
};

describe('CIDR parsing', () => {
  it('parses IPv4 and IPv6 and formats canonically', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ family: 4, address: 0x0a000000n, prefix: 8 });
    expect(formatCidr(parseCidr('2001:DB8:0::/32'))).toBe('2001:db8::/32');
    expect(formatCidr(parseCidr('0.0.0.0/0'))).toBe('0.0.0.0/0');
    expect(formatCidr(parseCidr('::/0'))).toBe('::/0');
  });

  it('keeps host bits unless strict', () => {
    expect(formatCidr(networkOf(parseCidr('10.0.0.5/24')))).toBe('10.0.0.0/24');
    expect(() => parseCidr('10.0.0.5/24', { strict: true })).toThrow('invalid CIDR "10.0.0.5/24": host bits are set; the network is 10.0.0.0/24');
    expect(isValidCidr('10.0.0.5/24')).toBe(true);
    expect(isValidCidr('10.0.0.5/24', { strict: true })).toBe(false);
  });

  it.each([
    ['10.0.0.0/33', 'prefix length 33 exceeds 32'],
    ['10.0.0.0', 'missing "/prefix"'],
    ['10.0.0.0/', 'bad prefix length ""'],
    ['10.0.0.0/08', 'bad prefix length "08"'],
    ['10.0.0.0/-1', 'bad prefix length "-1"'],
    ['10.0.0/8', 'bad address "10.0.0"'],
    ['2001:db8::/129', 'prefix length 129 exceeds 128'],
    ['2001:db8:::/64', 'bad address'],
    ['/24', 'bad address ""'],
    ['10.0.0.0/8/8', 'bad prefix length "8/8"'],
  ])('rejects %j: %s', (text, reason) => {
    let err: unknown;
    try {
      parseCidr(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidCidrError);
    expect((err as InvalidCidrError).name).toBe('InvalidCidrError');
    expect((err as InvalidCidrError).text).toBe(text);
    expect((err as Error).message).toContain(JSON.stringify(text));
    expect((err as Error).message).toContain(reason);
    expect(isValidCidr(text)).toBe(false);
  });
});

describe('CIDR input that is not text', () => {
  it.each([[42], [null], [undefined], [{}]])('rejects %p with InvalidCidrError, not a TypeError', (value) => {
    expect(() => parseCidr(value as never)).toThrow(InvalidCidrError);
    expect(() => parseCidr(value as never)).toThrow('expected CIDR text');
    expect(isValidCidr(value as never)).toBe(false);
  });

  it('treats missing or null options as non-strict', () => {
    expect(parseCidr('10.0.0.5/24', null as never).prefix).toBe(24);
    expect(isValidCidr('10.0.0.5/24', null as never)).toBe(true);
  });
});

describe('CIDR math', () => {
  it('network, broadcast, first and last usable for IPv4', () => {
    expect(ip('10.0.0.0/24', firstAddress)).toBe('10.0.0.0');
    expect(ip('10.0.0.0/24', lastAddress)).toBe('10.0.0.255');
    expect(ip('10.0.0.0/24', broadcastAddress)).toBe('10.0.0.255');
    expect(ip('10.0.0.0/24', firstUsable)).toBe('10.0.0.1');
    expect(ip('10.0.0.0/24', lastUsable)).toBe('10.0.0.254');
    expect(ip('10.0.0.4/30', firstUsable)).toBe('10.0.0.5');
    expect(ip('10.0.0.4/30', lastUsable)).toBe('10.0.0.6');
    // RFC 3021: a /31 has no network or broadcast address.
    expect(ip('10.0.0.4/31', broadcastAddress)).toBeUndefined();
    expect(ip('10.0.0.4/31', firstUsable)).toBe('10.0.0.4');
    expect(ip('10.0.0.4/31', lastUsable)).toBe('10.0.0.5');
    expect(ip('10.0.0.4/32', firstUsable)).toBe('10.0.0.4');
    expect(ip('10.0.0.4/32', lastUsable)).toBe('10.0.0.4');
    expect(cidrSize(parseCidr('10.0.0.0/8'))).toBe(16777216n);
  });

  it('IPv6: no broadcast; Subnet-Router anycast reserved except /127 and /128', () => {
    expect(ip('2001:db8::/64', broadcastAddress)).toBeUndefined();
    expect(ip('2001:db8::/64', firstUsable)).toBe('2001:db8::1');
    expect(ip('2001:db8::/64', lastUsable)).toBe('2001:db8::ffff:ffff:ffff:ffff');
    expect(ip('2001:db8::/127', firstUsable)).toBe('2001:db8::');
    expect(cidrSize(parseCidr('2001:db8::/64'))).toBe(1n << 64n);
  });

  it('contains and overlaps', () => {
    const c = parseCidr('10.0.0.0/16');
    expect(contains(c, parseIp('10.0.255.255'))).toBe(true);
    expect(contains(c, parseIp('10.1.0.0'))).toBe(false);
    expect(contains(c, parseCidr('10.0.3.0/24'))).toBe(true);
    expect(contains(c, parseCidr('10.0.0.0/15'))).toBe(false);
    expect(contains(c, parseIp('::a00:1'))).toBe(false);
    expect(overlaps(c, parseCidr('10.0.0.0/8'))).toBe(true);
    expect(overlaps(parseCidr('10.0.0.0/8'), c)).toBe(true);
    expect(overlaps(c, parseCidr('10.1.0.0/16'))).toBe(false);
    expect(overlaps(parseCidr('10.0.0.0/25'), parseCidr('10.0.0.128/25'))).toBe(false);
    expect(overlaps(parseCidr('2001:db8::/32'), parseCidr('2001:db8:1::/48'))).toBe(true);
    expect(overlaps(parseCidr('0.0.0.0/0'), parseCidr('::/0'))).toBe(false);
  });

  it('splits into subnets lazily and by index', () => {
    const c = parseCidr('10.0.0.0/22');
    expect([...splitCidr(c, 24)].map(formatCidr)).toEqual(['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']);
    expect(subnetCount(parseCidr('10.0.0.0/8'), 24)).toBe(65536n);
    expect(formatCidr(subnetAt(parseCidr('10.0.0.0/8'), 24, 65535n))).toBe('10.255.255.0/24');
    const it6 = splitCidr(parseCidr('2001:db8::/32'), 64);
    expect(formatCidr(it6.next().value as never)).toBe('2001:db8::/64');
    expect(formatCidr(it6.next().value as never)).toBe('2001:db8:0:1::/64');
    expect(() => splitCidr(c, 21)).toThrow(InvalidCidrError);
    expect(() => splitCidr(c, 33)).toThrow('cannot split into /33');
    expect(() => subnetAt(c, 24, 4n)).toThrow('subnet index 4 out of range 0..3');
  });
});
