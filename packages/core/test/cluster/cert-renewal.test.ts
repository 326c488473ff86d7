/**
 * Certificate renewal under traffic with a lifetime of a few seconds: a
 * worker reads through a RemoteStore over mutual TLS in a loop while a
 * CertificateRenewer renews its certificate (each renewal deny-lists the
 * previous serial, which closes the live connection through the DenyList and
 * `recheckPeers`). No read fails; the store server sees every new serial on
 * a handshake, and never an older serial once a newer one was accepted.
 */
import type { TLSSocket } from 'node:tls';
import { RaftStore, RemoteStore, StoreServer } from '../../src';
import {
  CertificateRenewer,
  DenyList,
  JoinServer,
  controlTlsFor,
  initClusterPki,
  joinCluster,
  joinTokenOf,
  parseNodeCertificate,
  peerIdentity,
  renewCertificate,
  type NodeCredentials,
} from '../../src/pki';
import { until } from '../../../../test-support/wait';

const local = { host: '127.0.0.1', port: 0 };

describe('CertificateRenewer', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('renews a 4-second certificate repeatedly under a loop of reads: no read fails, new serials are seen on new handshakes', async () => {
    const store = await RaftStore.open({ id: 'm1', managers: [{ id: 'm1', raft: local, store: local }], electionTimeoutMs: 300, heartbeatIntervalMs: 50 });
    cleanup.push(() => store.close());
    const manager = (await initClusterPki(store, { clusterId: 'c1', nodeId: 'm1' })).credentials;
    const joinServer = await JoinServer.listen({ listen: local, store, credentials: () => manager, certLifetimeMs: 4000 });
    cleanup.push(() => joinServer.close());

    // The manager's store server: deny list consulted at every handshake, live connections re-checked on every change.
    let storeServer: StoreServer | undefined;
    const list = await DenyList.open({ store, onChange: () => storeServer?.recheckPeers() });
    cleanup.push(() => list.close());
    const accepted: string[] = [];
    const base = controlTlsFor(manager, { denied: (s) => list.has(s) });
    storeServer = await StoreServer.listen({
      store,
      listen: local,
      tls: {
        options: base.options,
        identify: (socket: TLSSocket) => {
          const peer = base.identify(socket);
          const serial = peerIdentity(socket).serial;
          if (accepted[accepted.length - 1] !== serial) accepted.push(serial);
          return peer;
        },
      },
    });
    cleanup.push(() => storeServer!.close());

    const joined = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: joinServer.address, nodeId: 'w1', timeoutMs: 5000 });
    const id0 = parseNodeCertificate(joined.credentials.certPem);
    expect(id0.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(4000);
    const remote = new RemoteStore({ endpoints: [storeServer.address], tls: controlTlsFor(joined.credentials), requestTimeoutMs: 8000, reconnectMs: 20 });
    cleanup.push(() => remote.close());
    await store.put('weft/cluster', JSON.stringify({ id: 'c1' }));

    const renewed: string[] = [id0.serial];
    const errors: unknown[] = [];
    const renewer = CertificateRenewer.start({
      credentials: joined.credentials,
      renew: (c: NodeCredentials) => renewCertificate({ managers: [joinServer.address], credentials: c, timeoutMs: 3000 }),
      onRenewed: (c) => {
        remote.setTls(controlTlsFor(c));
        renewed.push(parseNodeCertificate(c.certPem).serial);
      },
      onError: (e) => errors.push(e),
      renewWhenRemaining: 0.5,
      retryInitialMs: 100,
    });
    cleanup.push(() => renewer.stop());

    let reads = 0;
    let failed = 0;
    const stopAt = Date.now() + 9000;
    while (Date.now() < stopAt && reads < 100_000) {
      try {
        const kv = await remote.get('weft/cluster');
        if (kv === undefined) failed++;
      } catch {
        failed++;
      }
      reads++;
      await new Promise((r) => setTimeout(r, 10));
    }
    // (The renewer keeps running through the checks below: a stopped renewer's 4-second certificate would expire under them.)
    expect(failed).toBe(0);
    expect(errors).toEqual([]);
    expect(renewer.renewals).toBeGreaterThanOrEqual(2);
    expect(new Set(renewed).size).toBe(renewed.length);

    // The latest certificate is used on a new connection.
    remote.dropConnection();
    expect(await remote.get('weft/cluster')).toBeDefined();
    await until(() => accepted[accepted.length - 1] === renewed[renewed.length - 1], 'the latest serial on a handshake', 5000);
    // Every renewed serial was presented on a handshake after its renewal, in order, never an older one after a newer.
    const order = accepted.map((s) => renewed.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
    for (const s of renewed.slice(1)) expect(accepted).toContain(s);
    // Every replaced serial is on the deny list.
    for (const s of renewed.slice(0, -1)) expect(list.has(s)).toBe(true);

    // Renewing on demand (as after a promote/demote), outside the schedule.
    const count = renewer.renewals;
    const onDemand = await renewer.renewNow();
    renewer.stop();
    // (A scheduled renewal may have run alongside: at least this one happened, and it was handed on.)
    expect(renewer.renewals).toBeGreaterThanOrEqual(count + 1);
    expect(renewed).toContain(parseNodeCertificate(onDemand.certPem).serial);
  }, 40_000);

  it('retries a failing renewal with back-off, a bounded number of times, then reports and stops', async () => {
    const store = await RaftStore.open({ id: 'm1', managers: [{ id: 'm1', raft: local, store: local }], electionTimeoutMs: 300, heartbeatIntervalMs: 50 });
    cleanup.push(() => store.close());
    const creds = (await initClusterPki(store, { clusterId: 'c1', nodeId: 'm1', certLifetimeMs: 2000 })).credentials;
    const reports: boolean[] = [];
    let calls = 0;
    const renewer = CertificateRenewer.start({
      credentials: creds,
      renew: async () => {
        calls++;
        throw new Error('manager unreachable');
      },
      onRenewed: () => undefined,
      onError: (_e, willRetry) => reports.push(willRetry),
      retryInitialMs: 20,
      retryMaxMs: 50,
      maxAttempts: 3,
      jitter: 0,
    });
    cleanup.push(() => renewer.stop());
    await until(() => reports.length === 3, 'three failed attempts', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(3);
    expect(reports).toEqual([true, true, false]);
    expect(renewer.renewals).toBe(0);
  }, 20_000);
});
