/**
 * One side of the VTEP forwarding benchmark, run as a child process by
 * bench/suites/vtep.ts: `node --import tsx bench/vtep/peer.ts '<json config>'`.
 * Each process holds BOTH modes at once, so the suite can alternate many
 * short rounds without restarting anything:
 *
 * - `recv`: a raw node:dgram socket, and a Vtep (UdpUnderlay) with an
 *   Endpoint whose UDP socket receives the tunnelled traffic; counts what
 *   each delivers. Prints `ready <rawPort> <vtepPort> <ctlPort>`. Commands on
 *   stdin, one answer line each: `reset` (counts to 0) → `ok`;
 *   `count <ms>` → `{"raw":pps,"vtep":pps}` over the next `ms`.
 * - `send`: a raw socket sending `frameBytes`-byte datagrams to the raw
 *   receiver, and an Endpoint behind a Vtep sending UDP messages whose inner
 *   Ethernet frames are `frameBytes` bytes to the receiving Endpoint. Prints
 *   `ready`. Commands: `start raw|vtep` → `ok`, then sends in that mode as
 *   fast as flow control lets it; `stop` → `{"sentPps":...}`.
 *
 * Flow control, the same in both modes: the receiver acknowledges every
 * `ackEvery` packets on a plain UDP control socket, and the sender keeps at
 * most `window` packets beyond the last acknowledgement in flight (without
 * it the faster raw sender floods the receiver's queue and the kernel's drop
 * work steals CPU from the receiver on a 2-core machine). Both processes exit
 * when stdin closes (the suite is gone) or after `maxMs`.
 */
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { Endpoint, UdpUnderlay, Vtep } from '../../packages/vxlan/src';

interface Config {
  role: 'recv' | 'send';
  host: string;
  peerHost?: string;
  /** Receiver ports (given to the sender). */
  rawPort?: number;
  vtepPort?: number;
  ctlPort?: number;
  frameBytes: number;
  batch: number;
  /** Packets the sender may have in flight beyond the receiver's last acknowledgement. */
  window: number;
  /** The receiver acknowledges every `ackEvery` packets on the control socket. */
  ackEvery: number;
  udpChecksum?: boolean;
  maxMs: number;
}

type Mode = 'raw' | 'vtep';
const MODE_BYTE: Record<Mode, number> = { raw: 1, vtep: 2 };

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const BUF = 4 * 1024 * 1024;
const VNI = 4096;
const RECV = { mac: '02:00:00:00:00:02', ip: '10.0.0.2' };
const SEND = { mac: '02:00:00:00:00:01', ip: '10.0.0.1' };
const APP_PORT = 9000;

setTimeout(() => process.exit(0), cfg.maxMs).unref();

/** Runs `onLine` for each stdin command and writes its answer; exits when stdin closes. */
function commands(onLine: (words: string[]) => Promise<string> | string): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    void Promise.resolve(onLine(line.trim().split(/\s+/))).then((answer) => process.stdout.write(`${answer}\n`));
  });
  rl.on('close', () => process.exit(0));
}

async function receiver(): Promise<void> {
  const raw = createSocket('udp4');
  await new Promise<void>((r) => raw.bind(0, cfg.host, r));
  raw.setRecvBufferSize(BUF);
  const underlay = await UdpUnderlay.bind({ host: cfg.host, port: 0, recvBufferSize: BUF });
  const vtep = new Vtep({ underlay });
  const ep = new Endpoint(RECV).attach(vtep.addSegment(VNI));
  const sock = ep.bind(APP_PORT);
  const ctl = createSocket('udp4');
  await new Promise<void>((r) => ctl.bind(0, cfg.host, r));
  let peer: { port: number; address: string } | undefined;
  ctl.on('message', (_m, rinfo) => {
    peer = { port: rinfo.port, address: rinfo.address };
  });
  const ackMsg = Buffer.alloc(9);
  const every = cfg.ackEvery;
  const counts = { raw: 0, vtep: 0 };
  const ack = (mode: Mode, n: number): void => {
    if (peer === undefined) return;
    ackMsg[0] = MODE_BYTE[mode];
    ackMsg.writeDoubleBE(n, 1);
    ctl.send(ackMsg, peer.port, peer.address);
  };
  raw.on('message', () => {
    if (++counts.raw % every === 0) ack('raw', counts.raw);
  });
  sock.on('message', () => {
    if (++counts.vtep % every === 0) ack('vtep', counts.vtep);
  });
  commands(async ([cmd, arg]) => {
    if (cmd === 'reset') {
      counts.raw = counts.vtep = 0;
      return 'ok';
    }
    if (cmd === 'count') {
      const r0 = counts.raw;
      const v0 = counts.vtep;
      const t0 = process.hrtime.bigint();
      await new Promise((r) => setTimeout(r, Number(arg)));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      return JSON.stringify({ raw: (counts.raw - r0) / s, vtep: (counts.vtep - v0) / s });
    }
    return `error unknown command ${cmd}`;
  });
  process.stdout.write(`ready ${raw.address().port} ${underlay.local.port} ${ctl.address().port}\n`);
}

