/**
 * The raft benchmark's etcd baseline is only fair if its light client really
 * writes to etcd: puts through the hand-written HTTP/2 client
 * (bench/raft/etcd-put-client.ts) must come back, byte for byte, through the
 * independent node:http2 client (bench/raft/etcd-client.ts) from another
 * member, with revisions rising by one per put; a refused put must reject.
 * Needs Debian's etcd-server (/usr/bin/etcd).
 */
import { EtcdCluster, findEtcd } from '../bench/raft/etcd-cluster';
import { EtcdCallError, EtcdClient } from '../bench/raft/etcd-client';
import { EtcdPutClient } from '../bench/raft/etcd-put-client';
import { describeWith } from '../test-support/capabilities';

jest.setTimeout(60_000);

const etcdBin = findEtcd();

async function leaderUrl(ec: EtcdCluster): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const url of ec.clientUrls) {
      const c = await EtcdClient.connect(url, 1000).catch(() => undefined);
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
