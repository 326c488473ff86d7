/**
 * `linux encrypted relay` (issue 13: "document the design and its throughput
 * cost"): UDP container → container on an encrypted network between two
 * kernel-plane hosts, each a `weft` node process in its own host namespace
 * (the relay seals and opens in the node process: every packet crosses into
 * a node process and back on both hosts), as a ratio of the same stream
 * between two other containers of the same hosts on a plain network (kernel
 * VXLAN end to end), same sender, receiver, payload and flow control,
 * windows interleaved. `@weft/crypto`'s bare seal+open rate for the sealed
 * packet size is measured in the same run and reported beside it. Needs
 * root (namespaces, the kernel plane); two cores are shared by the sender,
 * both node processes, the receiver and the kernel.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecurityAssociation } from '@weft/crypto';
import { opsPerSecond, type BenchContext, type BenchRow } from '../row';
import { median, spreadOf } from '../stats';
import { BenchLab, UNDERLAY, missingPrerequisite } from '../linux-plane/lab';
import { UdpPair } from '../linux-plane/udp-pair';
import { FAST_TIMING, killAllWeft, weft, weftJson, WeftProcess } from '../../test-support/weft-process';

/** UDP payload of each datagram; the relay seals payload + 8 (UDP) + 20 (IPv4) + 14 (Ethernet) + 8 (VXLAN) bytes. */
const PAYLOAD = 1350;
const SEALED = PAYLOAD + 50;

let sink = 0;

function sealOpen(): (n: number) => void {
  const key = randomBytes(32);
  const salt = randomBytes(4);
  const tx = new SecurityAssociation({ spi: 0x10000, suite: 'aes-256-gcm', key, salt });
  const rx = new SecurityAssociation({ spi: 0x10000, suite: 'aes-256-gcm', key, salt });
  const packet = randomBytes(SEALED);
  return (n) => {
    for (let i = 0; i < n; i++) sink += rx.open(tx.seal(packet)).length;
  };
}

