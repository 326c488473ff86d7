/**
 * Row `core encrypted vs plaintext`: UDP datagrams/s from an endpoint on one
 * node to an endpoint on another, on an encrypted network and on a plain
 * one, same two nodes (one process), same datagram size, same sending loop,
 * alternating rounds.
 *
 * Flow control, identical in both modes: the receiver's count of datagrams
 * taken is read directly by the sender (same process: an out-of-band
 * acknowledgement that costs nothing), and the sender keeps at most `window`
 * datagrams beyond it in flight, so neither mode measures a flooded socket
 * queue. A window that makes no progress for 100 ms is written off as lost.
 */
import type { Attachment } from '@weft/core';
import { LocalCluster } from '@weft/core/testing';
import { firstPing } from './reachability';
import { udpRound, type UdpRoundOptions } from './udp-round';

const PORT = 9000;
/** Inner IPv4 + UDP headers. */
const IP_UDP_HEADERS = 28;

export interface OverlayRound {
  /** Datagrams/s delivered to the receiving endpoint's socket over the window. */
  readonly pps: number;
  /** Datagrams the sender wrote off (in flight with no progress for 100 ms), over the whole round. */
  readonly lost: number;
  /** CPU time of the whole process (both nodes, user + system) per datagram delivered in the window, µs. */
  readonly cpuUs: number;
}

export interface OverlayResult {
  readonly plain: number[];
  readonly encrypted: number[];
  readonly ratios: number[];
  readonly lost: { plain: number; encrypted: number };
  /** CPU µs per delivered datagram, per round. */
  readonly cpuUs: { plain: number[]; encrypted: number[] };
  readonly datagramBytes: number;
  readonly mtus: { plain: number; encrypted: number };
  readonly suite: string;
}

interface Pair {
  readonly from: Attachment;
  readonly to: Attachment;
}

/** One round: `bytes`-byte datagrams from `pair.from` to `pair.to` (the loop of ./udp-round.ts); counted at the receiving socket. */
async function round(pair: Pair, bytes: number, o: UdpRoundOptions): Promise<OverlayRound> {
  const r = await udpRound(pair.from.endpoint, pair.to.endpoint, pair.to.ip, PORT, bytes, o);
  return { pps: r.pps, lost: r.lost, cpuUs: r.cpuUs };
}

export async function overlayThroughput(options: {
  pairs: number;
  warmMs: number;
  windowMs: number;
  window: number;
  batch: number;
  log: (m: string) => void;
}): Promise<OverlayResult> {
  const cluster = await LocalCluster.start({ managers: 1, workers: 1, control: 'tcp', underlay: 'udp', storage: 'memory' });
  try {
    const m1 = cluster.node('m1');
    const w1 = cluster.node('w1');
    const plainNet = await m1.createNetwork({ name: 'bench-plain', attachable: true });
    const sealedNet = await m1.createNetwork({ name: 'bench-sealed', attachable: true, encrypted: true, suite: 'aes-256-gcm' });
    const bytes = Math.min(1400, plainNet.mtu - IP_UDP_HEADERS, sealedNet.mtu - IP_UDP_HEADERS);
    const pairs: Record<'plain' | 'encrypted', Pair> = {
      plain: { from: await m1.attach(plainNet.name, { name: 'tx' }), to: await w1.attach(plainNet.name, { name: 'rx' }) },
      encrypted: { from: await m1.attach(sealedNet.name, { name: 'tx' }), to: await w1.attach(sealedNet.name, { name: 'rx' }) },
    };
    for (const p of Object.values(pairs)) {
      if ((await firstPing(p.from.endpoint, p.to.ip, { everyMs: 20, pingTimeoutMs: 200, boundMs: 10_000 })) === undefined) throw new Error(`setup: ${p.from.networkName} tx cannot ping rx`);
    }
    const rates = { plain: [] as number[], encrypted: [] as number[] };
    const lost = { plain: 0, encrypted: 0 };
    const cpuUs = { plain: [] as number[], encrypted: [] as number[] };
    let counting = false;
    const ratios: number[] = [];
    const run = async (mode: 'plain' | 'encrypted'): Promise<number> => {
      const r = await round(pairs[mode], bytes, options);
      lost[mode] += r.lost;
      if (counting) cpuUs[mode].push(r.cpuUs);
      return r.pps;
    };
    // Warm-up (not counted): both paths JIT-compiled, SAs established.
    await run('plain');
    await run('encrypted');
    lost.plain = 0;
    lost.encrypted = 0;
    counting = true;
    for (let i = 0; i < options.pairs; i++) {
      const order: ('plain' | 'encrypted')[] = i % 2 === 0 ? ['plain', 'encrypted'] : ['encrypted', 'plain'];
      const got: Partial<Record<'plain' | 'encrypted', number>> = {};
      for (const mode of order) got[mode] = await run(mode);
      rates.plain.push(got.plain!);
      rates.encrypted.push(got.encrypted!);
      ratios.push(got.encrypted! / got.plain!);
      options.log(
        `overlay pair ${i + 1}/${options.pairs}: plain ${Math.round(got.plain!)}/s (${cpuUs.plain.at(-1)!.toFixed(1)} µs CPU each), encrypted ${Math.round(got.encrypted!)}/s (${cpuUs.encrypted.at(-1)!.toFixed(1)} µs CPU each), ratio ${(got.encrypted! / got.plain!).toFixed(3)}`,
      );
    }
    return { plain: rates.plain, encrypted: rates.encrypted, ratios, lost, cpuUs, datagramBytes: bytes, mtus: { plain: plainNet.mtu, encrypted: sealedNet.mtu }, suite: 'aes-256-gcm' };
  } finally {
    await cluster.close();
  }
}
