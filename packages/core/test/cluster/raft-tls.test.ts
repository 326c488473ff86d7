/**
 * Raft between managers over mutual TLS 1.3: @weft/raft's TcpTransport with
 * `transportTlsFor` credentials from the cluster PKI, on 127.0.0.1:0.
 * Messages flow both ways, bound to the certificate's node id; every
 * refusal the cluster issue lists is made here and counted, with no message
 * delivered: no client certificate, another CA's certificate, an expired
 * one, a deny-listed one, a worker certificate, a handshake that never
 * finishes, garbage bytes, and a message claiming another node's id over a
 * valid certificate. Renewal: after a node's certificate is re-issued and
 * the old serial deny-listed, live connections are re-judged and the new
 * handshakes present the new serial. Every transport and socket is closed
 * after each test, even on failure.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { TcpTransport, type Message, type TcpTransportOptions } from '@weft/raft';
import { ClusterCa, peerIdentity, transportTlsFor, type NodeRole } from '../../src/cluster/pki';
import { slowClients, type SlowClients } from '../../../../test-support/slow-clients';
import { issueNode, type NodeCreds } from './pki-helpers';
import { sleep, until } from '../../../../test-support/wait';

const DAY = 24 * 3600_000;
const hb = (from: string, to: string, term: number): Message => ({ type: 'MsgHeartbeat', from, to, term, commit: 0 });



describe('Raft TcpTransport over mutual TLS with cluster certificates', () => {
  let ca: ClusterCa;
  let otherCa: ClusterCa;
  const creds = new Map<string, NodeCreds>();
  const open: TcpTransport[] = [];
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    // Made a week ago, so it can issue a certificate that has already expired.
    ca = await ClusterCa.create({ clusterId: 'c1', now: () => Date.now() - 7 * DAY });
    otherCa = await ClusterCa.create({ clusterId: 'c1' });
    for (const id of ['m1', 'm2', 'm3']) creds.set(id, await issueNode(ca, id, 'manager'));
    creds.set('w1', await issueNode(ca, 'w1', 'worker'));
  });

  let clients: SlowClients | undefined;
  afterEach(async () => {
    clients?.stop();
    clients = undefined;
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  const denied = new Set<string>();
  const seen: Array<{ at: string; serial: string }> = [];

  /** A transport for `c` whose identify records the serial of every peer it accepts. */
  async function transport(c: NodeCreds, extra: Partial<TcpTransportOptions> = {}, role: NodeRole | undefined = 'manager'): Promise<TcpTransport> {
    const t = await TcpTransport.listen({ id: c.nodeId, tls: tlsOf(c, role), ...extra });
    open.push(t);
    return t;
  }
  function tlsOf(c: NodeCreds, role: NodeRole | undefined = 'manager') {
    const base = transportTlsFor({ caPem: c.caPem, certPem: c.certPem, keyPem: c.keyPem }, { ...(role ? { role } : {}), denied: (s) => denied.has(s) });
    return {
      options: base.options,
      identify: (socket: tls.TLSSocket) => {
        const id = base.identify(socket);
        seen.push({ at: c.nodeId, serial: peerIdentity(socket).serial });
        return id;
      },
    };
  }
  const serialOf = (c: NodeCreds): string => peerIdentityOfPem(c.certPem);

  /** A raw TLS client with the given (or no) credentials, dialling `t`. */
  function dialRaw(t: TcpTransport, c?: { certPem: string; keyPem: string; caPem: string }): tls.TLSSocket {
    const s = tls.connect({
      host: '127.0.0.1',
      port: t.address.port,
      ca: c?.caPem ?? ca.certificatePem,
      ...(c ? { cert: c.certPem, key: c.keyPem } : {}),
      minVersion: 'TLSv1.3',
      rejectUnauthorized: false,
    });
    s.on('error', () => {});
    sockets.push(s);
    return s;
  }

  test('three managers exchange messages over mutual TLS; each end knows the other by its certificate', async () => {
    const [m1, m2, m3] = await Promise.all(['m1', 'm2', 'm3'].map((id) => transport(creds.get(id)!)));
    const all = { m1: m1!, m2: m2!, m3: m3! };
    for (const [id, t] of Object.entries(all)) for (const [pid, p] of Object.entries(all)) if (id !== pid) t.setPeer(pid, p.address);
    const got: Record<string, Message[]> = { m1: [], m2: [], m3: [] };
    for (const [id, t] of Object.entries(all)) t.onMessage((m) => got[id]!.push(m));
    m1!.send([hb('m1', 'm2', 1), hb('m1', 'm3', 1)]);
    m2!.send([hb('m2', 'm1', 2), hb('m2', 'm3', 2)]);
    m3!.send([hb('m3', 'm1', 3), hb('m3', 'm2', 3)]);
    await until(() => Object.values(got).every((g) => g.length === 2), 'all six messages');
    expect(got.m1!.map((m) => m.from).sort()).toEqual(['m2', 'm3']);
    for (const t of Object.values(all)) {
      const s = t.stats();
      expect(s).toMatchObject({ received: 2, refused: 0, impersonations: 0, unexpectedPeers: 0, malformed: 0 });
    }
  });

  test('a message claiming another node id over a valid certificate is dropped and counted; honest ones still arrive', async () => {
    const m1 = await transport(creds.get('m1')!);
    const m2 = await transport(creds.get('m2')!, { peers: { m1: m1.address } });
    const got: Message[] = [];
    m1.onMessage((m) => got.push(m));
    m2.send([hb('m3', 'm1', 5), hb('m2', 'm1', 6), hb('m3', 'm1', 7)]);
    await until(() => got.length === 1 && m1.stats().impersonations === 2, 'one honest message and two impersonations');
    expect(got[0]).toMatchObject({ from: 'm2', term: 6 });
  });

  test('refusals: no certificate, another CA, expired, deny-listed, worker role — each closed and counted, nothing delivered', async () => {
    const m1 = await transport(creds.get('m1')!);
    const got: Message[] = [];
    m1.onMessage((m) => got.push(m));
    const expired = await issueNode(ca, 'm2', 'manager', { now: () => Date.now() - 3 * DAY, lifetimeMs: DAY });
    const foreign = await issueNode(otherCa, 'm2', 'manager');
    const revoked = await issueNode(ca, 'm3', 'manager');
    denied.add(serialOf(revoked));
    const worker = creds.get('w1')!;
    const cases: Array<[string, (() => tls.TLSSocket)]> = [
      ['no client certificate', () => dialRaw(m1)],
      ['another CA', () => dialRaw(m1, { ...foreign, caPem: ca.certificatePem })],
      ['expired', () => dialRaw(m1, expired)],
      ['deny-listed', () => dialRaw(m1, revoked)],
      ['worker certificate', () => dialRaw(m1, worker)],
    ];
    for (const [what, dial] of cases) {
      const before = m1.stats().refused;
      const s = dial();
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.once('secureConnect', () => {
        // A frame a real peer would send: it must never be delivered.
        s.write(Buffer.from([0, 0, 0, 0]));
      });
      await closed;
      await until(() => m1.stats().refused === before + 1, `the refusal of ${what} to be counted`);
    }
    // And through a TcpTransport with the worker's certificate: it cannot even keep a connection.
    const w = await transport(worker, { peers: { m1: m1.address } }, undefined);
    w.send([hb('w1', 'm1', 1)]);
    await until(() => m1.stats().refused === cases.length + 1, 'the worker transport refused');
    await sleep(100);
    expect(got).toHaveLength(0);
    expect(m1.stats().received).toBe(0);
    denied.clear();
  });

  test('a dialled server whose certificate names another node is not used (counted)', async () => {
    const m2 = await transport(creds.get('m2')!);
    const m1 = await transport(creds.get('m1')!, { peers: { m3: m2.address } });
    m1.send([hb('m1', 'm3', 1)]);
    await until(() => m1.stats().unexpectedPeers >= 1, 'm1 to refuse m2 answering for m3');
    expect(m2.stats().received).toBe(0);
  });

  test('listening port survives garbage, a handshake that never finishes, and a plain-TCP frame; good connections unaffected', async () => {
    const m1 = await transport(creds.get('m1')!, { handshakeTimeoutMs: 300 });
    const m2 = await transport(creds.get('m2')!, { peers: { m1: m1.address } });
    const got: Message[] = [];
    m1.onMessage((m) => got.push(m));
    const raw = (bytes?: Uint8Array): Promise<void> => {
      const s = net.connect({ host: '127.0.0.1', port: m1.address.port });
      sockets.push(s);
      s.on('error', () => {});
      if (bytes) s.once('connect', () => s.write(bytes));
      return new Promise((r) => s.once('close', () => r()));
    };
    const silent = raw();
    const garbage = raw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const frame = raw(Buffer.from([0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]));
    m2.send([hb('m2', 'm1', 1)]);
    await Promise.all([silent, garbage, frame]);
    await until(() => got.length === 1, 'the good message');
    const s = m1.stats();
    expect(s.handshakeTimeouts).toBe(1);
    expect(s.refused).toBe(2);
    expect(s.received).toBe(1);
    await until(() => m1.inboundConnections === 1, 'only the good connection to remain open');
  });

  test('1,000 slow connections (one byte per 200 ms, a TLS handshake that never finishes) from another process: closed after the handshake timeout, counted, memory bounded, good peer unaffected', async () => {
    const m1 = await transport(creds.get('m1')!, { handshakeTimeoutMs: 3000 });
    const m2 = await transport(creds.get('m2')!, { peers: { m1: m1.address } });
    const got: Message[] = [];
    m1.onMessage((m) => got.push(m));
    const before = process.memoryUsage().rss;
    // A TLS record header announcing a 512-byte handshake record, then one byte per 200 ms: it never completes.
    clients = await slowClients(m1.address.port, 1000, { everyMs: 200, maxMs: 20_000, prefix: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]) });
    // Every connection either holds a handshake slot (at most maxPendingHandshakes, 256 by default) or was shed at once.
    await until(() => m1.inboundConnections + m1.stats().shed >= 1000, '1,000 connections to be accepted or shed');
    expect(m1.inboundConnections).toBeLessThanOrEqual(257); // 256 pending + the good peer's established connection
    const peak = process.memoryUsage().rss;
    // A good peer dialling during the flood: Raft would retransmit, so it sends every 50 ms until one arrives.
    for (let i = 0; got.length === 0 && i < 300; i++) {
      m2.send([hb('m2', 'm1', 1)]);
      await sleep(50);
    }
    expect(got.length).toBeGreaterThanOrEqual(1);
    const closedAndCounted = (): number => m1.stats().handshakeTimeouts + m1.stats().refused + m1.stats().shed;
    await until(() => closedAndCounted() >= 1000, 'every slow connection to be closed and counted', 20_000);
    await until(async () => (await clients!.open()) === 0, 'the client side to see every connection closed');
    const grownMiB = (peak - before) / 2 ** 20;
    const st = m1.stats();
    console.log(`1,000 slow TLS handshakes: rss grew ${grownMiB.toFixed(1)} MiB; ${st.handshakeTimeouts} handshake timeouts, ${st.shed} shed, ${st.refused} refused`);
    // The good peer's own dial may have been shed too during the flood (it redials).
    expect(closedAndCounted()).toBeGreaterThanOrEqual(1000);
    expect(closedAndCounted()).toBeLessThanOrEqual(1010);
    expect(grownMiB).toBeLessThan(50);
    const n = got.length;
    m2.send([hb('m2', 'm1', 2)]);
    await until(() => got.length === n + 1, 'a good message afterwards');
  }, 30_000);

  test('renewal: a re-issued certificate, the old serial deny-listed, live connections re-judged; new handshakes present the new serial', async () => {
    const m1 = await transport(creds.get('m1')!);
    const old = await issueNode(ca, 'm2', 'manager');
    const m2 = await TcpTransport.listen({ id: 'm2', tls: tlsOf(old), peers: { m1: m1.address } });
    open.push(m2);
    const got: Message[] = [];
    m1.onMessage((m) => got.push(m));
    seen.length = 0;
    m2.send([hb('m2', 'm1', 1)]);
    await until(() => got.length === 1, 'a message on the old certificate');
    expect(seen.filter((x) => x.at === 'm1').map((x) => x.serial)).toEqual([serialOf(old)]);

    const renewed = await issueNode(ca, 'm2', 'manager');
    m2.setTls(tlsOf(renewed));
    denied.add(serialOf(old));
    expect(m1.recheckPeers()).toBe(1);
    expect(m1.stats().revoked).toBe(1);
    // Raft keeps sending; the redialled connection carries the new certificate.
    for (let term = 2; got.length < 2 && term < 200; term++) {
      m2.send([hb('m2', 'm1', term)]);
      await sleep(20);
    }
    expect(got.length).toBeGreaterThanOrEqual(2);
    const serials = seen.filter((x) => x.at === 'm1').map((x) => x.serial);
    expect(serials[serials.length - 1]).toBe(serialOf(renewed));
    expect(serials).not.toContain(undefined);
    denied.clear();
  });

  test('options: TLS that would accept unverified peers is refused naming the field', async () => {
    const t = tlsOf(creds.get('m1')!);
    await expect(TcpTransport.listen({ id: 'm1', tls: { ...t, options: { ...t.options, rejectUnauthorized: false } } as never })).rejects.toMatchObject({
      name: 'InvalidOptionsError',
      message: expect.stringContaining('tls.options.rejectUnauthorized'),
    });
    const plain = await TcpTransport.listen({ id: 'p' });
    open.push(plain);
    expect(() => plain.setTls(t)).toThrow(/started without TLS/);
  });
});

function peerIdentityOfPem(pem: string): string {
  // The serial as the PKI writes it: lowercase hex without leading zero bytes.
  const { X509Certificate } = require('node:crypto') as typeof import('node:crypto');
  return new X509Certificate(pem).serialNumber.toLowerCase().replace(/^(00)+/, '');
}
