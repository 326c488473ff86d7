/**
 * A sender/receiver pair of bench/vtep/peer.ts processes started inside
 * namespaces (`ip netns exec NS node --import tsx bench/vtep/peer.ts`): the
 * same script, sending loop, batch and flow-control window as the vtep
 * suite; `raw` mode sends with node:dgram (here: container to container over
 * the kernel plane), `vtep` mode through a userspace Endpoint behind a Vtep
 * (here: host to host over the underlay, what core's userspace data plane runs).
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { BenchLab } from './lab';

const PEER = join(__dirname, '..', 'vtep', 'peer.ts');

class Peer {
  private readonly lines: AsyncIterator<string>;
  constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(`  linux udp peer: ${d.toString()}`));
  }

  async line(timeoutMs = 60_000): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`linux bench udp peer: no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.lines.next(), timeout]);
      if (r.done) throw new Error('linux bench udp peer exited');
      return String(r.value);
    } finally {
      clearTimeout(timer);
    }
  }

  async ask(command: string): Promise<string> {
    this.child.stdin!.write(`${command}\n`);
    return this.line();
  }
}

export interface UdpPairOptions {
  lab: BenchLab;
  /** Namespace and address of the receiver and the sender. */
  recv: { ns: string; host: string };
  send: { ns: string; host: string };
  mode: 'raw' | 'vtep';
  /** UDP payload bytes of every datagram (the same in both modes). */
  payloadBytes: number;
  batch: number;
  window: number;
  ackEvery: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A started pair; `window()` measures one counted window. */
export class UdpPair {
  private constructor(
    private readonly o: UdpPairOptions,
    private readonly recv: Peer,
    private readonly send: Peer,
  ) {}

  static async start(o: UdpPairOptions): Promise<UdpPair> {
    // peer.ts: raw datagrams carry `frameBytes`; vtep frames carry frameBytes − 42 (Ethernet + IPv4 + UDP headers) of payload
    const frameBytes = o.mode === 'raw' ? o.payloadBytes : o.payloadBytes + 42;
    const common = { frameBytes, batch: o.batch, window: o.window, ackEvery: o.ackEvery, udpChecksum: true, maxMs: 30 * 60_000 };
    const node = (ns: string, cfg: object): Peer => new Peer(o.lab.spawn(ns, process.execPath, ['--import', 'tsx', PEER, JSON.stringify(cfg)]));
    const recv = node(o.recv.ns, { ...common, role: 'recv', host: o.recv.host });
    const [, rawPort, vtepPort, ctlPort] = (await recv.line()).split(' ').map(Number);
    if (!rawPort || !vtepPort || !ctlPort) throw new Error('linux bench udp receiver did not start');
    const send = node(o.send.ns, { ...common, role: 'send', host: o.send.host, peerHost: o.recv.host, rawPort, vtepPort, ctlPort });
    if ((await send.line()) !== 'ready') throw new Error('linux bench udp sender did not start');
    return new UdpPair(o, recv, send);
  }

  /** Datagrams/s delivered to the receiving socket over `windowMs`, after `warmupMs` of sending. */
  async window(warmupMs: number, windowMs: number): Promise<{ pps: number; sentPps: number }> {
    await this.recv.ask('reset');
    await this.send.ask(`start ${this.o.mode}`);
    await sleep(warmupMs);
    const counted = JSON.parse(await this.recv.ask(`count ${windowMs}`)) as Record<'raw' | 'vtep', number>;
    const { sentPps } = JSON.parse(await this.send.ask('stop')) as { sentPps: number };
    await sleep(100); // drain
    return { pps: counted[this.o.mode], sentPps };
  }

  stop(): void {
    this.send.child.kill('SIGKILL');
    this.recv.child.kill('SIGKILL');
  }
}
