/**
 * `weft join`'s head start (`startJoin`): the exchange with a manager begins
 * before the node's modules load, and only when the start would not be
 * refused anyway; its outcome is the exchange's, and a refusal is never an
 * unhandled rejection.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftStore } from '../../src';
import { JoinServer, JoinTokenRejectedError, initClusterPki, joinTokenOf, verifyNodeCertificate } from '../../src/pki';
import { startJoin } from '../../src/daemon/early-join';
import { rejectionOf } from '../cluster/pki-helpers';

const local = { host: '127.0.0.1', port: 0 };

describe('startJoin', () => {
  let store: RaftStore;
  let server: JoinServer;
  let dir: string;
  let manager: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    store = await RaftStore.open({ id: 'm1', managers: [{ id: 'm1', raft: local, store: local }], electionTimeoutMs: 300, heartbeatIntervalMs: 50 });
    const init = await initClusterPki(store, { clusterId: 'c1', nodeId: 'm1' });
    server = await JoinServer.listen({
      listen: local,
      store,
      credentials: () => init.credentials,
      registry: () => [{ id: 'm1', raft: { host: '127.0.0.1', port: 4243 }, store: { host: '127.0.0.1', port: 4242 } }],
    });
    manager = `${server.address.host}:${server.address.port}`;
    dir = mkdtempSync(join(tmpdir(), 'weft-early-join-'));
  }, 30_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('joins: the certificate names the node, and the registry comes with it', async () => {
    const token = await joinTokenOf(store, 'worker');
    const joining = startJoin({ dataDir: join(dir, 'w1'), token, manager, nodeId: 'w1' });
    expect(joining).toBeDefined();
    const r = await joining!;
    expect([r.nodeId, r.role]).toEqual(['w1', 'worker']);
    expect((await verifyNodeCertificate(r.credentials.certPem, r.credentials.caPem)).nodeId).toBe('w1');
    expect(r.registry).toEqual([{ id: 'm1', raft: { host: '127.0.0.1', port: 4243 }, store: { host: '127.0.0.1', port: 4242 } }]);
  });

  it('does not start when the start would be refused anyway: nothing is asked of the manager', async () => {
    const token = await joinTokenOf(store, 'worker');
    const before = server.stats.connections;
    const holding = join(dir, 'holding');
    rmSync(holding, { recursive: true, force: true });
    mkdirSync(holding, { recursive: true });
    writeFileSync(join(holding, 'node.json'), '{"not":"a node state"}');
    expect(startJoin({ dataDir: holding, token, manager })).toBeUndefined();
    expect(startJoin({ dataDir: join(dir, 'x1'), token, manager: 'no-port' })).toBeUndefined();
    expect(startJoin({ dataDir: join(dir, 'x2'), token, manager: '127.0.0.1:70000' })).toBeUndefined();
    expect(startJoin({ dataDir: join(dir, 'x3'), token, manager, nodeId: 'no/slash' })).toBeUndefined();
    expect(server.stats.connections).toBe(before);
  });

  it('a refused join rejects with the typed error when awaited, and is no unhandled rejection before', async () => {
    const token = await joinTokenOf(store, 'worker');
    const joining = startJoin({ dataDir: join(dir, 'w2'), token: token.slice(0, -4) + 'aaaa', manager, nodeId: 'w2' });
    expect(joining).toBeDefined();
    // Nobody awaits it for a while (the CLI is loading modules meanwhile).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(unhandled).toEqual([]);
    expect(await rejectionOf(joining!)).toBeInstanceOf(JoinTokenRejectedError);
  });
});
