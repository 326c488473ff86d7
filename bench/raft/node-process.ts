/**
 * One Raft KV node as its own OS process, for the 3-process TCP + LevelDB test
 * and benchmark. Run: `node --import tsx bench/raft/node-process.ts` with the
 * configuration as JSON in the WEFT_RAFT_NODE environment variable
 * ({@link NodeProcessConfig}). Prints one line `ready` on stdout once serving.
 *
 * Client protocol (newline-delimited JSON over TCP on `clientPort`):
 *   → {"id":1,"op":"put","key":"k","value":"v"}   ← {"id":1,"ok":true,"revision":5}
 *   → {"id":2,"op":"get","key":"k"}               ← {"id":2,"ok":true,"value":"v"}   (linearizable: ReadIndex)
 *   → {"id":3,"op":"status"}                      ← {"id":3,"ok":true,"status":{...}}
 * errors: {"id":1,"ok":false,"error":"NotLeaderError","leaderId":"n2","leaderClient":"127.0.0.1:4002"}
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { KvStore, RaftKv } from '../../packages/raft/src/kv';
import { NotLeaderError, RaftNode } from '../../packages/raft/src/node';
import { LevelStorage } from '../../packages/raft/src/level';
import { TcpTransport } from '../../packages/raft/src/transport';

export interface NodeProcessConfig {
  id: string;
  /** Raft port on 127.0.0.1. */
  raftPort: number;
  /** Client (JSON lines) port on 127.0.0.1. */
  clientPort: number;
  /** Every member: id → { raftPort, clientPort }. */
  members: Record<string, { raftPort: number; clientPort: number }>;
  dataDir: string;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /**
   * UNSAFE, tests only: open LevelDB with `sync: false` (writes reach the page
   * cache, not the disk, before they are acknowledged). The durability test
   * uses it to show that its check catches a node that does not sync.
   */
  unsafeNoSync?: boolean;
  /**
   * Mutual TLS 1.3 on both ports, from `@weft/core/pki` credentials (a
   * manager certificate of the cluster CA): Raft through TcpTransport's `tls`
   * (`transportTlsFor`, peers must be managers), the client port through
   * `tlsOptionsFor` (a client must present a certificate of the same CA).
   * Absent: plain TCP on both.
   */
  tls?: { caPem: string; certPem: string; keyPem: string };
}

interface Request {
  id: number;
  op: 'put' | 'get' | 'status';
  key?: string;
  value?: string;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.WEFT_RAFT_NODE ?? '') as NodeProcessConfig;
  const peers: Record<string, { host: string; port: number }> = {};
  for (const [id, m] of Object.entries(cfg.members)) if (id !== cfg.id) peers[id] = { host: '127.0.0.1', port: m.raftPort };
  const storage = await LevelStorage.open(cfg.dataDir, cfg.unsafeNoSync === true ? { sync: false } : {});
  // Loaded only with TLS, so the plain processes run exactly what they ran before.
  const pki = cfg.tls === undefined ? undefined : await import('../../packages/core/src/cluster/pki');
  const transport = await TcpTransport.listen({
    id: cfg.id,
    port: cfg.raftPort,
    peers,
    ...(cfg.tls !== undefined && pki !== undefined ? { tls: pki.transportTlsFor(cfg.tls, { role: 'manager' }) } : {}),
  });
  const store = new KvStore();
  const node = await RaftNode.create({
    id: cfg.id,
    peers: Object.keys(cfg.members),
    stateMachine: store,
    transport,
    stores: storage,
    electionTimeoutMs: cfg.electionTimeoutMs,
    heartbeatIntervalMs: cfg.heartbeatIntervalMs,
  });
  node.start();
  const kv = new RaftKv(node, store);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  const handle = async (req: Request): Promise<Record<string, unknown>> => {
    try {
      if (req.op === 'put') {
        const r = await kv.put(String(req.key), encoder.encode(String(req.value)));
        return { ok: true, revision: r.revision };
      }
      if (req.op === 'get') {
        const v = await kv.get(String(req.key));
        return { ok: true, value: v === undefined ? null : decoder.decode(v.value) };
      }
      if (req.op === 'status') return { ok: true, status: node.status() };
      return { ok: false, error: 'BadRequest', message: `unknown op ${JSON.stringify(req.op)}` };
    } catch (err) {
      const e = err as Error;
      const out: Record<string, unknown> = { ok: false, error: e.name, message: e.message };
      if (err instanceof NotLeaderError && err.leaderId !== null) {
        out.leaderId = err.leaderId;
        const m = cfg.members[err.leaderId];
        if (m) out.leaderClient = `127.0.0.1:${m.clientPort}`;
      }
      return out;
    }
  };

  const sockets = new Set<Socket>();
  const onClient = (socket: Socket): void => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let buffered = '';
    // Responses settled in the same turn go out in one write.
    let out = '';
    const reply = (line: string): void => {
      if (socket.destroyed) return;
      if (out === '') setImmediate(() => {
        const data = out;
        out = '';
        if (!socket.destroyed) socket.write(data);
      });
      out += line;
    };
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let req: Request;
        try {
          req = JSON.parse(line) as Request;
        } catch {
          socket.destroy();
          return;
        }
        // handle() never rejects: every error becomes an { ok: false } answer.
        void handle(req).then((res) => reply(JSON.stringify({ id: req.id, ...res }) + '\n'));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  // With TLS, node:tls hands over only clients whose certificate verified (rejectUnauthorized).
  const server: Server =
    cfg.tls !== undefined && pki !== undefined ? createTlsServer({ ...pki.tlsOptionsFor(cfg.tls) }, onClient) : createServer(onClient);
  await new Promise<void>((r) => server.listen(cfg.clientPort, '127.0.0.1', () => r()));
  process.stdout.write('ready\n');

  const shutdown = async (): Promise<void> => {
    server.close();
    for (const s of sockets) s.destroy();
    await node.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

main().catch((err: unknown) => {
  process.stderr.write(`node-process failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