async function sender(): Promise<void> {
  // The same synchronous IP-literal lookup UdpUnderlay uses, so the baseline
  // does not pay dns.lookup's tick per datagram and only the VTEP's own work differs.
  const raw = createSocket({
    type: 'udp4',
    lookup: ((address: string, family: number, cb: (e: null, a: string, f: number) => void) => cb(null, address, family)) as never,
  });
  await new Promise<void>((r) => raw.bind(0, cfg.host, r));
  raw.setSendBufferSize(BUF);
  const rawPayload = Buffer.alloc(cfg.frameBytes, 0xab);
  const underlay = await UdpUnderlay.bind({ host: cfg.host, port: 0, sendBufferSize: BUF });
  const vtep = new Vtep({ underlay });
  const seg = vtep.addSegment(VNI);
  // Control plane: the receiver's endpoint lives behind the peer VTEP.
  seg.addRemoteEndpoint({ mac: RECV.mac, ip: RECV.ip, vtep: { host: cfg.peerHost!, port: cfg.vtepPort! } });
  const ep = new Endpoint({ ...SEND, udpChecksum: cfg.udpChecksum ?? true }).attach(seg);
  await ep.resolveMac(RECV.ip); // answered locally by ARP suppression
  const sock = ep.bind(APP_PORT);
  const vtepPayload = Buffer.alloc(cfg.frameBytes - 42, 0xab);
  const host = cfg.peerHost!;
  const rawPort = cfg.rawPort!;
  const sendOne: Record<Mode, () => void> = {
    raw: () => raw.send(rawPayload, rawPort, host),
    vtep: () => sock.send(vtepPayload, RECV.ip, APP_PORT),
  };

  let mode: Mode | undefined;
  let sent = 0;
  let acked = 0;
  // Sent count that acknowledgement 0 corresponds to (losses shift it).
  let base = 0;
  let lastProgress = 0;
  let startedAt = 0n;
  const ctl = createSocket('udp4');
  await new Promise<void>((r) => ctl.bind(0, cfg.host, r));
  ctl.on('message', (m: Buffer) => {
    if (mode === undefined || m[0] !== MODE_BYTE[mode]) return;
    const n = m.readDoubleBE(1);
    if (n > acked) {
      acked = n;
      lastProgress = Date.now();
    }
  });
  ctl.send(Buffer.from('hello'), cfg.ctlPort!, host);

  const window = cfg.window;
  /** Bumped on every start, so a loop of an earlier run never runs on. */
  let run = 0;
  const loop = (mine: number): void => {
    const m = mode;
    if (m === undefined || mine !== run) return;
    let room = window - (sent - base - acked);
    if (room <= 0 && Date.now() - lastProgress > 200) {
      // Nothing acknowledged for 200 ms (far longer than a descheduled
      // receiver takes to catch up): count what is in flight as lost.
      base = sent - acked;
      lastProgress = Date.now();
      room = window;
    }
    const n = room < cfg.batch ? room : cfg.batch;
    const send = sendOne[m];
    for (let i = 0; i < n; i++) send();
    if (n > 0) sent += n;
    setImmediate(loop, mine);
  };
  commands(([cmd, arg]) => {
    if (cmd === 'start' && (arg === 'raw' || arg === 'vtep')) {
      mode = arg;
      sent = acked = base = 0;
      lastProgress = Date.now();
      startedAt = process.hrtime.bigint();
      setImmediate(loop, ++run);
      return 'ok';
    }
    if (cmd === 'stop') {
      const s = Number(process.hrtime.bigint() - startedAt) / 1e9;
      mode = undefined;
      return JSON.stringify({ sentPps: s > 0 ? sent / s : 0 });
    }
    return `error unknown command ${cmd}`;
  });
  process.stdout.write('ready\n');
}

(cfg.role === 'recv' ? receiver() : sender()).catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
