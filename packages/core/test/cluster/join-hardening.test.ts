/**
 * The join port under hostile clients (real TLS on loopback, a real
 * single-manager RaftStore): garbage bytes, an oversized length prefix, a
 * malformed request, slow clients (one byte a second), TLS handshakes that
 * never finish and requests that never come are each closed and counted —
 * never a crash — and a good join still succeeds alongside.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { RaftStore } from '../../src';
import { JoinServer, initClusterPki, joinCluster, joinTokenOf, type NodeCredentials } from '../../src/pki';
import { slowClients, type SlowClients } from '../../../../test-support/slow-clients';
import { until } from '../../../../test-support/wait';

const local = { host: '127.0.0.1', port: 0 };
const HANDSHAKE_MS = 1500;

describe('JoinServer under hostile clients', () => {
  let store: RaftStore;
  let server: JoinServer;
  let creds: NodeCredentials;
  let clients: SlowClients | undefined;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    store = await RaftStore.open({ id: 'm1', managers: [{ id: 'm1', raft: local, store: local }], electionTimeoutMs: 300, heartbeatIntervalMs: 50 });
    creds = (await initClusterPki(store, { clusterId: 'c1', nodeId: 'm1' })).credentials;
    server = await JoinServer.listen({ listen: local, store, credentials: () => creds, handshakeTimeoutMs: HANDSHAKE_MS, maxPendingHandshakes: 16 });
  }, 30_000);

  afterEach(() => {
    clients?.stop();
    clients = undefined;
    for (const s of sockets.splice(0)) s.destroy();
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  const goodJoin = async (nodeId: string): Promise<void> => {
    const r = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: server.address, nodeId, timeoutMs: 5000 });
    expect(r.nodeId).toBe(nodeId);
  };
  const closed = (s: net.Socket): Promise<void> => new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

  /** A TLS client that finishes its handshake and reads the server's hello. */
  async function tlsClient(): Promise<tls.TLSSocket> {
    const s = tls.connect({ host: '127.0.0.1', port: server.address.port, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    sockets.push(s);
    s.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      s.once('data', () => resolve());
      s.once('close', () => reject(new Error('closed before the hello')));
    });
    return s;
  }

  it('garbage bytes instead of a TLS handshake: closed and counted; a good join succeeds', async () => {
    const before = server.stats.tlsErrors;
    const s = net.connect(server.address.port, '127.0.0.1');
    sockets.push(s);
    s.on('error', () => undefined);
    s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4)));
    await closed(s);
    expect(server.stats.tlsErrors).toBeGreaterThan(before);
    await goodJoin('g1');
  });

  it('an oversized length prefix, a non-JSON frame and an invalid request after the handshake: closed and counted', async () => {
    const before = server.stats.malformed;
    const a = await tlsClient();
    a.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    const b = await tlsClient();
    b.write(Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('{{{{{')]));
    const c = await tlsClient();
    const body = Buffer.from(JSON.stringify({ t: 'join', token: 42 }));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    c.write(Buffer.concat([head, body]));
    await Promise.all([closed(a), closed(b), closed(c)]);
    expect(server.stats.malformed - before).toBe(3);
    await goodJoin('g2');
  });

  it('slow clients (1 byte/s), handshakes that never finish and requests that never come: closed after the timeout and counted, while a good join succeeds', async () => {
    const hsBefore = server.stats.handshakeTimeouts;
    const reqBefore = server.stats.requestTimeouts;
    clients = await slowClients(server.address.port, 5, { everyMs: 1000, maxMs: 20_000, prefix: Buffer.from([0x16, 0x03, 0x01]) });
    const silent = net.connect(server.address.port, '127.0.0.1'); // TCP only: its handshake never starts
    sockets.push(silent);
    silent.on('error', () => undefined);
    const idle = await tlsClient(); // handshake done, no request
    await goodJoin('g3'); // unaffected
    await until(async () => (await clients!.open()) === 0 && silent.destroyed && idle.destroyed, 'the slow connections closed', 15_000);
    expect(server.stats.handshakeTimeouts - hsBefore).toBeGreaterThanOrEqual(6);
    expect(server.stats.requestTimeouts - reqBefore).toBe(1);
    expect(server.openConnections).toBe(0);
  }, 30_000);

  it('1,000 slow connections from another process: each closed and counted, memory bounded, a good join succeeds during the flood', async () => {
    const flooded = await JoinServer.listen({ listen: local, store, credentials: () => creds, handshakeTimeoutMs: 3000 });
    try {
      const before = process.memoryUsage().rss;
      // A TLS record header announcing a 512-byte handshake record, then one byte per 200 ms: it never completes.
      clients = await slowClients(flooded.address.port, 1000, { everyMs: 200, maxMs: 20_000, prefix: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]) });
      await until(() => flooded.stats.connections >= 1000, '1,000 connections accepted', 15_000);
      expect(flooded.openConnections).toBeLessThanOrEqual(64 + 1); // maxPendingHandshakes (default 64); the rest shed
      const peak = process.memoryUsage().rss;
      // A good join during the flood (its connection may be shed by a later arrival: it tries again, a bounded number of times).
      let joined = false;
      for (let i = 0; !joined && i < 20; i++) {
        joined = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: flooded.address, nodeId: 'flood-ok', timeoutMs: 5000 }).then(
          () => true,
          () => false,
        );
      }
      expect(joined).toBe(true);
      const counted = (): number => flooded.stats.handshakeTimeouts + flooded.stats.shed + flooded.stats.tlsErrors;
      await until(() => counted() >= 1000, 'every slow connection closed and counted', 20_000);
      await until(async () => (await clients!.open()) === 0, 'the client side to see every connection closed');
      const grownMiB = (peak - before) / 2 ** 20;
      console.log(`join port, 1,000 slow TLS handshakes: rss grew ${grownMiB.toFixed(1)} MiB; ${flooded.stats.handshakeTimeouts} timeouts, ${flooded.stats.shed} shed`);
      expect(counted()).toBeLessThanOrEqual(1000 + 20); // each counted once (the joins' own connections may be shed too)
      expect(grownMiB).toBeLessThan(50);
    } finally {
      clients?.stop();
      await flooded.close();
    }
  }, 60_000);

  it('more connections waiting than maxPendingHandshakes: the oldest are shed', async () => {
    const before = server.stats.shed;
    for (let i = 0; i < 20; i++) {
      const s = net.connect(server.address.port, '127.0.0.1');
      s.on('error', () => undefined);
      sockets.push(s);
    }
    await until(() => server.stats.shed - before >= 4, 'four connections shed', 5000);
    await until(() => server.openConnections <= 16, 'at most 16 connections open', 5000);
    await goodJoin('g4');
  });
});
