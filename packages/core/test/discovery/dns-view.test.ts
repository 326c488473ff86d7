import { dnsScopeOf, serviceVipsOf, type DiscoveryRecords } from '../../src/discovery/dns-view';
import type { NetworkRecord, ServiceBackendRecord, ServiceRecord } from '../../src/records/schemas';

const network: NetworkRecord = {
  id: 'n1',
  name: 'front',
  driver: 'overlay',
  scope: 'swarm',
  vni: 4096,
  subnet: '10.0.1.0/24',
  gateway: '10.0.1.1',
  mtu: 1450,
  encrypted: false,
  attachable: true,
  internal: false,
  ingress: false,
  labels: {},
  createdAt: '2026-12-02T00:00:00.000Z',
  dnsAddress: '10.0.1.254',
};

const ep = (id: string, ip: string, name: string, aliases: string[] = []) => [id, { id, ip, name, aliases }] as const;

function service(id: string, name: string, mode: 'vip' | 'dnsrr', vip: string | null, networkId = 'n1'): ServiceRecord {
  return { id, name, mode, networks: [{ networkId, vip }], labels: {}, createdAt: '2026-12-02T00:00:00.000Z' };
}

function records(over: Partial<DiscoveryRecords> = {}): DiscoveryRecords {
  return {
    network,
    endpoints: new Map([ep('e1', '10.0.1.2', 'Web-1', ['www']), ep('e2', '10.0.1.3', 'web-2'), ep('e3', '10.0.1.4', 'db', ['www'])]),
    services: [service('s1', 'web', 'vip', '10.0.1.10'), service('s2', 'Cache', 'dnsrr', null), service('s3', 'elsewhere', 'vip', '10.0.2.10', 'n2')],
    backends: new Map<string, ServiceBackendRecord>([
      ['e1/s1', { state: 'up' }],
      ['e2/s1', { state: 'draining' }],
      ['e9/s1', { state: 'up' }], // its endpoint is gone: in no answer
      ['e2/s2', { state: 'up' }],
      ['e3/s2', { state: 'up' }],
    ]),
    ...over,
  };
}

describe('dnsScopeOf: names are a pure function of the records', () => {
  const scope = dnsScopeOf(records());

  it('answers endpoint names and aliases case-insensitively (indexed lowercase); an alias on two endpoints has both', () => {
    expect(scope.lookup('web-1')).toEqual({ ipv4: ['10.0.1.2'], ipv6: [], rotate: false });
    expect(scope.lookup('Web-1')).toBeUndefined(); // the server lowercases before asking
    expect(scope.lookup('www')?.ipv4).toEqual(['10.0.1.2', '10.0.1.4']);
    expect(scope.lookup('nope')).toBeUndefined();
  });

  it('a vip service resolves to its VIP on this network; tasks.<service> to its up backends whose endpoint exists', () => {
    expect(scope.lookup('web')).toEqual({ ipv4: ['10.0.1.10'], ipv6: [], rotate: false });
    expect(scope.lookup('tasks.web')).toEqual({ ipv4: ['10.0.1.2'], ipv6: [], rotate: true });
  });

  it('a dnsrr service resolves to its backends, rotating; a service on another network is not visible here', () => {
    expect(scope.lookup('cache')).toEqual({ ipv4: ['10.0.1.3', '10.0.1.4'], ipv6: [], rotate: true });
    expect(scope.lookup('tasks.cache')?.ipv4).toEqual(['10.0.1.3', '10.0.1.4']);
    expect(scope.lookup('elsewhere')).toBeUndefined();
    expect(scope.lookup('tasks.elsewhere')).toBeUndefined();
  });

  it('PTR: endpoint addresses and VIPs have names; other subnet addresses have none (local NXDOMAIN); outside is external', () => {
    expect(scope.reverse('10.0.1.2')).toEqual(['Web-1']);
    expect(scope.reverse('10.0.1.10')).toEqual(['web']);
    expect(scope.reverse('10.0.1.200')).toEqual([]);
    expect(scope.reverse('192.0.2.1')).toBeUndefined();
    expect(scope.reverse('2001:db8::1')).toBeUndefined();
  });

  it('a removed endpoint, backend or service is gone from every answer of the next scope', () => {
    const after = dnsScopeOf(
      records({
        endpoints: new Map([ep('e2', '10.0.1.3', 'web-2'), ep('e3', '10.0.1.4', 'db', ['www'])]),
        services: [service('s2', 'cache', 'dnsrr', null)],
        backends: new Map([['e3/s2', { state: 'up' }]]),
      }),
    );
    expect(after.lookup('web-1')).toBeUndefined();
    expect(after.lookup('www')?.ipv4).toEqual(['10.0.1.4']);
    expect(after.lookup('web')).toBeUndefined();
    expect(after.lookup('tasks.web')).toBeUndefined();
    expect(after.lookup('cache')?.ipv4).toEqual(['10.0.1.4']);
    expect(after.reverse('10.0.1.2')).toEqual([]);
  });
});

describe('serviceVipsOf', () => {
  it('lists each vip service with its backends (up and draining, endpoint present), sorted by address', () => {
    expect(serviceVipsOf(records())).toEqual([
      {
        vip: '10.0.1.10',
        backends: [
          { ip: '10.0.1.2', state: 'up' },
          { ip: '10.0.1.3', state: 'draining' },
        ],
      },
    ]);
  });

  it('a vip service with no backend left is not programmed', () => {
    expect(serviceVipsOf(records({ backends: new Map([['e9/s1', { state: 'up' }]]) }))).toEqual([]);
  });
});
