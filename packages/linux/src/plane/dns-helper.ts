/**
 * The kernel plane's DNS helper: started by the plane inside a network's
 * namespace (`nsenter --net=<ns> node dns-helper.js weft-dns-helper
 * <namespace> <address>`), since the node process cannot bind a socket in
 * another namespace. It listens on `<address>` port 53, UDP and TCP, and
 * relays every well-formed query to the node process over the Unix socket
 * pair it inherits as fd 3 (frames of `dns-protocol.ts`), then sends back
 * the answer. It exits when that socket closes (the plane closed, or its
 * process died), so it never outlives its plane for long.
 *
 * Bounds: UDP and TCP messages of 12..65 535 bytes, at most 512 queries
 * awaiting an answer (each for 5 s), 64 TCP connections idle at most 10 s.
 * Anything else is dropped and counted, never fatal.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { createServer, Socket, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DNS_HEADER_BYTES, FrameReader, FrameType, MAX_DNS_MESSAGE, encodeFrame, type HelperStatus } from './dns-protocol';

const MAX_PENDING = 512;
const PENDING_MS = 5_000;
const MAX_TCP = 64;
const TCP_IDLE_MS = 10_000;

type Pending = { readonly timer: NodeJS.Timeout } & ({ readonly udp: RemoteInfo } | { readonly tcp: Socket });

function main(): void {
  const [marker, , address] = process.argv.slice(2);
  const port = Number(process.env.WEFT_DNS_PORT ?? 53);
  if (marker !== 'weft-dns-helper' || address === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(address)) {
    process.stderr.write('usage: dns-helper weft-dns-helper <namespace> <IPv4 address> (fd 3: the plane socket)\n');
    process.exit(2);
  }
  const counters: Record<string, number> = {};
  const count = (k: string): void => void (counters[k] = (counters[k] ?? 0) + 1);
  const channel = new Socket({ fd: 3, readable: true, writable: true });
  const send = (type: number, body: Uint8Array): void => void channel.write(encodeFrame(type, body));
  const exit = (code: number): never => process.exit(code);
  channel.on('error', () => exit(0));
  channel.on('close', () => exit(0));

  const pending = new Map<number, Pending>();
  let nextId = 1;
  const udp = createSocket('udp4');
  const tcpSockets = new Set<Socket>();

  const relay = (message: Buffer, transport: 0 | 1, ip: string, sport: number, target: { udp: RemoteInfo } | { tcp: Socket }): void => {
    if (message.length < DNS_HEADER_BYTES || message.length > MAX_DNS_MESSAGE) return count('drops.malformed');
    if (pending.size >= MAX_PENDING) return count('drops.overload');
    const id = nextId;
    nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
    const timer = setTimeout(() => {
      if (pending.delete(id)) count('drops.timeout');
    }, PENDING_MS);
    pending.set(id, { timer, ...target });
    const body = Buffer.allocUnsafe(11 + message.length);
    body.writeUInt32BE(id, 0);
    body[4] = transport;
    ip.split('.').forEach((o, i) => (body[5 + i] = Number(o)));
    body.writeUInt16BE(sport, 9);
    message.copy(body, 11);
    send(FrameType.query, body);
    count(transport === 0 ? 'udp.queries' : 'tcp.queries');
  };

  const reader = new FrameReader();
  channel.on('data', (chunk: Buffer) => {
    let frames: { type: number; body: Buffer }[];
    try {
      frames = reader.push(chunk);
    } catch {
      count('drops.channel');
      return exit(3); // cannot resynchronise: the plane starts another
    }
    for (const f of frames) {
      if (f.type === FrameType.answer && f.body.length >= 4) {
        const p = pending.get(f.body.readUInt32BE(0));
        if (p === undefined) {
          count('drops.late');
          continue;
        }
        pending.delete(f.body.readUInt32BE(0));
        clearTimeout(p.timer);
        const answer = f.body.subarray(4);
        if (answer.length === 0) {
          count('drops.unanswered');
          continue;
        }
        if ('udp' in p) {
          if (answer.length > 65_507) {
            count('drops.oversize');
            continue;
          }
          udp.send(answer, p.udp.port, p.udp.address, (err) => err && count('drops.send'));
        } else if (!p.tcp.destroyed) {
          const len = Buffer.allocUnsafe(2);
          len.writeUInt16BE(Math.min(answer.length, MAX_DNS_MESSAGE));
          p.tcp.write(Buffer.concat([len, Buffer.from(answer.subarray(0, MAX_DNS_MESSAGE))]));
        }
        count('answers');
      } else if (f.type === FrameType.statusRequest && f.body.length === 4) {
        const present = Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === address));
        const status: HelperStatus = { pid: process.pid, addressPresent: present, counters: { ...counters } };
        send(FrameType.status, Buffer.concat([f.body, Buffer.from(JSON.stringify(status))]));
      } else count('drops.frame');
    }
  });

  udp.on('message', (msg, rinfo) => relay(msg, 0, rinfo.address, rinfo.port, { udp: rinfo }));
  udp.on('error', (err) => {
    send(FrameType.fail, Buffer.from(`udp ${address}:${port}: ${err.message}`));
    exit(4);
  });

  const tcp: Server = createServer((s) => {
    if (tcpSockets.size >= MAX_TCP) {
      count('drops.tcp-limit');
      s.destroy();
      return;
    }
    tcpSockets.add(s);
    s.setTimeout(TCP_IDLE_MS, () => s.destroy());
    s.on('error', () => s.destroy());
    s.on('close', () => tcpSockets.delete(s));
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (len < DNS_HEADER_BYTES) {
          count('drops.malformed');
          s.destroy();
          return;
        }
        if (buf.length < 2 + len) break;
        relay(Buffer.from(buf.subarray(2, 2 + len)), 1, s.remoteAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0', s.remotePort ?? 0, { tcp: s });
        buf = buf.subarray(2 + len);
      }
    });
  });
  tcp.maxConnections = MAX_TCP + 1;
  tcp.on('error', (err) => {
    send(FrameType.fail, Buffer.from(`tcp ${address}:${port}: ${err.message}`));
    exit(4);
  });

  let bound = 0;
  const onBound = (): void => {
    if (++bound === 2) send(FrameType.ready, Buffer.from(JSON.stringify({ pid: process.pid })));
  };
  udp.bind({ address, port, exclusive: true }, onBound);
  tcp.listen({ host: address, port, exclusive: true }, onBound);
}

main();