export default async function linuxRelay(ctx: BenchContext): Promise<BenchRow[]> {
  const missing = missingPrerequisite();
  if (missing !== undefined) return [{ name: 'linux encrypted relay', value: NaN, unit: 'ratio', note: `not run: ${missing}` }];
  const lab = new BenchLab();
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-relay-'));
  const procs: WeftProcess[] = [];
  let enc: UdpPair | undefined;
  let plain: UdpPair | undefined;
  try {
    lab.underlay(2);
    const ports = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];
    const flags = (i: number): string[] => ['--advertise-addr', `${UNDERLAY}.${i}`, '--data-addr', `${UNDERLAY}.${i}`, '--data-plane', 'kernel', ...ports, ...FAST_TIMING];
    procs.push(await WeftProcess.start(join(dir, '1'), ['init', '--node-id', `${lab.tag}-1`, ...flags(1)], { netns: lab.host(1) }));
    const info = await weftJson<{ joinAddress: string }>(join(dir, '1'), ['info']);
    const token = (await weft(join(dir, '1'), ['join-token', 'worker', '--quiet'])).stdout.trim();
    procs.push(await WeftProcess.start(join(dir, '2'), ['join', token, info.joinAddress, '--node-id', `${lab.tag}-2`, ...flags(2)], { netns: lab.host(2) }));
    await weftJson(join(dir, '1'), ['network', 'create', 'relay', '--subnet', '10.79.0.0/24', '--encrypted']);
    await weftJson(join(dir, '1'), ['network', 'create', 'plain', '--subnet', '10.80.0.0/24']);
    const x1 = lab.namespace('x1');
    const x2 = lab.namespace('x2');
    const y1 = lab.namespace('y1');
    const y2 = lab.namespace('y2');
    const attach = (node: string, net: string, ns: string): Promise<{ ip: string }> =>
      weftJson<{ ip: string }>(join(dir, node), ['endpoint', 'attach', net, ns, '--netns', `/var/run/netns/${ns}`]);
    const e1 = await attach('1', 'relay', x1);
    const e2 = await attach('2', 'relay', x2);
    const p1 = await attach('1', 'plain', y1);
    const p2 = await attach('2', 'plain', y2);
    ctx.log(`relay: containers ${e1.ip} → ${e2.ip} on an encrypted network, ${p1.ip} → ${p2.ip} on a plain one, two kernel-plane node processes`);
    const flow = { payloadBytes: PAYLOAD, batch: 64, window: 1024, ackEvery: 32 };
    enc = await UdpPair.start({ lab, mode: 'raw', recv: { ns: x2, host: e2.ip }, send: { ns: x1, host: e1.ip }, ...flow });
    plain = await UdpPair.start({ lab, mode: 'raw', recv: { ns: y2, host: p2.ip }, send: { ns: y1, host: p1.ip }, ...flow });
    const bare = sealOpen();
    for (let i = 0; i < 2; i++) {
      await enc.window(300, 600); // warm-up (ARP, JIT), unrecorded
      await plain.window(300, 600);
    }
    const rounds = Math.max(5, Math.round(7 * ctx.scale));
    const relay: number[] = [];
    const base: number[] = [];
    const ratios: number[] = [];
    const bareRates: number[] = [];
    const ofBare: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const [first, second] = r % 2 === 0 ? [enc, plain] : [plain, enc];
      const a = await first.window(300, 1000);
      const b = await second.window(300, 1000);
      const [w, pw] = r % 2 === 0 ? [a, b] : [b, a];
      const sb = opsPerSecond(bare, 500, 50);
      relay.push(w.pps);
      base.push(pw.pps);
      ratios.push(w.pps / pw.pps);
      bareRates.push(sb);
      ofBare.push(w.pps / sb);
      ctx.log(
        `relay round ${r + 1}/${rounds}: encrypted ${Math.round(w.pps)} datagrams/s (offered ${Math.round(w.sentPps)}/s), plain ${Math.round(pw.pps)}/s (offered ${Math.round(pw.sentPps)}/s), ratio ${ratios[r]!.toFixed(3)}; bare seal+open ${Math.round(sb)}/s`,
      );
    }
    return [
      {
        name: 'linux encrypted relay',
        value: median(relay),
        unit: 'packets/s',
        baseline: median(base),
        baselineName: 'the same stream on a plain network, kernel VXLAN end to end',
        ratio: median(ratios),
        spread: spreadOf(ratios, 'ratio'),
        note:
          `${PAYLOAD}-byte UDP datagrams container → container across two kernel-plane hosts (one weft node process per host namespace), on an encrypted network (every packet crosses kernel → relay (dnat) → seal → underlay → open → kernel) and, as the baseline, between two other containers of the same hosts on a plain network; the same raw node:dgram sender and receiver (bench/vtep/peer.ts: batches of 64, at most 1024 unacknowledged, an ack every 32), ` +
          `median of ${rounds} interleaved pairs of 1 s windows and of per-pair ratios; encrypted ${Math.round(Math.min(...relay))}–${Math.round(Math.max(...relay))}/s, plain ${Math.round(Math.min(...base))}–${Math.round(Math.max(...base))}/s. ` +
          `For scale: @weft/crypto's bare seal+open of the ${SEALED}-byte sealed packet in this process ran ${Math.round(median(bareRates))}/s (the relay delivered ${median(ofBare).toFixed(2)}× that, ${Math.min(...ofBare).toFixed(2)}–${Math.max(...ofBare).toFixed(2)}×). ` +
          `No target (the issue asks for the cost to be documented); a 2-core machine shared by both senders and receivers, both node processes and the kernel`,
      },
    ];
  } finally {
    enc?.stop();
    plain?.stop();
    for (const p of procs) await Promise.race([p.stop(), new Promise((r) => setTimeout(r, 10_000))]);
    await killAllWeft();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
    if (sink === -1) ctx.log('');
  }
}
