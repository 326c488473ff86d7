import { MemoryStore, WeftNode } from '../../src';

/** A data plane that is never called: option checks fail before the node touches it. */
const f = async (): Promise<undefined> => undefined;
const dataPlane = { ensureNetwork: f, addLocalEndpoint: f, addRemoteEndpoint: f, programmed: f, close: f } as never;

describe('WeftNode options: dns', () => {
  it.each([
    [{ upstreams: [{ host: 'dns.example', port: 53 }] }, 'dns.upstreams.0.host'],
    [{ upstreams: [{ host: '192.0.2.53', port: 0 }] }, 'dns.upstreams.0.port'],
    [{ loopback: '10.0.0.1' }, 'dns.loopback'],
    [{ upstreamTimeoutMs: 0 }, 'dns.upstreamTimeoutMs'],
    [{ cache: true }, 'dns.cache'],
  ])('%j is refused naming %s', async (dns, field) => {
    await expect(WeftNode.start({ id: 'n1', role: 'manager', store: new MemoryStore(), dataPlane, dns: dns as never })).rejects.toMatchObject({
      name: 'InvalidOptionsError',
      field,
    });
  });
});
