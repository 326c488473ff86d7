/**
 * VTEP benchmark.
 * - `vtep forward pps`: two Vteps in separate processes on loopback; an
 *   Endpoint behind one sends 1400-byte inner frames (UDP) to an Endpoint
 *   behind the other as fast as it can; the receiving process counts messages
 *   delivered to the Endpoint's socket over a fixed window. Baseline: raw
 *   node:dgram between two processes with the same 1400-byte payload, same
 *   sending loop, same window, measured in the same run. Rounds alternate
 *   raw/VTEP; the median of each is reported.
 *   Both modes use the same out-of-band flow control (the receiver
 *   acknowledges every 32 packets on a plain UDP control socket; the sender
 *   keeps at most 2048 unacknowledged): without it the faster raw sender
 *   floods the receiver's queue and the kernel's drop work steals CPU from the
 *   receiver on a 2-core machine, which made raw look slower than the VTEP.
 * - `vxlan header decode`: `vxlanHeader.decode` on an 8-byte header, in-process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { opsPerSecond, type BenchContext, type BenchRow } from '../row';
import { vxlanHeader, readVni } from '../../packages/vxlan/src';

const PEER = join(__dirname, '..', 'vtep', 'peer.ts');
const FRAME_BYTES = 1400;

function child(config: Record<string, unknown>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', PEER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(__dirname, '..', '..') });
}

function lines(c: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: c.stdout! })[Symbol.asyncIterator]();
}

interface RoundResult {
  /** Packets/s delivered at the receiver over the window. */
  pps: number;
  /** Packets/s the sender offered (after its warm-up), for seeing which side limits. */
  sentPps: number;
}

async function round(mode: 'raw' | 'vtep', windowMs: number, udpChecksum: boolean): Promise<RoundResult> {
  const common = { frameBytes: FRAME_BYTES, warmupMs: 500, windowMs, idleMs: 15_000, maxMs: windowMs + 20_000, batch: 64, window: 2048, ackEvery: 32, udpChecksum };
  const recv = child({ ...common, role: `${mode}-recv`, host: '127.0.0.2' });
  let send: ChildProcess | undefined;
  const kill = setTimeout(() => {
    recv.kill('SIGKILL');
    send?.kill('SIGKILL');
  }, windowMs + 30_000);
  try {
    const out = lines(recv);
    const ready = await out.next();
    const [, portText, ctlText] = String(ready.value).split(' ');
    const port = Number(portText);
    const ctlPort = Number(ctlText);
    if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(ctlPort)) throw new Error(`${mode} receiver did not start: ${String(ready.value)}`);
    send = child({ ...common, role: `${mode}-send`, host: '127.0.0.1', peerHost: '127.0.0.2', peerPort: port, ctlPort });
    const result = await out.next();
    const pps = (JSON.parse(String(result.value)) as { pps: number }).pps;
    const sender = send;
    const sentPps = await new Promise<number>((resolve) => {
      const t = setTimeout(() => resolve(0), 3000);
      const senderOut = lines(sender);
      sender.kill('SIGTERM');
      senderOut.next().then(
        (r) => {
          clearTimeout(t);
          try {
            resolve((JSON.parse(String(r.value)) as { sentPps: number }).sentPps);
          } catch {
            resolve(0);
          }
        },
        () => resolve(0),
      );
    });
    return { pps, sentPps };
  } finally {
    clearTimeout(kill);
    send?.kill('SIGKILL');
    recv.kill('SIGKILL');
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export default async function vtep(ctx: BenchContext): Promise<BenchRow[]> {
  const rounds = Math.max(1, Math.round(5 * ctx.scale));
  const windowMs = 2000;
  const raw: number[] = [];
  const tunneled: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const mode of ['raw', 'vtep'] as const) {
      const r = await round(mode, windowMs, true);
      (mode === 'raw' ? raw : tunneled).push(r.pps);
      ctx.log(`round ${i + 1}: ${mode === 'raw' ? 'raw node:dgram' : 'vtep'} received ${Math.round(r.pps)} packets/s (sender offered ${Math.round(r.sentPps)}/s)`);
    }
  }
  const rawPps = median(raw);
  const vtepPps = median(tunneled);
  const range = (xs: number[]): string => `${Math.round(Math.min(...xs)).toLocaleString('en-US')}–${Math.round(Math.max(...xs)).toLocaleString('en-US')}`;

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
      value: vtepPps,
      unit: 'packets/s',
      baseline: rawPps,
      baselineName: 'raw node:dgram',
      ratio: vtepPps / rawPps,
      target: 'ratio >= 0.85',
      note: `${FRAME_BYTES}-byte inner frames Endpoint→Vtep→loopback→Vtep→Endpoint socket (UDP checksum on), two processes, sender window 2048 packets acknowledged out of band; baseline ${FRAME_BYTES}-byte datagrams, same loop, window and synchronous address lookup; median of ${rounds} alternating ${windowMs} ms windows counted at the receiver (vtep ${range(tunneled)}, raw ${range(raw)})`,
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
