/**
 * Joining a cluster and renewing certificates over real TLS on loopback,
 * against a real (single-manager) RaftStore: the cluster PKI in the store
 * (init race, workers cannot read it), joins with the worker and manager
 * tokens, every refusal with its typed error on the client and nothing
 * written to the store, renewal (role read from the store, previous serial
 * deny-listed), and the deny list closing a live store connection.
 */
import { KeyLayout, PermissionDeniedError, RaftStore, RemoteStore, StoreServer, workerStorePolicy, NodeRemovedError } from '../../src';
import {
  CertificateExpiredError,
  CertificateRevokedError,
  ClusterCa,
  DenyList,
  InvalidJoinTokenError,
  JoinFailedError,
  JoinRoleMismatchError,
  JoinServer,
  JoinTokenCaMismatchError,
  JoinTokenRejectedError,
  NodeIdTakenError,
  controlTlsFor,
  createCsr,
  exportNodeKeyPem,
  generateNodeKey,
  initClusterPki,
  joinCluster,
  joinTokenOf,
  loadClusterPki,
  parseNodeCertificate,
  pruneDeniedSerials,
  renewCertificate,
  rotateJoinToken,
  verifyNodeCertificate,
  type NodeCredentials,
} from '../../src/pki';
import * as tls from 'node:tls';
import { StoreUnavailableError, textOf } from '@weft/interface';
import { rejectionOf } from './pki-helpers';
import { checkMembership } from '../../src/cluster/join/join-client';
import { until } from '../../../../test-support/wait';

const DAY = 24 * 3600_000;
const local = { host: '127.0.0.1', port: 0 };

