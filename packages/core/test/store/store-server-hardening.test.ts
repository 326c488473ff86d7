/**
 * A StoreServer's port against hostile connections (plain TCP; TLS in
 * test/cluster): garbage, an oversized length prefix, a connection that never
 * says hello, a frame that never finishes, unfinished frames past the budget,
 * a flood of connections past the pending-handshake cap, and a client that
 * watches but never reads. Each is closed and counted; a good client's
 * requests keep being answered throughout.
 */
import { connect, type Socket } from 'node:net';
import { MemoryStore, RemoteStore, StoreServer, type StoreServerOptions } from '../../src';
import { encodeFrame } from '../../src/store/remote/frames';
import { PROTOCOL_VERSION } from '../../src/store/remote/wire';
import { slowClients, type SlowClients } from '../../../../test-support/slow-clients';
import { sleep, until } from '../../../../test-support/wait';


describe('StoreServer under hostile connections', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  async function serve(extra: Partial<StoreServerOptions> = {}): Promise<{ server: StoreServer; good: RemoteStore; store: MemoryStore }> {
    const store = new MemoryStore();
    const server = await StoreServer.listen({ store, listen: { host: '127.0.0.1', port: 0 }, ...extra });
    const good = new RemoteStore({ endpoints: [server.address], requestTimeoutMs: 5000 });
    cleanup.push(() => store.close(), () => server.close(), () => good.close());
    await good.put('k', 'v');
    return { server, good, store };
  }
  const raw = (server: StoreServer, bytes?: Uint8Array): { socket: Socket; closed: Promise<void> } => {
    const socket = connect({ host: '127.0.0.1', port: server.address.port });
    cleanup.push(() => void socket.destroy());
    socket.on('error', () => {});
    socket.on('data', () => {});
    if (bytes) socket.once('connect', () => socket.write(bytes));
    return { socket, closed: new Promise((r) => socket.once('close', () => r())) };
  };
  const header = (len: number): Buffer => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(len, 0);
    return h;
  };

  test('garbage, an oversized length, silence, and a stalled frame: each closed and counted, the good client unaffected', async () => {
    const { server, good } = await serve({ handshakeTimeoutMs: 300, frameTimeoutMs: 400 });
    const hello = encodeFrame({ t: 'hello', v: PROTOCOL_VERSION });
    const bad = [
      raw(server, Buffer.from('\x00\x00\x00\x05hello')), // a frame that is not JSON
      raw(server, header(0xffff_fff0)), // declares ~4 GiB
      raw(server), // never says anything
      raw(server, Buffer.concat([hello, header(1000), Buffer.alloc(10)])), // greets, then a frame that never finishes
    ];
    for (let i = 0; i < 20; i++) {
      expect((await good.get('k'))?.value).toBeDefined();
      await sleep(25);
    }
    await Promise.all(bad.map((b) => b.closed));
    expect(server.stats).toMatchObject({ malformed: 2, handshakeTimeouts: 1, stalledFrames: 1 });
    expect(server.bufferedBytes).toBe(0);
    expect(new TextDecoder().decode((await good.get('k'))!.value)).toBe('v');
  });

  test('unfinished frames past maxBufferedBytes close the connection that goes over', async () => {
    const { server, good } = await serve({ maxBufferedBytes: 64 * 1024 });
    const hello = encodeFrame({ t: 'hello', v: PROTOCOL_VERSION });
    const first = raw(server, Buffer.concat([hello, header(1 << 20), Buffer.alloc(40 * 1024)]));
    await until(() => server.bufferedBytes >= 40 * 1024, 'the first partial frame to be held');
    const second = raw(server, Buffer.concat([hello, header(1 << 20), Buffer.alloc(40 * 1024)]));
    await second.closed;
    expect(server.stats.overBudget).toBe(1);
    expect(first.socket.destroyed).toBe(false);
    expect((await good.get('k'))?.key).toBe('k');
    first.socket.destroy();
    await until(() => server.bufferedBytes === 0, 'the budget to be released');
  });

  test('a client that watches and never reads is closed once its unsent events pass maxUnsentBytes', async () => {
    const { server, good } = await serve({ maxUnsentBytes: 256 * 1024 });
    const hello = encodeFrame({ t: 'hello', v: PROTOCOL_VERSION });
    const watch = encodeFrame({ t: 'watch', id: 1, keys: { prefix: 'big/' } });
    const lazy = raw(server, Buffer.concat([hello, watch]));
    lazy.socket.removeAllListeners('data');
    lazy.socket.pause();
    await sleep(100);
    const value = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 400 && server.stats.slowReaders === 0; i++) await good.put(`big/${i % 10}`, value);
    expect(server.stats.slowReaders).toBe(1);
    expect((await good.get('k'))?.key).toBe('k');
  });

  test('1,000 silent connections from another process: at most maxPendingHandshakes held, the rest shed, all counted; the good client unaffected', async () => {
    const { server, good } = await serve({ handshakeTimeoutMs: 3000 });
    let clients: SlowClients | undefined = await slowClients(server.address.port, 1000, { everyMs: 1000, maxMs: 20_000 });
    cleanup.push(() => clients?.stop());
    await until(() => server.stats.shed + server.openConnections >= 1000, 'every connection accepted or shed');
    expect(server.openConnections).toBeLessThanOrEqual(257);
    expect((await good.get('k'))?.key).toBe('k');
    await until(() => server.stats.shed + server.stats.handshakeTimeouts + server.stats.malformed >= 1000, 'every silent connection closed and counted', 20_000);
    await until(async () => (await clients!.open()) === 0, 'the client side to see them closed');
    clients.stop();
    clients = undefined;
    expect((await good.get('k'))?.key).toBe('k');
  }, 30_000);
});
