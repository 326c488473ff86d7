import { describeWith } from '../test-support/capabilities';
import { etcdCapability, EtcdServer } from '../packages/core/test/etcd/etcd-server';
import { main } from './etcd-store';

// A real etcd-server on loopback (Debian's /usr/bin/etcd); CI runs this, a machine without etcd skips it with the reason.
describeWith(etcdCapability(), 'examples/etcd-store.ts', () => {
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await EtcdServer.start();
  }, 60_000);

  afterAll(async () => {
    await etcd?.stop();
  });

  it('runs a manager and a worker on etcd, pings and echoes UDP, then leaves no key behind', async () => {
    const report = await main(etcd.clientUrl);
    expect(report.udpReply).toBe('order #1');
    expect(report.keysWritten).toBeGreaterThan(10);
    expect(report.lines.join('\n')).not.toContain('FAILED');
    // Nothing left under the run's namespace.
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({ hosts: etcd.clientUrl });
    try {
      expect(await client.getAll().prefix(report.namespace).keys()).toEqual([]);
    } finally {
      client.close();
    }
  }, 60_000);
});
