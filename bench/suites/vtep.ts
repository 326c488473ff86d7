/**
 * VTEP benchmark.
 * - `vtep forward pps`: two processes on loopback, each holding both modes
 *   (bench/vtep/peer.ts). VTEP mode: an Endpoint behind one Vtep sends
 *   1400-byte inner frames (UDP) to an Endpoint behind the other; the
 *   receiver counts messages delivered to the Endpoint's socket. Raw mode
 *   (the baseline): raw node:dgram sends 1400-byte datagrams between the same
 *   two processes, same sending loop, batch, flow-control window and
 *   synchronous address lookup. Measured like the crypto suite: many short
 *   rounds, each a raw window and a VTEP window in alternating order; the
 *   ratio is the median of per-round ratios, printed with its spread.
 * - `vxlan header decode`: `vxlanHeader.decode` on an 8-byte header, in-process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { opsPerSecond, type BenchContext, type BenchRow } from '../row';
import { median, spreadOf } from '../stats';
import { cpuSeconds } from '../proc-cpu';
import { vxlanHeader, readVni } from '../../packages/vxlan/src';

const PEER = join(__dirname, '..', 'vtep', 'peer.ts');
const FRAME_BYTES = 1400;

/** A peer process driven by one-line commands, one answer line each. */
class Peer {
  private readonly lines: AsyncIterator<string>;
  private constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static start(config: Record<string, unknown>): Peer {
    const child = spawn(process.execPath, ['--import', 'tsx', PEER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'], cwd: join(__dirname, '..', '..') });
    return new Peer(child);
  }

  /** The next line the peer prints; rejects after `timeoutMs` or when it exits. */
  async line(timeoutMs = 30_000): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`vtep bench peer: no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.lines.next(), timeout]);
      if (r.done) throw new Error('vtep bench peer exited');
      return String(r.value);
    } finally {
      clearTimeout(timer);
    }
  }

  async ask(command: string): Promise<string> {
    this.child.stdin!.write(`${command}\n`);
    return this.line();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Window {
  /** Packets/s delivered at the receiver. */
  pps: number;
  /** CPU µs (sender + receiver process, from /proc) per packet delivered in the window. */
  cpuUs: number;
  /** Packets/s the sender offered over the whole run (warm-up included). */
  sentPps: number;
}

export default async function vtep(ctx: BenchContext): Promise<BenchRow[]> {
  const rounds = Math.max(5, Math.round(21 * ctx.scale));
  const warmupMs = 150;
  const windowMs = 400;
  const drainMs = 100;
  const common = { frameBytes: FRAME_BYTES, batch: 64, window: 2048, ackEvery: 32, udpChecksum: true, maxMs: 30 * 60_000 };
  const recv = Peer.start({ ...common, role: 'recv', host: '127.0.0.2' });
  let send: Peer | undefined;
  const raw: number[] = [];
  const tunneled: number[] = [];
  const ratios: number[] = [];
  const rawCpu: number[] = [];
  const vtepCpu: number[] = [];
  try {
    const [, rawPort, vtepPort, ctlPort] = (await recv.line()).split(' ').map(Number);
    if (!rawPort || !vtepPort || !ctlPort) throw new Error('vtep bench receiver did not start');
    send = Peer.start({ ...common, role: 'send', host: '127.0.0.1', peerHost: '127.0.0.2', rawPort, vtepPort, ctlPort });
    if ((await send.line()) !== 'ready') throw new Error('vtep bench sender did not start');
    const s = send;
    const window = async (mode: 'raw' | 'vtep'): Promise<Window> => {
      await recv.ask('reset');
      await s.ask(`start ${mode}`);
      await sleep(warmupMs);
      const pids = [recv.child.pid!, s.child.pid!];
      const cpu0 = cpuSeconds(pids);
      const t0 = process.hrtime.bigint();
      const counted = JSON.parse(await recv.ask(`count ${windowMs}`)) as Record<'raw' | 'vtep', number>;
      const cpu = cpuSeconds(pids) - cpu0;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const { sentPps } = JSON.parse(await s.ask('stop')) as { sentPps: number };
      await sleep(drainMs);
      return { pps: counted[mode], sentPps, cpuUs: (cpu / (counted[mode] * seconds)) * 1e6 };
    };
    // Two unrecorded rounds: JIT warm-up of both paths in both processes.
    for (let i = 0; i < 2; i++) for (const m of ['raw', 'vtep'] as const) await window(m);
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['raw', 'vtep'] as const) : (['vtep', 'raw'] as const);
      const got: Partial<Record<'raw' | 'vtep', Window>> = {};
      for (const m of order) got[m] = await window(m);
      raw.push(got.raw!.pps);
      tunneled.push(got.vtep!.pps);
      ratios.push(got.vtep!.pps / got.raw!.pps);
      rawCpu.push(got.raw!.cpuUs);
      vtepCpu.push(got.vtep!.cpuUs);
      ctx.log(
        `round ${i + 1}/${rounds}: raw ${Math.round(got.raw!.pps)}/s (offered ${Math.round(got.raw!.sentPps)}, ${got.raw!.cpuUs.toFixed(1)} µs CPU/packet), ` +
          `vtep ${Math.round(got.vtep!.pps)}/s (offered ${Math.round(got.vtep!.sentPps)}, ${got.vtep!.cpuUs.toFixed(1)} µs CPU/packet), ratio ${ratios[i]!.toFixed(3)}`,
      );
    }
  } finally {
    send?.kill();
    recv.kill();
  }

  // Local bindings: measure the functions, not tsx's CommonJS re-export getters.
  const codec = vxlanHeader;
  const read = readVni;
  const header = codec.encode({ vni: 4096 });
  let sink = 0;
  const decodes = opsPerSecond((n) => {
    for (let i = 0; i < n; i++) sink ^= codec.decode(header, 0).value.vni;
  }, 1000, 10_000);
  const fastReads = opsPerSecond((n) => {
    for (let i = 0; i < n; i++) sink ^= read(header, 0);
  }, 500, 10_000);
  if (sink === -1) ctx.log('unreachable');

  return [
    {
      name: 'vtep forward pps',
      value: median(tunneled),
      unit: 'packets/s',
      baseline: median(raw),
      baselineName: 'raw node:dgram',
      ratio: median(ratios),
      spread: spreadOf(ratios, 'ratio'),
      target: 'ratio >= 0.85',
      note:
        `${FRAME_BYTES}-byte inner frames Endpoint→Vtep→loopback→Vtep→Endpoint socket (UDP checksum on), sender and receiver in two processes; ` +
        `baseline: ${FRAME_BYTES}-byte datagrams between the same two processes, same loop (batches of ${common.batch} per setImmediate), same synchronous address lookup; ` +
        `both: sender window ${common.window} packets acknowledged out of band every ${common.ackEvery}. ` +
        `${rounds} rounds, each one raw and one VTEP window (${warmupMs} ms warm-up, ${windowMs} ms counted at the receiver, ${drainMs} ms drain) in alternating order, after 2 unrecorded warm-up rounds; ` +
        `value and baseline are medians of the windows, ratio = median of per-round ratios. ` +
        `CPU of both processes (/proc) per delivered packet, median: vtep ${median(vtepCpu).toFixed(1)} µs, raw ${median(rawCpu).toFixed(1)} µs (10 ms clock ticks: a rough figure)`,
    },
    {
      name: 'vxlan header decode',
      value: decodes,
      unit: 'headers/s',
      target: '>= 5,000,000',
      note: `vxlanHeader.decode (allocates the result); the receive path's readVni does ${Math.round(fastReads).toLocaleString('en-US')}/s`,
    },
  ];
}
