/**
 * One side of the VTEP forwarding benchmark, run as a child process by
 * bench/suites/vtep.ts: `node --import tsx bench/vtep/peer.ts '<json config>'`.
 *
 * Roles:
 * - `raw-recv` / `vtep-recv`: bind, count datagrams (raw) or UDP messages
 *   delivered to an Endpoint socket behind a Vtep (vtep), print `ready` with the
 *   port, then after the first packet wait `warmupMs`, count for `windowMs` and
 *   print `{"pps": ...}` and exit. Gives up after `idleMs` without traffic.
 * - `raw-send` / `vtep-send`: send in batches with a setImmediate between
 *   them, keeping at most `window` packets beyond the receiver's last
 *   acknowledgement in flight (acknowledgements travel on a separate plain
 *   UDP control socket, the same in both modes), until SIGTERM (then print
 *   `{"sentPps": ...}`, the offered rate after warm-up) or `maxMs`.
 *
 * The same payload crosses in both modes: raw sends `frameBytes`-byte datagrams;
 * the VTEP endpoints exchange `frameBytes`-byte inner Ethernet frames (UDP
 * payload = frameBytes - 42), so the outer datagram is frameBytes + 8.
 */
import { createSocket } from 'node:dgram';
import { Endpoint, UdpUnderlay, Vtep } from '../../packages/vxlan/src';

