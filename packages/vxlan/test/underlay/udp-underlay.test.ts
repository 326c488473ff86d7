import { InvalidOptionsError, UdpUnderlay, UnderlayClosedError, type SocketAddress } from '../../src';

function next(u: UdpUnderlay): Promise<[Uint8Array, SocketAddress]> {
  return new Promise((resolve) => u.onReceive((p, from) => resolve([p, from])));
}

describe('UdpUnderlay', () => {
  it.each([
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ])('exchanges datagrams over %s loopback', async (_family, host) => {
    const a = await UdpUnderlay.bind({ host, port: 0 });
    const b = await UdpUnderlay.bind({ host, port: 0 });
    try {
      expect(a.local.host).toBe(host);
      expect(a.local.port).toBeGreaterThan(0);
      const got = next(b);
      a.send(Uint8Array.of(1, 2, 3, 4), b.local);
      const [packet, from] = await got;
      expect([...packet]).toEqual([1, 2, 3, 4]);
      expect(from).toEqual(a.local);
      expect(a.counters.sent).toBe(1);
      expect(b.counters.received).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('binds port 4789 by default and reports EADDRINUSE from bind', async () => {
    const a = await UdpUnderlay.bind({ host: '127.0.0.3' });
    try {
      expect(a.local.port).toBe(4789);
      await expect(UdpUnderlay.bind({ host: '127.0.0.3' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await a.close();
    }
  });

  it('counts send errors instead of throwing, throws after close, closes idempotently', async () => {
    const a = await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 });
    a.send(new Uint8Array(1), { host: '127.0.0.1', port: 70000 });
    expect(a.counters.sendErrors).toBe(1);
    const p1 = a.close();
    expect(a.close()).toBe(p1);
    await p1;
    expect(() => a.send(new Uint8Array(1), { host: '127.0.0.1', port: 9 })).toThrow(UnderlayClosedError);
  });

  it('rejects bad options naming the field', async () => {
    await expect(UdpUnderlay.bind({ host: 'localhost' })).rejects.toThrow(InvalidOptionsError);
    await expect(UdpUnderlay.bind({ host: 'localhost' })).rejects.toThrow(/option "host" must be an IPv4 or IPv6 literal \(got "localhost"\)/);
    await expect(UdpUnderlay.bind({ port: 65536 })).rejects.toMatchObject({ field: 'port' });
  });
});
