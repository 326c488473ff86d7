import { connect } from 'node:net';
import type { Message } from '../../src/core/types';
import { InvalidOptionsError } from '@weft/interface';
import { encodeMessage, TcpTransport, writeFrameHeader } from '../../src/transport';

const hb = (from: string, to: string, term: number): Message => ({ type: 'MsgHeartbeat', from, to, term, commit: 0 });

async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('TcpTransport on 127.0.0.1', () => {
  const open: TcpTransport[] = [];
  const listen = async (...args: Parameters<typeof TcpTransport.listen>) => {
    const t = await TcpTransport.listen(...args);
    open.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  test('delivers messages both ways, in order per connection', async () => {
    const a = await listen({ id: 'a' });
    const b = await listen({ id: 'b', peers: { a: a.address } });
    a.setPeer('b', b.address);
    const atB: Message[] = [];
    const atA: Message[] = [];
    b.onMessage((m) => atB.push(m));
    a.onMessage((m) => atA.push(m));
    a.send(Array.from({ length: 100 }, (_, i) => hb('a', 'b', i + 1)));
    b.send([hb('b', 'a', 7)]);
    await until(() => atB.length === 100 && atA.length === 1, 'delivery');
    expect(atB.map((m) => m.term)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(atA[0]).toMatchObject({ type: 'MsgHeartbeat', from: 'b', to: 'a', term: 7 });
    expect(a.stats().sent).toBe(100);
    expect(b.stats().received).toBe(100);
    expect(a.addressOf('b')).toEqual(b.address);
    expect(b.address).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
    expect(b.address.port).toBeGreaterThan(0);
  });

  test('peers may be given as "host:port" text; addresses come back as { host, port }', async () => {
    const b = await listen({ id: 'b' });
    const a = await listen({ id: 'a', peers: { b: `127.0.0.1:${b.address.port}` } });
    expect(a.addressOf('b')).toEqual({ host: '127.0.0.1', port: b.address.port });
    let n = 0;
    b.onMessage(() => n++);
    a.send([hb('a', 'b', 1)]);
    await until(() => n === 1, 'delivery to a text address');
    a.setPeer('c', '[::1]:7001');
    expect(a.addressOf('c')).toEqual({ host: '::1', port: 7001 });
  });

  test('a multi-megabyte snapshot message arrives intact', async () => {
    const a = await listen({ id: 'a' });
    const b = await listen({ id: 'b' });
    a.setPeer('b', b.address);
    const data = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const got: Message[] = [];
    b.onMessage((m) => got.push(m));
    a.send([
      {
        type: 'MsgSnap',
        from: 'a',
        to: 'b',
        term: 2,
        snapshot: { meta: { index: 1000, term: 2, confState: { voters: ['a', 'b'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data },
      },
      hb('a', 'b', 2),
    ]);
    await until(() => got.length === 2, 'snapshot delivery');
    expect(got[0]!.snapshot!.meta.index).toBe(1000);
    expect(Buffer.from(got[0]!.snapshot!.data).equals(Buffer.from(data))).toBe(true);
    expect(got[1]!.type).toBe('MsgHeartbeat');
  });

  test('a malformed frame is dropped, counted and the connection reset; others keep working', async () => {
    const b = await listen({ id: 'b' });
    const got: Message[] = [];
    b.onMessage((m) => got.push(m));
    const { port } = b.address;
    const sock = connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('error', () => {});
    // A valid frame, then a frame whose payload is garbage.
    const good = encodeMessage(hb('x', 'b', 1)).buf;
    const frame = new Uint8Array(4 + good.length + 4 + 3);
    writeFrameHeader(frame, 0, good.length);
    frame.set(good, 4);
    writeFrameHeader(frame, 4 + good.length, 3);
    frame.set([0xde, 0xad, 0xbe], 8 + good.length);
    sock.write(frame);
    await closed;
    expect(got).toHaveLength(1);
    expect(b.stats().malformed).toBe(1);
    // A message addressed to another node is malformed too.
    const a = await listen({ id: 'a', peers: { b: b.address } });
    a.send([hb('a', 'c', 1)]); // unknown peer: dropped locally
    expect(a.stats().dropped).toBe(1);
    a.send([hb('a', 'b', 2)]);
    await until(() => got.length === 2, 'delivery after a reset');
  });

  test('an oversized declared length resets the connection', async () => {
    const b = await listen({ id: 'b', maxFrameBytes: 1024 });
    const sock = connect({ host: '127.0.0.1', port: b.address.port });
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    const hdr = new Uint8Array(4);
    writeFrameHeader(hdr, 0, 1_000_000);
    sock.write(hdr);
    await closed;
    expect(b.stats().malformed).toBe(1);
  });

  test('reconnects after the peer restarts on the same port', async () => {
    const b1 = await listen({ id: 'b' });
    const { port } = b1.address;
    const a = await listen({ id: 'a', peers: { b: b1.address }, reconnectMinMs: 10, reconnectMaxMs: 50 });
    const unreachable: string[] = [];
    a.onUnreachable((p) => unreachable.push(p));
    let n1 = 0;
    b1.onMessage(() => n1++);
    a.send([hb('a', 'b', 1)]);
    await until(() => n1 === 1, 'first delivery');
    await b1.close();
    open.splice(open.indexOf(b1), 1);
    // Sending while b is down is dropped (and reported), never thrown.
    await until(() => {
      a.send([hb('a', 'b', 2)]);
      return unreachable.length > 0;
    }, 'unreachable report');
    const b2 = await listen({ id: 'b', port });
    let n2 = 0;
    b2.onMessage(() => n2++);
    await until(() => {
      a.send([hb('a', 'b', 3)]);
      return n2 > 0;
    }, 'delivery after restart');
    expect(a.stats().connects).toBeGreaterThanOrEqual(2);
    expect(a.stats().connectFailures).toBeGreaterThanOrEqual(1);
  });

  test('setPeer moves a peer to a new address; removePeer forgets it', async () => {
    const b1 = await listen({ id: 'b' });
    const b2 = await listen({ id: 'b' });
    const a = await listen({ id: 'a', peers: { b: b1.address }, reconnectMinMs: 10 });
    let at1 = 0;
    let at2 = 0;
    b1.onMessage(() => at1++);
    b2.onMessage(() => at2++);
    a.send([hb('a', 'b', 1)]);
    await until(() => at1 === 1, 'delivery to the first address');
    a.setPeer('b', b2.address);
    expect(a.addressOf('b')).toEqual(b2.address);
    await until(() => {
      a.send([hb('a', 'b', 2)]);
      return at2 > 0;
    }, 'delivery to the new address');
    const before = at1;
    a.removePeer('b');
    a.send([hb('a', 'b', 3)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(at1).toBe(before);
    expect(a.addressOf('b')).toBeUndefined();
  });

  test('backpressure: the per-peer queue is bounded and overflow is counted as dropped', async () => {
    // Nothing listens on the peer's port: messages queue while connecting, then are dropped.
    const tmp = await TcpTransport.listen({ id: 'tmp' });
    const deadAddr = tmp.address;
    await tmp.close();
    const a = await listen({ id: 'a', peers: { b: deadAddr }, maxQueuedMessages: 100 });
    a.send(Array.from({ length: 1000 }, (_, i) => hb('a', 'b', i + 1)));
    expect(a.stats().dropped).toBe(900);
    await until(() => a.stats().dropped === 1000, 'queue discarded after the connect failure');
    expect(a.stats().sent).toBe(0);
    // The byte bound: with room for ~3 frames of 1 KiB context, the rest of a burst is dropped.
    const c = await listen({ id: 'c', peers: { b: deadAddr }, maxQueuedBytes: 3500 });
    const big = (term: number): Message => ({ type: 'MsgHeartbeat', from: 'c', to: 'b', term, context: new Uint8Array(1024) });
    c.send(Array.from({ length: 10 }, (_, i) => big(i + 1)));
    expect(c.stats().dropped).toBe(7);
  });

  test.each([
    [{ id: '' }, 'id'],
    [{ id: 'a', host: 'example.com' }, 'host'],
    [{ id: 'a', port: 70000 }, 'port'],
    [{ id: 'a', peers: { b: 'no-port' } }, 'peers.b'],
    [{ id: 'a', peers: { b: { host: '10.0.0.2', port: 0 } } }, 'peers.b'],
    [{ id: 'a', peers: { b: { host: 'node-b', port: 7001 } } }, 'peers.b'],
    [{ id: 'a', reconnectMinMs: 100, reconnectMaxMs: 10 }, 'reconnectMaxMs'],
  ])('listen(%j) rejects with a one-line InvalidOptionsError naming %s', async (options, field) => {
    const err = await TcpTransport.listen(options as Parameters<typeof TcpTransport.listen>[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).field).toBe(field);
    expect((err as Error).message).toMatch(new RegExp(`^TcpTransport\\.listen: option "${field.replace('.', '\\.')}" `));
    expect((err as Error).message).not.toContain('\n');
  });

  test('setPeer validates the id and the address', async () => {
    const a = await listen({ id: 'a' });
    expect(() => a.setPeer('b', 'bad')).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'address' }));
    expect(() => a.setPeer('', '127.0.0.1:1')).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'id' }));
    expect(a.addressOf('b')).toBeUndefined();
  });
});
