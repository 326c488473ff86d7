import { connect, createServer, type Server, type Socket } from 'node:net';
import { isWeftError, textOf, type WatchEvent } from '@weft/interface';
import { MemoryStore } from '../../src/store/memory-store';
import { RemoteStore } from '../../src/store/remote/remote-store';
import { StoreServer } from '../../src/store/remote/store-server';

async function until(ok: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('RemoteStore under faults', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function serve(store: MemoryStore): Promise<StoreServer> {
    const s = await StoreServer.listen({ store, listen: { host: '127.0.0.1', port: 0 } });
    cleanup.push(() => s.close());
    return s;
  }

  it('resumes a watch from its last revision after the connection drops, with writes made while it was down', async () => {
    const backing = new MemoryStore();
    const server = await serve(backing);
    const store = new RemoteStore({ endpoints: [server.address], reconnectMs: 200 });
    cleanup.push(() => store.close());
    const seen: WatchEvent[] = [];
    await store.watch('k/', (events) => seen.push(...events));
    for (let i = 0; i < 3; i++) await store.put(`k/${i}`, String(i));
    await until(() => seen.length === 3, 'first 3 events');
    store.dropConnection();
    // Written directly into the backing store while the client is disconnected (its reconnect waits 200 ms).
    for (let i = 3; i < 6; i++) await backing.put(`k/${i}`, String(i));
    await until(() => seen.length >= 6, 'events written during the outage');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((e) => textOf(e.kv))).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(store.stats.watchResumes).toBeGreaterThanOrEqual(1);
    expect(store.stats.connections).toBeGreaterThanOrEqual(2);
  });

  it('fails over to the next endpoint when the first refuses connections', async () => {
    const backing = new MemoryStore();
    const server = await serve(backing);
    const dead = await new Promise<Server>((resolve) => {
      const s = createServer((sock) => sock.destroy());
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    cleanup.push(() => new Promise((r) => dead.close(() => r())));
    const deadAddr = dead.address() as { port: number };
    const store = new RemoteStore({ endpoints: [{ host: '127.0.0.1', port: deadAddr.port }, server.address], reconnectMs: 10 });
    cleanup.push(() => store.close());
    await store.put('a', 'b');
    expect(textOf((await store.get('a'))!)).toBe('b');
    expect(store.connectedTo).toEqual(server.address);
  });

  it('rejects a write in flight when the connection drops with outcomeUnknown, and re-sends reads', async () => {
    const backing = new MemoryStore();
    // A proxy that swallows the first txn frame and then cuts the connection.
    const server = await serve(backing);
    let cut = false;
    const proxy = await new Promise<Server>((resolve) => {
      const s = createServer((client: Socket) => {
        const upstream = connect(server.address.port, server.address.host);
        upstream.on('data', (d) => client.write(d));
        client.on('data', (d) => {
          if (!cut && d.includes(Buffer.from('"t":"txn"'))) {
            cut = true;
            client.destroy();
            upstream.destroy();
            return;
          }
          upstream.write(d);
        });
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
      });
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    cleanup.push(() => new Promise((r) => proxy.close(() => r())));
    const store = new RemoteStore({ endpoints: [{ host: '127.0.0.1', port: (proxy.address() as { port: number }).port }], reconnectMs: 10 });
    cleanup.push(() => store.close());
    await expect(store.put('w', 'x')).rejects.toMatchObject({ name: 'StoreUnavailableError', outcomeUnknown: true });
    // The next requests go through a new connection.
    await store.put('w', 'y');
    expect(textOf((await store.get('w'))!)).toBe('y');
  });

  it('a malformed frame closes only that connection and is counted; the server keeps serving', async () => {
    const backing = new MemoryStore();
    const server = await serve(backing);
    const bad = connect(server.address.port, server.address.host);
    await new Promise((r) => bad.once('connect', r));
    const closed = new Promise((r) => bad.once('close', r));
    bad.write(Buffer.from([0, 0, 0, 5, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b])); // 5 bytes of "{{{{{": not JSON
    await closed;
    const wrongShape = connect(server.address.port, server.address.host);
    await new Promise((r) => wrongShape.once('connect', r));
    const closed2 = new Promise((r) => wrongShape.once('close', r));
    const body = Buffer.from(JSON.stringify({ t: 'txn', id: 1, compare: 'nope' }));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    wrongShape.write(Buffer.concat([head, body]));
    await closed2;
    expect(server.stats.malformed).toBe(2);
    const store = new RemoteStore({ endpoints: [server.address] });
    cleanup.push(() => store.close());
    await store.put('still', 'serving');
    expect(textOf((await store.get('still'))!)).toBe('serving');
  });

  it('times out with StoreUnavailableError (outcome known) when no server answers', async () => {
    const store = new RemoteStore({ endpoints: [{ host: '127.0.0.1', port: 1 }], requestTimeoutMs: 200, reconnectMs: 20 });
    cleanup.push(() => store.close());
    const err = await store.get('x').catch((e: unknown) => e);
    expect(isWeftError(err, 'StoreUnavailableError')).toBe(true);
    expect((err as { outcomeUnknown: boolean }).outcomeUnknown).toBe(false);
  });

  it('refuses bad options with InvalidOptionsError naming the field', () => {
    expect(() => new RemoteStore({ endpoints: [] })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'endpoints' }));
    expect(() => new RemoteStore({ endpoints: [{ host: '127.0.0.1', port: 0 }] })).toThrow(expect.objectContaining({ field: 'endpoints.0.port' }));
  });
});
