/**
 * The raft benchmark's etcd baseline is only fair if its light client really
 * writes to etcd: puts through the hand-written HTTP/2 client
 * (bench/raft/etcd-put-client.ts) must come back, byte for byte, through the
 * independent node:http2 client (bench/raft/etcd-client.ts) from another
 * member, with revisions rising by one per put; a refused put must reject.
 * With mutual TLS (the benchmark's TLS rows), the same client writes over
 * TLS 1.3 + ALPN h2, and etcd's client and peer ports refuse whoever has no
 * certificate of the bench CA.
 * Needs Debian's etcd-server (/usr/bin/etcd).
 */
import { get as httpsGet } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { etcdBenchTls } from '../bench/raft/bench-tls';
import { EtcdCluster, findEtcd } from '../bench/raft/etcd-cluster';
import { EtcdCallError, EtcdClient } from '../bench/raft/etcd-client';
import { EtcdPutClient } from '../bench/raft/etcd-put-client';
import { describeWith } from '../test-support/capabilities';

jest.setTimeout(60_000);

const etcdBin = findEtcd();

async function leaderUrl(ec: EtcdCluster, tls?: ConnectionOptions): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const url of ec.clientUrls) {
      const c = await EtcdClient.connect(url, 1000, tls).catch(() => undefined);
      const st = await c?.status(1000).catch(() => undefined);
      c?.close();
      if (st && st.leader !== 0n && st.leader === st.memberId) return url;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd elected no leader within 20 s: ${ec.log()}`);
}

describeWith(etcdBin ? { ok: true, reason: '' } : { ok: false, reason: 'needs etcd (Debian package etcd-server)' }, 'bench etcd clients against a real etcd 3.4', () => {
  let ec: EtcdCluster | undefined;
  afterAll(async () => {
    await ec?.destroy();
  });

  test('puts through the hand-written HTTP/2 client land and read back through node:http2', async () => {
    ec = new EtcdCluster(etcdBin ?? '/usr/bin/etcd');
    await ec.start();
    const leader = await leaderUrl(ec);
    const put = await EtcdPutClient.connect(leader);
    const check = await EtcdClient.connect(ec.clientUrls.find((u) => u !== leader)!);
    try {
      const value = (i: number): Uint8Array => Uint8Array.from({ length: 300 }, (_, j) => (i * 7 + j) & 0xff);
      // 64 concurrent puts (64 streams on one connection), then a second wave, past the 64 KiB initial window.
      const revisions: number[] = [];
      for (let wave = 0; wave < 4; wave++) {
        revisions.push(...(await Promise.all(Array.from({ length: 64 }, (_, i) => put.put(`t/${wave}/${i}`, value(wave * 64 + i))))));
      }
      expect([...revisions].sort((a, b) => a - b)).toEqual(Array.from({ length: 256 }, (_, i) => revisions.reduce((m, r) => Math.min(m, r)) + i));
      for (const [wave, i] of [
        [0, 0],
        [1, 17],
        [3, 63],
      ] as const) {
        expect(await check.get(`t/${wave}/${i}`)).toEqual(Buffer.from(value(wave * 64 + i)));
      }
      expect(await check.get('t/absent')).toBeUndefined();
      // etcd refuses an empty key (gRPC InvalidArgument, trailers only): both clients reject.
      await expect(put.put('', 'x')).rejects.toBeInstanceOf(EtcdCallError);
      await expect(check.put('', 'x')).rejects.toMatchObject({ grpcStatus: 3 });
    } finally {
      put.close();
      check.close();
    }
  });
});

/** One HTTPS GET to 127.0.0.1:`port``path`; resolves with the status code, rejects when the connection is refused or fails. */
function httpsStatus(port: number, path: string, tls: ConnectionOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port, path, ...tls, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describeWith(etcdBin ? { ok: true, reason: '' } : { ok: false, reason: 'needs etcd (Debian package etcd-server)' }, "the raft benchmark's etcd with mutual TLS", () => {
  let ec: EtcdCluster | undefined;
  afterAll(async () => {
    await ec?.destroy();
  });

  test('client and peer ports serve only TLS clients with a certificate of the bench CA; puts over TLS land', async () => {
    const creds = await etcdBenchTls(3);
    ec = new EtcdCluster(etcdBin ?? '/usr/bin/etcd', creds);
    await ec.start();
    expect(ec.clientUrls.every((u) => u.startsWith('https://'))).toBe(true);
    const leader = await leaderUrl(ec, creds.clientOptions);
    const put = await EtcdPutClient.connect(leader, 5000, creds.clientOptions);
    const check = await EtcdClient.connect(ec.clientUrls.find((u) => u !== leader)!, 5000, creds.clientOptions);
    try {
      expect(put.tlsSocket?.getProtocol()).toBe('TLSv1.3');
      expect(put.tlsSocket?.alpnProtocol).toBe('h2');
      const revisions = await Promise.all(Array.from({ length: 64 }, (_, i) => put.put(`tls/${i}`, `v${i}`)));
      expect(new Set(revisions).size).toBe(64);
      expect(Buffer.from((await check.get('tls/63'))!).toString()).toBe('v63');

      // No client certificate: the put never lands.
      const { cert: _c, key: _k, ...caOnly } = creds.clientOptions;
      const anonymous = async (): Promise<void> => {
        const c = await EtcdClient.connect(leader, 3000, caOnly);
        try {
          await c.put('tls/anonymous', 'x', 3000);
        } finally {
          c.close();
        }
      };
      await expect(anonymous()).rejects.toThrow();
      // Plain HTTP/2 to the https port: refused as well.
      await expect(EtcdPutClient.connect(leader.replace('https:', 'http:'), 3000).then((c) => c.put('tls/plain', 'x', 3000).finally(() => c.close()))).rejects.toThrow();
      expect(await check.get('tls/anonymous')).toBeUndefined();
      expect(await check.get('tls/plain')).toBeUndefined();

      // The peer port (Raft between members) wants a member's certificate too.
      const peerPort = Number(new URL(ec.peerUrls[0]!).port);
      const member = { ca: creds.caPem, cert: creds.members[1]!.certPem, key: creds.members[1]!.keyPem };
      expect(await httpsStatus(peerPort, '/members', member)).toBe(200);
      await expect(httpsStatus(peerPort, '/members', { ca: creds.caPem })).rejects.toThrow();
      // A member certificate of another CA is refused as well.
      const other = await etcdBenchTls(1);
      await expect(httpsStatus(peerPort, '/members', { ca: creds.caPem, cert: other.members[0]!.certPem, key: other.members[0]!.keyPem })).rejects.toThrow();
    } finally {
      put.close();
      check.close();
    }
  });
});
