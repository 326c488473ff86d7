/**
 * `linux encrypted relay` (issue 13, Speed): UDP container → container on an
 * encrypted network between two kernel-plane hosts, each a `weft` node
 * process in its own host namespace (the relay seals and opens in the node
 * process: every packet crosses into a node process and back on both hosts),
 * as a ratio of `@weft/crypto`'s bare seal+open rate for the same packet
 * size (the VXLAN packet the relay seals) measured in this process in the
 * same run, interleaved with the UDP windows. Needs root (namespaces, the
 * kernel plane); two cores are shared by the sender, both node processes,
 * the receiver and the kernel.
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
  if (missing !== undefined) return [{ name: 'linux encrypted relay', value: NaN, unit: 'ratio', target: 'ratio >= 0.3', note: `not run: ${missing}` }];
  const lab = new BenchLab();
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-relay-'));
  const procs: WeftProcess[] = [];
  let pair: UdpPair | undefined;
  try {
    lab.underlay(2);
    const ports = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];
    const flags = (i: number): string[] => ['--advertise-addr', `${UNDERLAY}.${i}`, '--data-addr', `${UNDERLAY}.${i}`, '--data-plane', 'kernel', ...ports, ...FAST_TIMING];
    procs.push(await WeftProcess.start(join(dir, '1'), ['init', '--node-id', `${lab.tag}-1`, ...flags(1)], { netns: lab.host(1) }));
    const info = await weftJson<{ joinAddress: string }>(join(dir, '1'), ['info']);
    const token = (await weft(join(dir, '1'), ['join-token', 'worker', '--quiet'])).stdout.trim();
    procs.push(await WeftProcess.start(join(dir, '2'), ['join', token, info.joinAddress, '--node-id', `${lab.tag}-2`, ...flags(2)], { netns: lab.host(2) }));
    await weftJson(join(dir, '1'), ['network', 'create', 'relay', '--subnet', '10.79.0.0/24', '--encrypted']);
    const x1 = lab.namespace('x1');
    const x2 = lab.namespace('x2');
    const e1 = await weftJson<{ ip: string }>(join(dir, '1'), ['endpoint', 'attach', 'relay', 'x1', '--netns', `/var/run/netns/${x1}`]);
    const e2 = await weftJson<{ ip: string }>(join(dir, '2'), ['endpoint', 'attach', 'relay', 'x2', '--netns', `/var/run/netns/${x2}`]);
    ctx.log(`relay: containers ${e1.ip} → ${e2.ip} on an encrypted network, two kernel-plane node processes`);
    pair = await UdpPair.start({ lab, mode: 'raw', recv: { ns: x2, host: e2.ip }, send: { ns: x1, host: e1.ip }, payloadBytes: PAYLOAD, batch: 64, window: 1024, ackEvery: 32 });
    const bare = sealOpen();
    for (let i = 0; i < 2; i++) await pair.window(300, 600); // warm-up (ARP, JIT), unrecorded
    const rounds = Math.max(5, Math.round(7 * ctx.scale));
    const relay: number[] = [];
    const base: number[] = [];
    const ratios: number[] = [];
    const offered: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const w = await pair.window(300, 1000);
      const b = opsPerSecond(bare, 500, 50);
      relay.push(w.pps);
      offered.push(w.sentPps);
      base.push(b);
      ratios.push(w.pps / b);
      ctx.log(`relay round ${r + 1}/${rounds}: ${Math.round(w.pps)} datagrams/s delivered (offered ${Math.round(w.sentPps)}/s), bare seal+open ${Math.round(b)}/s, ratio ${ratios[r]!.toFixed(3)}`);
    }
    return [
      {
        name: 'linux encrypted relay',
        value: median(relay),
        unit: 'packets/s',
        baseline: median(base),
        baselineName: `bare seal+open, aes-256-gcm, ${SEALED} B`,
        ratio: median(ratios),
        spread: spreadOf(ratios, 'ratio'),
        target: 'ratio >= 0.3',
        note: `${PAYLOAD}-byte UDP datagrams container → container on an encrypted network across two kernel-plane hosts (one weft node process per host namespace); median of ${rounds} 1 s windows (offered ${Math.round(median(offered))}/s) and of per-round ratios; every packet crosses kernel → relay (dnat) → seal → underlay → open → kernel on a 2-core machine shared by sender, receiver and both node processes`,
      },
    ];
  } finally {
    pair?.stop();
    for (const p of procs) await Promise.race([p.stop(), new Promise((r) => setTimeout(r, 10_000))]);
    await killAllWeft();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
    if (sink === -1) ctx.log('');
  }
}
