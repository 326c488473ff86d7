import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionsError } from '@weft/interface';
import { NetworkNotFoundError, NodeUnreachableError, RemoteNodeError, WeftClient } from '@weft/core';
import { ControlServer, ControlSocketInUseError, UnknownMethodError } from '@weft/core/daemon';
import { slowClients } from '../../../../test-support/slow-clients';
import { sleep, until } from '../../../../test-support/wait';

/** The control API of a node process, served by a stand-in handler: the socket's own behaviour is what is tested here. */
describe('ControlServer + WeftClient (the local control socket)', () => {
  let dir: string;
  let server: ControlServer | undefined;
  const clients: WeftClient[] = [];
  const sockets: Socket[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-ctl-'));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const c of clients.splice(0)) await c.close();
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const handler = async (method: string, params: unknown): Promise<unknown> => {
    if (method === 'network.inspect') throw new NetworkNotFoundError((params as { network: string }).network);
    if (method === 'network.ls') return [{ id: 'n1', name: 'red' }];
    if (method === 'info') return { id: 'test-node', role: 'manager' };
    if (method === 'stats') {
      const e = new Error('something odd');
      e.name = 'OddError';
      throw e;
    }
    return {};
  };

  async function start(extra: Partial<Parameters<typeof ControlServer.listen>[0]> = {}): Promise<ControlServer> {
    server = await ControlServer.listen({ path: join(dir, 'weft.sock'), handle: handler as never, ...extra });
    return server;
  }

  async function client(): Promise<WeftClient> {
    const c = await WeftClient.connect({ socketPath: join(dir, 'weft.sock'), timeoutMs: 5000 });
    clients.push(c);
    return c;
  }

  function raw(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect(join(dir, 'weft.sock'));
      sockets.push(s);
      s.on('error', () => undefined);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  }

  const closed = (s: Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));

  it('answers calls, rethrows the node error as the same class, and an unknown class as RemoteNodeError', async () => {
    await start();
    const c = await client();
    expect(await c.info()).toEqual({ id: 'test-node', role: 'manager' });
    expect(await c.listNetworks()).toEqual([{ id: 'n1', name: 'red' }]);
    const err = await c.inspectNetwork('blue').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkNotFoundError);
    expect((err as NetworkNotFoundError).network).toBe('blue');
    expect((err as NetworkNotFoundError).code).toBe('ERR_NETWORK_NOT_FOUND');
    const odd = await c.stats().catch((e: unknown) => e);
    expect(odd).toBeInstanceOf(RemoteNodeError);
    expect((odd as RemoteNodeError).remoteName).toBe('OddError');
    // Parameters are validated by the server: the field is named.
    const bad = await c.call('endpoint.ping', { endpoint: 'a', target: 'b', count: 0 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidOptionsError);
    expect((bad as Error).message).toContain('count');
    const unknown = await c.call('no.such' as never, {} as never).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownMethodError);
    expect(server!.stats.failed).toBe(4);
  });

  it('is its owner\'s only (mode 0600), refuses a second server on a live socket, and replaces a stale one', async () => {
    const s = await start();
    expect(statSync(s.path).mode & 0o777).toBe(0o600);
    await expect(ControlServer.listen({ path: s.path, handle: handler as never })).rejects.toBeInstanceOf(ControlSocketInUseError);
    // A crash leaves the socket file: the next start takes it over.
    await s.close();
    const stalePath = join(dir, 'stale.sock');
    const dead = await ControlServer.listen({ path: stalePath, handle: handler as never });
    // Leave the file behind as a crash would: close the listener without unlinking by copying the path to a new server.
    (dead as unknown as { server: { close(): void } }).server.close();
    await sleep(20);
    const again = await ControlServer.listen({ path: stalePath, handle: handler as never });
    await again.close();
    await dead.close();
    writeFileSync(join(dir, 'plain-file'), 'x');
    await expect(ControlServer.listen({ path: join(dir, 'plain-file'), handle: handler as never })).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('closes connections that send garbage, an oversized length prefix, a non-request or too much in flight, and counts them; good clients are unaffected', async () => {
    const s = await start({ maxInFlight: 4 });
    const good = await client();

    const garbage = await raw();
    garbage.write(Buffer.from('\x00\x00\x00\x05hello'));
    await closed(garbage);
    expect(s.stats.malformed).toBe(1);

    const huge = await raw();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(0xfffffff0);
    huge.write(head);
    await closed(huge);
    expect(s.stats.malformed).toBe(2);

    const notRequest = await raw();
    const body = Buffer.from(JSON.stringify({ hello: 'world' }));
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32BE(body.length);
    body.copy(frame, 4);
    notRequest.write(frame);
    await closed(notRequest);
    expect(s.stats.malformed).toBe(3);

    // A flood of requests never read back is cut off by the in-flight cap.
    const flood = await raw();
    const req = (id: number): Buffer => {
      const b = Buffer.from(JSON.stringify({ id, method: 'network.ls' }));
      const f = Buffer.alloc(4 + b.length);
      f.writeUInt32BE(b.length);
      b.copy(f, 4);
      return f;
    };
    flood.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => req(i))));
    await closed(flood);
    expect(s.stats.overloaded).toBe(1);

    expect(await good.listNetworks()).toHaveLength(1);
    expect(s.openConnections).toBe(1);
  });

  it('closes a frame that stalls half-way (frame timeout) and one that would go over the buffer budget', async () => {
    const s = await start({ frameTimeoutMs: 300, maxBufferedBytes: 64 * 1024 });
    const good = await client();
    const slow = await raw();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(100);
    slow.write(Buffer.concat([head, Buffer.from('{"id":1,')]));
    await closed(slow);
    expect(s.stats.stalledFrames).toBe(1);

    const big = await raw();
    const h2 = Buffer.alloc(4);
    h2.writeUInt32BE(900 * 1024);
    big.write(Buffer.concat([h2, Buffer.alloc(70 * 1024, 0x20)]));
    await closed(big);
    expect(s.stats.overBudget).toBe(1);
    expect(s.bufferedBytes).toBe(0);
    expect(await good.info()).toMatchObject({ id: 'test-node' });
  });

  it('1,000 slow connections (1 byte per second) from another process: bounded memory, capped connections, good client served', async () => {
    const s = await start({ maxConnections: 600, frameTimeoutMs: 2000 });
    const good = await client();
    global.gc?.();
    const before = process.memoryUsage().rss;
    // A 4-byte length prefix announcing 1 KiB, then a byte per second: every such frame stalls.
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1024);
    const slow = await slowClients(s.path, 1000, { everyMs: 1000, maxMs: 20_000, prefix });
    try {
      // Each slow connection ends: refused at the cap, or closed once its frame stalls. (Under load a few may not
      // get past the listen backlog at all: the kernel refuses those before the server sees them.)
      await until(async () => (await slow.open()) === 0, 'the slow connections closed', 20_000);
      const grown = process.memoryUsage().rss - before;
      const accepted = s.stats.connections - 1;
      expect(accepted + s.stats.refused).toBeGreaterThan(600);
      expect(s.stats.stalledFrames).toBe(accepted);
      expect(s.stats.refused).toBeGreaterThan(0);
      expect(grown).toBeLessThan(50 * 1024 * 1024);
      expect(s.bufferedBytes).toBe(0);
      expect(await good.listNetworks()).toHaveLength(1);
    } finally {
      slow.stop();
    }
    expect(s.openConnections).toBe(1);
  });

  it('a client sees NodeUnreachableError when nothing listens, and when the server goes away mid-call', async () => {
    await expect(WeftClient.connect({ socketPath: join(dir, 'none.sock'), timeoutMs: 1000 })).rejects.toBeInstanceOf(NodeUnreachableError);
    const never = new Promise<never>(() => undefined);
    server = await ControlServer.listen({ path: join(dir, 'weft.sock'), handle: () => never });
    const c = await client();
    const pending = c.listNetworks().catch((e: unknown) => e);
    await sleep(50);
    await server.close();
    expect(await pending).toBeInstanceOf(NodeUnreachableError);
  });

  it('bad options fail at once naming the field', async () => {
    await expect(ControlServer.listen({ path: join(dir, 'x'.repeat(120)), handle: handler as never })).rejects.toThrow(/path/);
    await expect(ControlServer.listen({ path: join(dir, 'a.sock'), handle: handler as never, maxConnections: 0 })).rejects.toThrow(/maxConnections/);
    await expect(WeftClient.connect({ socketPath: '' })).rejects.toThrow(/socketPath/);
  });
});