interface Config {
  role: 'raw-recv' | 'raw-send' | 'vtep-recv' | 'vtep-send';
  host: string;
  port?: number;
  peerHost?: string;
  peerPort?: number;
  frameBytes: number;
  warmupMs: number;
  windowMs: number;
  idleMs: number;
  maxMs: number;
  batch: number;
  /** Packets the sender may have in flight beyond the receiver's last acknowledgement. */
  window: number;
  /** The receiver acknowledges every `ackEvery` packets on the control socket. */
  ackEvery: number;
  /** Receiver's control port (given to the sender). */
  ctlPort?: number;
  udpChecksum?: boolean;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const BUF = 4 * 1024 * 1024;
const VNI = 4096;
const RECV = { mac: '02:00:00:00:00:02', ip: '10.0.0.2' };
const SEND = { mac: '02:00:00:00:00:01', ip: '10.0.0.1' };
const APP_PORT = 9000;

/**
 * Out-of-band flow control, identical in both modes: the receiver tells the
 * sender how many packets it has taken, so neither mode measures the kernel
 * dropping a flooded socket queue (which also steals CPU from the receiver on
 * a small machine). Returns the control port.
 */
async function ackChannel(): Promise<{ port: number; ack: (count: number) => void }> {
  const ctl = createSocket('udp4');
  await new Promise<void>((r) => ctl.bind(0, cfg.host, r));
  let peer: { port: number; address: string } | undefined;
  ctl.on('message', (_m, rinfo) => {
    peer = { port: rinfo.port, address: rinfo.address };
  });
  const msg = Buffer.alloc(8);
  return {
    port: ctl.address().port,
    ack: (count) => {
      if (peer === undefined) return;
      msg.writeDoubleBE(count, 0);
      ctl.send(msg, peer.port, peer.address);
    },
  };
}

function measure(onPacket: (count: () => void) => void, ack: (count: number) => void): void {
  let count = 0;
  let started = false;
  const every = cfg.ackEvery;
  const idle = setTimeout(() => finish(0), cfg.idleMs);
  const finish = (pps: number): void => {
    process.stdout.write(`${JSON.stringify({ pps })}\n`, () => process.exit(0));
  };
  onPacket(() => {
    count++;
    if (count % every === 0) ack(count);
    if (started) return;
    started = true;
    clearTimeout(idle);
    setTimeout(() => {
      const c0 = count;
      const t0 = process.hrtime.bigint();
      setTimeout(() => {
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        finish((count - c0) / seconds);
      }, cfg.windowMs);
    }, cfg.warmupMs);
  });
}

async function pump(sendOne: () => void): Promise<void> {
  const deadline = Date.now() + cfg.maxMs;
  let sent = 0;
  // Acknowledged count, and the sent count it corresponds to (losses shift the base).
  let acked = 0;
  let base = 0;
  let lastProgress = Date.now();
  const ctl = createSocket('udp4');
  await new Promise<void>((r) => ctl.bind(0, cfg.host, r));
  ctl.on('message', (m: Buffer) => {
    const n = m.readDoubleBE(0);
    if (n > acked) {
      acked = n;
      lastProgress = Date.now();
    }
  });
  ctl.send(Buffer.from('hello'), cfg.ctlPort!, cfg.peerHost!);
  let mark = 0;
  let markAt = 0n;
  // After warm-up, remember where we were; on SIGTERM report the offered rate since then.
  setTimeout(() => {
    mark = sent;
    markAt = process.hrtime.bigint();
  }, cfg.warmupMs);
  process.once('SIGTERM', () => {
    const seconds = markAt === 0n ? 0 : Number(process.hrtime.bigint() - markAt) / 1e9;
    process.stdout.write(`${JSON.stringify({ sentPps: seconds > 0 ? (sent - mark) / seconds : 0 })}\n`, () => process.exit(0));
  });
  const window = cfg.window;
  const loop = (): void => {
    let room = Math.min(window, window - (sent - base - acked));
    if (room <= 0 && Date.now() - lastProgress > 200) {
      // Nothing acknowledged for 200 ms (far longer than a descheduled
      // receiver takes to catch up): count what is in flight as lost.
      base = sent - acked;
      lastProgress = Date.now();
      room = window;
    }
    const n = room < cfg.batch ? room : cfg.batch;
    for (let i = 0; i < n; i++) sendOne();
    if (n > 0) sent += n;
    if (Date.now() < deadline) setImmediate(loop);
    else process.exit(0);
  };
  loop();
}

async function main(): Promise<void> {
  switch (cfg.role) {
    case 'raw-recv': {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(cfg.port ?? 0, cfg.host, r));
      s.setRecvBufferSize(BUF);
      const ctl = await ackChannel();
      measure((tick) => s.on('message', tick), ctl.ack);
      process.stdout.write(`ready ${s.address().port} ${ctl.port}\n`);
      return;
    }
    case 'raw-send': {
      // The same synchronous IP-literal lookup UdpUnderlay uses, so the baseline
      // does not pay dns.lookup's tick per datagram and only the VTEP's own work differs.
      const s = createSocket({
        type: 'udp4',
        lookup: ((address: string, family: number, cb: (e: null, a: string, f: number) => void) => cb(null, address, family)) as never,
      });
      await new Promise<void>((r) => s.bind(0, cfg.host, r));
      s.setSendBufferSize(BUF);
      const payload = Buffer.alloc(cfg.frameBytes, 0xab);
      const host = cfg.peerHost!;
      const port = cfg.peerPort!;
      await pump(() => s.send(payload, port, host));
      return;
    }
    case 'vtep-recv': {
      const underlay = await UdpUnderlay.bind({ host: cfg.host, port: cfg.port ?? 0, recvBufferSize: BUF });
      const vtep = new Vtep({ underlay });
      const seg = vtep.addSegment(VNI);
      const ep = new Endpoint(RECV).attach(seg);
      const sock = ep.bind(APP_PORT);
      const ctl = await ackChannel();
      measure((tick) => sock.on('message', tick), ctl.ack);
      process.stdout.write(`ready ${underlay.local.port} ${ctl.port}\n`);
      return;
    }
    case 'vtep-send': {
      const underlay = await UdpUnderlay.bind({ host: cfg.host, port: 0, sendBufferSize: BUF });
      const vtep = new Vtep({ underlay });
      const seg = vtep.addSegment(VNI);
      // Control plane: the receiver's endpoint lives behind the peer VTEP.
      seg.addRemoteEndpoint({ mac: RECV.mac, ip: RECV.ip, vtep: { host: cfg.peerHost!, port: cfg.peerPort! } });
      const ep = new Endpoint({ ...SEND, udpChecksum: cfg.udpChecksum ?? true }).attach(seg);
      await ep.resolve(RECV.ip); // answered locally by ARP suppression
      const sock = ep.bind(APP_PORT);
      const payload = Buffer.alloc(cfg.frameBytes - 42, 0xab);
      await pump(() => sock.send(payload, RECV.ip, APP_PORT));
      return;
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
