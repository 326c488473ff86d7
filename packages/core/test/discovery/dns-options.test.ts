/** DnsServer options and listen arguments are validated (InvalidOptionsError naming the field); typed errors. */
import { InvalidOptionsError, isWeftError } from '@weft/interface';
import { CoreError } from '../../src/errors';
import { DnsBindError, DnsServerClosedError, DnsServerError } from '../../src/discovery/dns-errors';
import { DnsServer } from '../../src/discovery/dns-server';
import { DEFAULT_DNS_MAX_TCP_CONNECTIONS, DEFAULT_DNS_TCP_IDLE_TIMEOUT_MS, DEFAULT_DNS_TTL_SECONDS, DEFAULT_DNS_UPSTREAM_TIMEOUT_MS, isLoopbackIp } from '../../src/discovery/dns-server-options';
import { reverseNameToIp } from '../../src/discovery/dns-reverse';
import { ServerRegistry, testScopes } from './helpers';

const registry = new ServerRegistry();
afterEach(() => registry.closeAll());
const scopeOf = testScopes().scopeOf;

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('DnsServer options', () => {
  it('has the documented defaults', () => {
    expect([DEFAULT_DNS_UPSTREAM_TIMEOUT_MS, DEFAULT_DNS_TTL_SECONDS, DEFAULT_DNS_MAX_TCP_CONNECTIONS, DEFAULT_DNS_TCP_IDLE_TIMEOUT_MS]).toEqual([2000, 0, 128, 10_000]);
    expect(() => registry.create({ scopeOf })).not.toThrow();
  });

  it.each<[string, Record<string, unknown>]>([
    ['scopeOf', { scopeOf: undefined }],
    ['scopeOf', { scopeOf: 'net1' }],
    ['upstreams', { upstreams: '127.0.0.1:53' }],
    ['upstreams.0.host', { upstreams: [{ host: 'dns.google', port: 53 }] }],
    ['upstreams.0.port', { upstreams: [{ host: '127.0.0.1', port: 0 }] }],
    ['upstreams.1.port', { upstreams: [{ host: '127.0.0.1', port: 53 }, { host: '::1', port: 70000 }] }],
    ['upstreams.0.tls', { upstreams: [{ host: '127.0.0.1', port: 53, tls: true }] }],
    ['upstreams', { upstreams: Array.from({ length: 9 }, () => ({ host: '127.0.0.1', port: 53 })) }],
    ['upstreamTimeoutMs', { upstreamTimeoutMs: 0 }],
    ['upstreamTimeoutMs', { upstreamTimeoutMs: 1.5 }],
    ['ttlSeconds', { ttlSeconds: -1 }],
    ['ttlSeconds', { ttlSeconds: 2 ** 31 }],
    ['maxTcpConnections', { maxTcpConnections: 0 }],
    ['tcpIdleTimeoutMs', { tcpIdleTimeoutMs: 10 }],
    ['maxTcpBufferBytes', { maxTcpBufferBytes: 1000 }],
    ['timers', { timers: { setTimeout } }],
    ['timers', { timers: Date }],
    ['udpSocketFactory', { udpSocketFactory: 'udp4' }],
    ['cacheSize', { cacheSize: 100 }],
  ])('rejects a bad %s', (field, bad) => {
    const err = errorOf(() => new DnsServer({ scopeOf, ...bad } as never));
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(err).toMatchObject({ field });
    expect((err as Error).message).toContain(`DnsServer: option "${field}"`);
  });

  it('rejects a missing options object', () => {
    expect(errorOf(() => new DnsServer(undefined as never))).toMatchObject({ field: 'scopeOf' });
  });

  it.each<[string, unknown, unknown]>([
    ['host', { host: '0.0.0.0', port: 0 }, 'net1'],
    ['host', { host: '10.0.0.1', port: 0 }, 'net1'],
    ['host', { host: '::', port: 0 }, 'net1'],
    ['host', { host: 'localhost', port: 0 }, 'net1'],
    ['host', { host: '::ffff:127.0.0.1', port: 0 }, 'net1'],
    ['host', { port: 0 }, 'net1'],
    ['port', { host: '127.0.0.1', port: 65536 }, 'net1'],
    ['port', { host: '127.0.0.1' }, 'net1'],
    ['networkId', { host: '127.0.0.1', port: 0 }, ''],
    ['reuse', { host: '127.0.0.1', port: 0, reuse: true }, 'net1'],
  ])('listen rejects a bad %s', async (field, at, networkId) => {
    const server = registry.create({ scopeOf });
    const err = await server.listen(networkId as string, at as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect(err).toMatchObject({ field });
    expect(server.listening()).toEqual([]);
  });

  it('knows loopback: 127.0.0.0/8 and ::1 only', () => {
    expect(['127.0.0.1', '127.255.0.9', '::1', '0:0::1'].every(isLoopbackIp)).toBe(true);
    expect(['128.0.0.1', '126.255.255.255', '::', '::2', 'fe80::1', 'x'].some(isLoopbackIp)).toBe(false);
  });
});

describe('DNS errors', () => {
  it('are CoreErrors with a fixed name and code', () => {
    const cause = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const bind = new DnsBindError('net1', { host: '127.0.0.1', port: 53 }, 'udp', { cause });
    expect(bind).toBeInstanceOf(DnsServerError);
    expect(bind).toBeInstanceOf(CoreError);
    expect(bind).toMatchObject({ name: 'DnsBindError', code: 'ERR_DNS_BIND', networkId: 'net1', socket: 'udp', cause });
    expect(bind.message).toBe('dns: cannot listen for network "net1" on udp 127.0.0.1:53: listen EADDRINUSE');
    expect(isWeftError(bind, 'ERR_DNS_BIND')).toBe(true);
    expect(new DnsServerClosedError()).toMatchObject({ name: 'DnsServerClosedError', code: 'ERR_DNS_SERVER_CLOSED' });
  });
});

describe('reverseNameToIp', () => {
  it.each<[string, string | undefined]>([
    ['4.3.2.1.in-addr.arpa', '1.2.3.4'],
    ['0.0.0.0.in-addr.arpa', '0.0.0.0'],
    ['255.255.255.255.in-addr.arpa', '255.255.255.255'],
    ['256.0.0.1.in-addr.arpa', undefined],
    ['01.0.0.1.in-addr.arpa', undefined],
    ['3.2.1.in-addr.arpa', undefined],
    ['5.4.3.2.1.in-addr.arpa', undefined],
    ['a.b.c.d.in-addr.arpa', undefined],
    ['in-addr.arpa', undefined],
    ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa', '::1'],
    ['b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa', '4321:0:1:2:3:4:567:89ab'],
    ['0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa', undefined],
    ['g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa', undefined],
    ['10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa', undefined],
    ['web', undefined],
  ])('%s → %s', (name, ip) => {
    expect(reverseNameToIp(name)).toBe(ip);
  });
});
