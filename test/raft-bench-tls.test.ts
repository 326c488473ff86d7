/**
 * The raft benchmark's TLS rows are only meaningful if our TLS cluster really
 * runs mutual TLS: three bench/raft/node-process.ts processes with manager
 * certificates of a fresh ClusterCa (bench/raft/bench-tls.ts) serve puts to
 * a client with a certificate of that CA over TLS 1.3, and refuse a client
 * without a certificate, a client with another CA's certificate, and a plain
 * TCP client — none of whose puts lands. The Raft port refuses a worker
 * certificate (the benchmark client's) after the handshake.
 */
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { ourBenchTls } from '../bench/raft/bench-tls';
import { ConnectionLostError, KvClient } from '../bench/raft/kv-client';
import { ProcessCluster } from '../bench/raft/process-cluster';

jest.setTimeout(60_000);

/** Sends one put through a connection made with `tls` (undefined: plain TCP); resolves with the response or rejects. */
async function putVia(address: string, tls: ConnectionOptions | undefined, key: string): Promise<unknown> {
  const c = await KvClient.connect(address, 3000, tls);
  try {
    return await c.request({ op: 'put', key, value: 'x' }, 3000);
  } finally {
    c.close();
  }
}

describe("the raft benchmark's TLS cluster", () => {
  let cluster: ProcessCluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  test('serves only mutual-TLS clients of its CA, over TLS 1.3', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const creds = await ourBenchTls(ids);
    cluster = new ProcessCluster({ ids, electionTimeoutMs: 500, heartbeatIntervalMs: 50, tls: { caPem: creds.caPem, nodes: creds.nodes, client: creds.clientOptions } });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const address = cluster.clientAddress(leader);
    const kv = await KvClient.connect(address, 3000, cluster.clientTls);
    try {
      expect(kv.tlsSocket?.getProtocol()).toBe('TLSv1.3');
      const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => kv.request({ op: 'put', key: `tls/${i}`, value: `v${i}` })));
      expect(answers.every((a) => a.ok)).toBe(true);
      // Committed through Raft over TLS: a follower reads it (linearizable read through the leader's ReadIndex).
      const follower = await KvClient.connect(cluster.clientAddress(ids.find((id) => id !== leader)!), 3000, cluster.clientTls);
      try {
        const got = await follower.request({ op: 'get', key: 'tls/63' });
        expect(got.ok ? got.value : got.error).toBe('v63');
      } finally {
        follower.close();
      }

      const { cert: _c, key: _k, ...caOnly } = creds.clientOptions;
      await expect(putVia(address, caOnly, 'refused/anonymous')).rejects.toBeInstanceOf(ConnectionLostError);
      const other = await ourBenchTls(['m1']);
      await expect(putVia(address, { ...creds.clientOptions, cert: other.client.certPem, key: other.client.keyPem }, 'refused/other-ca')).rejects.toBeInstanceOf(ConnectionLostError);
      await expect(putVia(address, undefined, 'refused/plain')).rejects.toBeInstanceOf(ConnectionLostError);
      for (const key of ['refused/anonymous', 'refused/other-ca', 'refused/plain']) {
        expect(await kv.request({ op: 'get', key })).toMatchObject({ ok: true, value: null });
      }

      // The Raft port: the client's worker certificate completes the TLS 1.3 handshake, then the transport closes the connection.
      const closedBy = await new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ ...creds.clientOptions, host: '127.0.0.1', port: cluster!.ports(leader).raftPort });
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error('the Raft port kept a worker connection open for 10 s'));
        }, 10_000);
        let protocol = 'no handshake';
        s.once('secureConnect', () => (protocol = s.getProtocol() ?? 'unknown'));
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(timer);
          resolve(protocol);
        });
      });
      expect(closedBy).toBe('TLSv1.3');
      // The cluster still works after the refusals.
      expect(await kv.request({ op: 'put', key: 'after', value: 'ok' })).toMatchObject({ ok: true });
    } finally {
      kv.close();
    }
  });
});