describe('join handshake and certificate lifecycle', () => {
  let store: RaftStore;
  let server: JoinServer;
  let managerCreds: NodeCredentials;
  const cleanup: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    store = await RaftStore.open({ id: 'm1', managers: [{ id: 'm1', raft: local, store: local }], electionTimeoutMs: 300, heartbeatIntervalMs: 50 });
    // The CA is made 3 days back, so a certificate that has already expired can be issued from it.
    const init = await initClusterPki(store, { clusterId: 'c1', nodeId: 'm1', now: () => Date.now() - 3 * DAY });
    expect(init.created).toBe(true);
    managerCreds = init.credentials;
    server = await JoinServer.listen({
      listen: local,
      store,
      credentials: () => managerCreds,
      managers: () => [{ host: '127.0.0.1', port: 4242 }],
      registry: () => [{ id: 'm1', raft: { host: '127.0.0.1', port: 4243 }, store: { host: '127.0.0.1', port: 4242 } }],
    });
  }, 30_000);

  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  /** Every key/value under `weft/`, and the store revision: what a refusal must leave unchanged. */
  async function snapshot(): Promise<{ revision: number; kvs: string[] }> {
    const r = await store.range({ prefix: 'weft/' });
    return { revision: r.revision, kvs: r.kvs.map((kv) => `${kv.key}=${textOf(kv)}@${kv.modRevision}`) };
  }

  it('init is race-safe: two managers initialising at once make one CA; a repeated init reuses it', async () => {
    const [a, b] = await Promise.all([
      initClusterPki(store, { keyPrefix: 'race/', clusterId: 'c2', nodeId: 'ma' }),
      initClusterPki(store, { keyPrefix: 'race/', clusterId: 'c2', nodeId: 'mb' }),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.caDigest).toBe(b.caDigest);
    expect(a.credentials.caPem).toBe(b.credentials.caPem);
    const ca = await loadClusterPki(store, { keyPrefix: 'race/' });
    expect(ca.digest).toBe(a.caDigest);
    // Both node certificates verify against the one CA.
    expect((await verifyNodeCertificate(a.credentials.certPem, ca.certificatePem)).nodeId).toBe('ma');
    expect((await verifyNodeCertificate(b.credentials.certPem, ca.certificatePem)).nodeId).toBe('mb');
    expect((await joinTokenOf(store, 'worker', { keyPrefix: 'race/' })).startsWith(`WEFT-1-${ca.digest}-`)).toBe(true);
  });

  it('the CA key, join tokens and node certificate records are not readable by workers; the deny list is', async () => {
    const policy = workerStorePolicy(new KeyLayout('weft/'));
    const worker = { nodeId: 'w1', role: 'worker' as const };
    for (const key of ['weft/pki/ca', 'weft/pki/join-tokens/worker', 'weft/pki/join-tokens/manager', 'weft/pki/node-certs/m1']) {
      await expect(policy(worker, { t: 'get', id: 1, key }, store)).rejects.toBeInstanceOf(PermissionDeniedError);
    }
    await expect(policy(worker, { t: 'range', id: 1, keys: { prefix: 'weft/pki/' } }, store)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(policy(worker, { t: 'watch', id: 1, keys: { prefix: 'weft/pki/join-tokens/' } }, store)).rejects.toBeInstanceOf(PermissionDeniedError);
    // The deny list is not secret: every node may watch it (a worker refuses a deny-listed manager too).
    await expect(policy(worker, { t: 'watch', id: 1, keys: { prefix: 'weft/denied-serials/' } }, store)).resolves.toBeUndefined();
    const write = (key: string) => ({ t: 'txn' as const, id: 1, compare: [], success: [{ op: 'put' as const, key, value: Buffer.from('{}').toString('base64') }], failure: [] });
    for (const key of ['weft/denied-serials/00', 'weft/pki/join-tokens/worker', 'weft/pki/node-certs/w1']) {
      await expect(policy(worker, write(key), store)).rejects.toBeInstanceOf(PermissionDeniedError);
    }
    // A manager may.
    await expect(policy({ nodeId: 'm1', role: 'manager' }, { t: 'get', id: 1, key: 'weft/pki/ca' }, store)).resolves.toBeUndefined();
  });

  it('a worker and a manager join with their tokens and get certificates naming their id and role', async () => {
    const caPem = managerCreds.caPem;
    const w = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: server.address, nodeId: 'w1', timeoutMs: 5000 });
    expect(w.nodeId).toBe('w1');
    expect(w.role).toBe('worker');
    expect(w.managers).toEqual([{ host: '127.0.0.1', port: 4242 }]);
    // The registry rides along: the joining node needs no second connection to learn where the managers are.
    expect(w.registry).toEqual([{ id: 'm1', raft: { host: '127.0.0.1', port: 4243 }, store: { host: '127.0.0.1', port: 4242 } }]);
    expect(w.credentials.caPem).toBe(caPem);
    const wid = await verifyNodeCertificate(w.credentials.certPem, caPem);
    expect([wid.nodeId, wid.role]).toEqual(['w1', 'worker']);

    const m = await joinCluster({ token: await joinTokenOf(store, 'manager'), manager: server.address, role: 'manager', timeoutMs: 5000 });
    expect(m.role).toBe('manager');
    expect(m.nodeId).toMatch(/^node-[a-z2-7]+$/); // picked by the manager
    expect((await verifyNodeCertificate(m.credentials.certPem, caPem)).role).toBe('manager');
    const rec = await store.get(`weft/pki/node-certs/${m.nodeId}`);
    expect(JSON.parse(textOf(rec!)).serial).toBe(parseNodeCertificate(m.credentials.certPem).serial);
    // Usable for mutual TLS as they are.
    expect(() => controlTlsFor(w.credentials)).not.toThrow();
    expect(server.stats.joined).toBeGreaterThanOrEqual(2);
  });

  it('refusals: each with its typed error on the client, counted on the server, and the store unchanged', async () => {
    const workerToken = await joinTokenOf(store, 'worker');
    const managerToken = await joinTokenOf(store, 'manager');
    const digest = workerToken.split('-')[2]!;
    // A node id held by a live node (joined with another key), and a removed node.
    await joinCluster({ token: workerToken, manager: server.address, nodeId: 'held', timeoutMs: 5000 });
    await store.put('weft/removed-nodes/gone', JSON.stringify({ removedAt: new Date().toISOString(), by: 'm1' }));
    const rotatedAway = workerToken;
    const fresh = await rotateJoinToken(store, 'worker');
    expect(fresh).not.toBe(rotatedAway);

    const before = await snapshot();
    const refusedBefore = server.stats.refused;
    const join = (o: { token: string; nodeId?: string; role?: 'manager' | 'worker' }) => joinCluster({ manager: server.address, timeoutMs: 5000, ...o });

    expect(await rejectionOf(join({ token: `WEFT-1-${digest}-${'a'.repeat(26)}` }))).toBeInstanceOf(JoinTokenRejectedError); // wrong secret
    expect(await rejectionOf(join({ token: rotatedAway }))).toBeInstanceOf(JoinTokenRejectedError); // rotated (old) token
    const mismatch = await rejectionOf(join({ token: fresh, role: 'manager' })); // a worker token, asking to be a manager
    expect(mismatch).toBeInstanceOf(JoinRoleMismatchError);
    expect(mismatch).toMatchObject({ requested: 'manager', granted: 'worker' });
    expect(await rejectionOf(join({ token: managerToken, role: 'worker' }))).toBeInstanceOf(JoinRoleMismatchError);
    const removed = await rejectionOf(join({ token: fresh, nodeId: 'gone' }));
    expect(removed).toBeInstanceOf(NodeRemovedError);
    expect((removed as NodeRemovedError).nodeId).toBe('gone');
    expect(await rejectionOf(join({ token: fresh, nodeId: 'held' }))).toBeInstanceOf(NodeIdTakenError);
    expect(await rejectionOf(join({ token: 'WEFT-1-nonsense' }))).toBeInstanceOf(InvalidJoinTokenError); // before connecting
    // A token of another cluster: the manager's CA does not match it (the manager refuses it too).
    const otherCa = await ClusterCa.create({ clusterId: 'c9' });
    const foreign = `WEFT-1-${otherCa.digest}-${'c'.repeat(25)}a`;
    expect(await rejectionOf(join({ token: foreign }))).toBeInstanceOf(JoinTokenCaMismatchError);

    expect(server.stats.refused - refusedBefore).toBe(6); // all but the malformed token and the foreign CA, refused by the client before sending
    expect(server.stats.refusedBy).toMatchObject({ JoinTokenRejectedError: 2, JoinRoleMismatchError: 2, NodeRemovedError: 1, NodeIdTakenError: 1 });
    expect(await snapshot()).toEqual(before);
  }, 30_000);

  it('two nodes joining at once under one node id with different keys: one gets it, the other NodeIdTakenError', async () => {
    const token = await joinTokenOf(store, 'worker');
    const results = await Promise.allSettled([0, 1].map(() => joinCluster({ token, manager: server.address, nodeId: 'race-id', timeoutMs: 5000 })));
    const ok = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof joinCluster>>> => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(NodeIdTakenError);
    const rec = JSON.parse(textOf((await store.get('weft/pki/node-certs/race-id'))!));
    expect(rec.serial).toBe(parseNodeCertificate(ok[0]!.value.credentials.certPem).serial);
    // The same key may join again (a re-join): the previous certificate is deny-listed.
    const key = await generateNodeKey();
    const a = await joinCluster({ token, manager: server.address, nodeId: 'rejoin', key, timeoutMs: 5000 });
    const b = await joinCluster({ token, manager: server.address, nodeId: 'rejoin', key, timeoutMs: 5000 });
    const first = parseNodeCertificate(a.credentials.certPem).serial;
    expect(parseNodeCertificate(b.credentials.certPem).serial).not.toBe(first);
    expect(await store.get(`weft/denied-serials/${first}`)).toBeDefined();
  });

  it('a manager whose CA is not the token\'s: JoinTokenCaMismatchError on the client, nothing sent', async () => {
    // A second, separate cluster with its own store, CA and join server.
    const other = await RaftStore.open({ id: 'x1', managers: [{ id: 'x1', raft: local, store: local }], electionTimeoutMs: 300, heartbeatIntervalMs: 50 });
    cleanup.push(() => other.close());
    const otherInit = await initClusterPki(other, { clusterId: 'c1', nodeId: 'x1' });
    const impostor = await JoinServer.listen({ listen: local, store: other, credentials: () => otherInit.credentials });
    cleanup.push(() => impostor.close());
    const err = await rejectionOf(joinCluster({ token: await joinTokenOf(store, 'worker'), manager: impostor.address, nodeId: 'w-x', timeoutMs: 5000 }));
    expect(err).toBeInstanceOf(JoinTokenCaMismatchError);
    expect((err as JoinTokenCaMismatchError).caDigest).toBe(otherInit.caDigest);
    // The impostor got a connection but no request.
    expect(impostor.stats.connections).toBe(1);
    expect(impostor.stats.joined + impostor.stats.refused + impostor.stats.malformed).toBe(0);
    expect(await other.get('weft/pki/node-certs/w-x')).toBeUndefined();
  }, 30_000);

  it('renewal: same node id, current role from the store, previous serial deny-listed; renewing with a deny-listed or expired certificate is refused', async () => {
    const w = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: server.address, nodeId: 'w-renew', timeoutMs: 5000 });
    const first = parseNodeCertificate(w.credentials.certPem);
    const r1 = await renewCertificate({ managers: [server.address], credentials: w.credentials, timeoutMs: 5000 });
    const second = parseNodeCertificate(r1.credentials.certPem);
    expect([second.nodeId, second.role]).toEqual(['w-renew', 'worker']);
    expect(second.serial).not.toBe(first.serial);
    expect(r1.credentials.keyPem).not.toBe(w.credentials.keyPem); // a new key
    const denied = await store.get(`weft/denied-serials/${first.serial}`);
    expect(JSON.parse(textOf(denied!))).toMatchObject({ nodeId: 'w-renew', notAfterMs: first.notAfter.getTime() });

    // Promoted (the role record written by promote): the renewal carries the new role.
    await store.put('weft/roles/w-renew', JSON.stringify({ role: 'manager' }));
    const r2 = await renewCertificate({ managers: [server.address], credentials: r1.credentials, timeoutMs: 5000 });
    expect(parseNodeCertificate(r2.credentials.certPem).role).toBe('manager');

    const before = await snapshot();
    // The first certificate is deny-listed now.
    const revoked = await rejectionOf(renewCertificate({ managers: [server.address], credentials: w.credentials, timeoutMs: 5000 }));
    expect(revoked).toBeInstanceOf(CertificateRevokedError);
    expect((revoked as CertificateRevokedError).serial).toBe(first.serial);
    // An expired certificate of this cluster's CA.
    const ca = await loadClusterPki(store, { now: () => Date.now() - 3 * DAY });
    const key = await generateNodeKey();
    const expiredPem = await ca.issue({ csrPem: await createCsr('w-old', key), nodeId: 'w-old', role: 'worker', lifetimeMs: DAY });
    const expired = await rejectionOf(renewCertificate({ managers: [server.address], credentials: { caPem: ca.certificatePem, certPem: expiredPem, keyPem: await exportNodeKeyPem(key) }, timeoutMs: 5000 }));
    expect(expired).toBeInstanceOf(CertificateExpiredError);
    expect((expired as CertificateExpiredError).expired).toBe(true);
    expect(await snapshot()).toEqual(before);
    expect(server.stats.refusedBy).toMatchObject({ CertificateRevokedError: 1, CertificateExpiredError: 1 });

    // Pruning drops only entries whose certificates have expired.
    const n = await pruneDeniedSerials(store, { now: () => first.notAfter.getTime() + 1 });
    expect(n).toBeGreaterThanOrEqual(1);
    expect(await store.get(`weft/denied-serials/${first.serial}`)).toBeUndefined();
  }, 30_000);

  it("renewal moves on past a manager whose store cannot answer (a manager being demoted), but not past a refusal about the node", async () => {
    const w = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: server.address, nodeId: 'w-past', timeoutMs: 5000 });
    // A join service on a store that no longer answers: what a manager being demoted still runs for a moment.
    const gone = await RaftStore.open({ id: 'm1', managers: [{ id: 'm1', raft: local, store: local }], electionTimeoutMs: 300, heartbeatIntervalMs: 50 });
    await gone.close();
    const stale = await JoinServer.listen({ listen: local, store: gone, credentials: () => managerCreds });
    cleanup.push(() => stale.close());
    const alone = await rejectionOf(renewCertificate({ managers: [stale.address], credentials: w.credentials, timeoutMs: 5000 }));
    expect(alone).toBeInstanceOf(JoinFailedError);
    expect((alone as JoinFailedError).remoteName).toBe('JoinFailedError');
    expect((alone as Error).message).toContain('internal error on the join server');
    const r = await renewCertificate({ managers: [stale.address, server.address], credentials: w.credentials, timeoutMs: 5000 });
    expect(parseNodeCertificate(r.credentials.certPem).nodeId).toBe('w-past');
    expect(stale.stats.refused).toBe(2);
    // A refusal about the node itself stays final: the first certificate is deny-listed now, and the good manager is never asked.
    const joinedBefore = server.stats.renewed;
    const revoked = await rejectionOf(renewCertificate({ managers: [server.address, stale.address], credentials: w.credentials, timeoutMs: 5000 }));
    expect(revoked).toBeInstanceOf(CertificateRevokedError);
    expect(stale.stats.refused).toBe(2);
    expect(server.stats.renewed).toBe(joinedBefore);
  });

  it('membership check: a member is told its id and current role; a removed node NodeRemovedError, a deny-listed certificate CertificateRevokedError; nothing written', async () => {
    const w = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: server.address, nodeId: 'w-check', timeoutMs: 5000 });
    const before = await snapshot();
    await expect(checkMembership({ managers: [server.address], credentials: w.credentials, timeoutMs: 5000 })).resolves.toEqual({ nodeId: 'w-check', role: 'worker' });
    expect(await snapshot()).toEqual(before);

    // Renewed: the old certificate is deny-listed, the new one is still a member's.
    const renewed = await renewCertificate({ managers: [server.address], credentials: w.credentials, timeoutMs: 5000 });
    const oldSerial = parseNodeCertificate(w.credentials.certPem).serial;
    const revoked = await rejectionOf(checkMembership({ managers: [server.address], credentials: w.credentials, timeoutMs: 5000 }));
    expect(revoked).toBeInstanceOf(CertificateRevokedError);
    expect((revoked as CertificateRevokedError).serial).toBe(oldSerial);
    await expect(checkMembership({ managers: [server.address], credentials: renewed.credentials, timeoutMs: 5000 })).resolves.toEqual({ nodeId: 'w-check', role: 'worker' });

    // Removed (the mark `remove(id)` writes): refused by name, before the deny list is looked at.
    await store.put(new KeyLayout('weft/').removedNode('w-check'), JSON.stringify({ removedAt: new Date().toISOString(), by: 'm1' }));
    const afterRemoval = await snapshot();
    const removed = await rejectionOf(checkMembership({ managers: [server.address], credentials: renewed.credentials, timeoutMs: 5000 }));
    expect(removed).toBeInstanceOf(NodeRemovedError);
    expect((removed as NodeRemovedError).nodeId).toBe('w-check');
    expect((removed as Error).message).toContain('was removed from the cluster');
    expect(await snapshot()).toEqual(afterRemoval);
  }, 30_000);

  it('deny list: a deny-listed worker certificate loses its live store connection and cannot reconnect; the renewed one works', async () => {
    let storeServer: StoreServer | undefined;
    const list = await DenyList.open({ store, onChange: () => storeServer?.recheckPeers() });
    cleanup.push(() => list.close());
    storeServer = await StoreServer.listen({ store, listen: local, tls: controlTlsFor(managerCreds, { denied: (s) => list.has(s) }) });
    cleanup.push(() => storeServer!.close());
    const w = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: server.address, nodeId: 'w-deny', timeoutMs: 5000 });
    const remote = new RemoteStore({ endpoints: [storeServer.address], tls: controlTlsFor(w.credentials), requestTimeoutMs: 1500, reconnectMs: 50 });
    cleanup.push(() => remote.close());
    expect(await remote.get('weft/pki/ca')).toBeDefined(); // (no authorize policy on this server)
    expect(storeServer.connectedPeers()).toContainEqual({ nodeId: 'w-deny', role: 'worker' });

    const serial = parseNodeCertificate(w.credentials.certPem).serial;
    const revokedBefore = storeServer.stats.revoked;
    const renewed = await renewCertificate({ managers: [server.address], credentials: w.credentials, timeoutMs: 5000 });
    await until(() => list.has(serial), 'the serial on the deny list', 5000);
    await until(() => storeServer!.stats.revoked > revokedBefore, 'the live connection closed', 5000);
    // The old certificate cannot reconnect.
    const refusedBefore = storeServer.stats.refused;
    await expect(remote.get('weft/cluster')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(storeServer.stats.refused).toBeGreaterThan(refusedBefore);
    // The renewed one works (swapped in without a new RemoteStore).
    remote.setTls(controlTlsFor(renewed.credentials));
    await until(async () => (await remote.get('weft/pki/ca').catch(() => undefined)) !== undefined, 'a read with the renewed certificate', 5000);
    expect(storeServer.connectedPeers()).toContainEqual({ nodeId: 'w-deny', role: 'worker' });
  }, 30_000);

  it('a renewal without a client certificate is refused (CertificateNotTrustedError), nothing written', async () => {
    const before = await snapshot();
    const key = await generateNodeKey();
    const s = tls.connect({ host: '127.0.0.1', port: server.address.port, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    cleanup.push(() => void s.destroy());
    s.on('error', () => undefined);
    const frames: unknown[] = [];
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        frames.push(JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)).toString()));
        buf = buf.subarray(4 + buf.readUInt32BE(0));
      }
    });
    await until(() => frames.length === 1, 'the hello', 5000);
    const body = Buffer.from(JSON.stringify({ t: 'renew', csrPem: await createCsr('w-none', key) }));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    s.write(Buffer.concat([head, body]));
    await until(() => frames.length === 2, 'the answer', 5000);
    expect(frames[1]).toMatchObject({ t: 'refused', error: { name: 'CertificateNotTrustedError' } });
    expect(await snapshot()).toEqual(before);
  });

  it('serves the manager\'s renewed certificate to the connections that follow', async () => {
    const serialSeen = async (): Promise<string> => {
      const s = tls.connect({ host: '127.0.0.1', port: server.address.port, servername: 'weft-join', rejectUnauthorized: false, minVersion: 'TLSv1.3' });
      s.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        s.once('secureConnect', () => resolve());
        s.once('close', () => reject(new Error('closed')));
      });
      const serial = parseNodeCertificate(new Uint8Array(s.getPeerCertificate().raw)).serial;
      s.destroy();
      return serial;
    };
    const old = parseNodeCertificate(managerCreds.certPem).serial;
    expect(await serialSeen()).toBe(old);
    const renewed = await renewCertificate({ managers: [server.address], credentials: managerCreds, timeoutMs: 5000 });
    managerCreds = renewed.credentials;
    const fresh = parseNodeCertificate(managerCreds.certPem).serial;
    expect(fresh).not.toBe(old);
    expect(await serialSeen()).toBe(fresh);
    // Joins go on with it.
    const w = await joinCluster({ token: await joinTokenOf(store, 'worker'), manager: server.address, nodeId: 'w-after', timeoutMs: 5000 });
    expect(w.role).toBe('worker');
  });
});
