/**
 * A TcpTransport's listening port against hostile connections (plain TCP
 * here; TLS in @weft/core's raft-tls test): a connection that never sends a
 * frame, a frame that never finishes, unfinished frames beyond the inbound
 * budget, and a thousand slow connections from another process. Each bad
 * connection is closed and counted, a good peer's messages keep arriving,
 * and the transport's memory stays bounded.
 */
import { connect, type Socket } from 'node:net';
import type { Message } from '../../src/core/types';
import { encodeMessage, TcpTransport, writeFrameHeader } from '../../src/transport';
import { slowClients, type SlowClients } from '../../../../test-support/slow-clients';
import { sleep, until } from '../../../../test-support/wait';

const hb = (from: string, to: string, term: number): Message => ({ type: 'MsgHeartbeat', from, to, term, commit: 0 });


describe('TcpTransport listening port under hostile connections', () => {
  const open: TcpTransport[] = [];
  const sockets: Socket[] = [];
  let clients: SlowClients | undefined;
  afterEach(async () => {
    clients?.stop();
    clients = undefined;
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  const listen = async (...args: Parameters<typeof TcpTransport.listen>) => {
    const t = await TcpTransport.listen(...args);
    open.push(t);
    return t;
  };
  const raw = (t: TcpTransport, bytes?: Uint8Array): { socket: Socket; closed: Promise<void> } => {
    const socket = connect({ host: '127.0.0.1', port: t.address.port });
    sockets.push(socket);
    socket.on('error', () => {});
    if (bytes) socket.once('connect', () => socket.write(bytes));
    return { socket, closed: new Promise((r) => socket.once('close', () => r())) };
  };
  const header = (len: number): Uint8Array => {
    const h = new Uint8Array(4);
    writeFrameHeader(h, 0, len);
    return h;
  };

  test('a connection that sends no frame is closed after handshakeTimeoutMs; one whose frame stalls after frameTimeoutMs', async () => {
    const b = await listen({ id: 'b', handshakeTimeoutMs: 200, frameTimeoutMs: 300 });
    const a = await listen({ id: 'a', peers: { b: b.address } });
    const got: Message[] = [];
    b.onMessage((m) => got.push(m));
    const silent = raw(b);
    // One whole frame (so the first-frame deadline is met), then a header declaring 1000 bytes and 10 of them: the rest never comes.
    const good = encodeMessage(hb('x', 'b', 1)).buf;
    const stalled = raw(b, Buffer.concat([header(good.length), good, header(1000), Buffer.alloc(10)]));
    // The good peer keeps talking meanwhile.
    let term = 0;
    const talking = (async () => {
      while (term < 60) {
        a.send([hb('a', 'b', ++term)]);
        await sleep(10);
      }
    })();
    await Promise.all([silent.closed, stalled.closed, talking]);
    await until(() => got.length === 61, 'every good message (60 from a, 1 from the stalled connection)');
    expect(b.stats()).toMatchObject({ handshakeTimeouts: 1, stalledFrames: 1, malformed: 0 });
    expect(b.bufferedBytes).toBe(0);
  });

  test('unfinished frames beyond maxInboundBufferedBytes close the connection that goes over, not the others', async () => {
    const b = await listen({ id: 'b', maxInboundBufferedBytes: 64 * 1024 });
    const a = await listen({ id: 'a', peers: { b: b.address } });
    const got: Message[] = [];
    b.onMessage((m) => got.push(m));
    // 40 KiB of a declared 1 MiB frame each: the second connection takes the total past 64 KiB.
    const first = raw(b, Buffer.concat([header(1 << 20), Buffer.alloc(40 * 1024)]));
    await until(() => b.bufferedBytes >= 40 * 1024, 'the first connection to be held');
    const second = raw(b, Buffer.concat([header(1 << 20), Buffer.alloc(40 * 1024)]));
    await second.closed;
    expect(b.stats().overBudget).toBe(1);
    expect(first.socket.destroyed).toBe(false);
    expect(b.bufferedBytes).toBeLessThanOrEqual(64 * 1024);
    a.send([hb('a', 'b', 1)]);
    await until(() => got.length === 1, 'a good message after the refusal');
    first.socket.destroy();
    await until(() => b.bufferedBytes === 0, 'the budget to be released when the connection closes');
  });

  test('1,000 slow connections (one byte per 200 ms of a declared 60 MiB frame) from another process: bounded memory, all closed, good peer unaffected', async () => {
    const b = await listen({ id: 'b', frameTimeoutMs: 3000 });
    const a = await listen({ id: 'a', peers: { b: b.address } });
    const got: Message[] = [];
    b.onMessage((m) => got.push(m));
    global.gc?.();
    const before = process.memoryUsage().rss;
    clients = await slowClients(b.address.port, 1000, { everyMs: 200, maxMs: 20_000, prefix: header(60 * 1024 * 1024) });
    // Each either holds one of the 256 slots for connections without a first frame, or is shed at once.
    await until(() => b.inboundConnections + b.stats().shed >= 1000, '1,000 connections to be accepted or shed');
    const peak = process.memoryUsage().rss;
    // A good peer dialling during the flood: Raft would retransmit, so it sends every 50 ms until one arrives.
    for (let i = 0; got.length === 0 && i < 300; i++) {
      a.send([hb('a', 'b', 1)]);
      await sleep(50);
    }
    expect(got.length).toBeGreaterThanOrEqual(1);
    await until(async () => (await clients!.open()) === 0, 'every slow connection to be closed by the server', 20_000);
    const st = b.stats();
    expect(st.stalledFrames + st.handshakeTimeouts + st.shed).toBeGreaterThanOrEqual(1000);
    expect(st.stalledFrames + st.handshakeTimeouts + st.shed).toBeLessThanOrEqual(1010);
    const grownMiB = (peak - before) / 2 ** 20;
    // Printed for the record; the bound is the (50 MiB for 1,000 slow connections).
    console.log(`1,000 slow connections: rss grew ${grownMiB.toFixed(1)} MiB while they were open; ${st.stalledFrames} stalled, ${st.handshakeTimeouts} timed out, ${st.shed} shed`);
    expect(grownMiB).toBeLessThan(50);
    const n = got.length;
    a.send([hb('a', 'b', 2)]);
    await until(() => got.length === n + 1, 'a good message afterwards');
  });
});
