/**
 * @weft/linux (kernel data plane) benchmarks, root only; without root (or
 * `ip netns`, iperf3) the suite prints why and returns no rows. Topology:
 * bench/linux-plane/lab.ts (three host namespaces on a switch, MTU 1500;
 * Weft's overlay VNI 7001 programmed by one KernelDataPlane per host; a
 * hand-built kernel VXLAN overlay VNI 7002 beside it on the same hosts).
 * - `linux tcp throughput`: iperf3 container→container host 1→host 2 on
 *   Weft's overlay ÷ the same on the hand-built one, alternating rounds;
 *   host→host over the underlay in the same rounds (a row of its own).
 * - `linux vs userspace`: 1400-byte UDP datagrams/s container→container on
 *   the kernel plane ÷ the same stream between userspace endpoints (an
 *   Endpoint behind a Vtep in each host namespace, what core's userspace
 *   plane runs), both driven by bench/vtep/peer.ts: one node process each
 *   side, same sending loop, batch and flow-control window.
 * - `linux attach to reachable`: ms from addLocalEndpoint() resolving on
 *   host 1 to the first ping reply from the containers on hosts 2 and 3;
 *   baseline: the same attach made by hand (sh + ip/bridge) on the
 *   hand-built overlay, same probe, alternating iterations.
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import type { BenchContext, BenchRow } from '../row';
import { median, quantile, spreadOf } from '../stats';
import { BenchLab, HAND_NET, UNDERLAY, WEFT_NET, handAttachScript, handRemoteScript, localSpec, missingPrerequisite, remoteSpec, run, weftNetwork } from '../linux-plane/lab';
import { UdpPair } from '../linux-plane/udp-pair';

/** The 1-minute load average when a row is written, so a reader can tell a quiet machine's figure from a busy one's. */
function machineLoad(): string {
  return `load average ${loadavg()[0]!.toFixed(1)} when the row was written`;
}
import type { KernelDataPlane } from '@weft/linux';

const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `cmd args` without blocking the event loop; resolves stdout. */
function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${cmd} ${args.join(' ')}\` failed: ${String(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/** One iperf3 client run from `ns` to `server`: received bits/s (TCP, one stream). */
async function iperf(ns: string, server: string, seconds: number, omit: number): Promise<number> {
  const out = await runAsync('ip', ['netns', 'exec', ns, 'iperf3', '-c', server, '-t', String(seconds), '-O', String(omit), '-J'], (seconds + omit + 30) * 1000);
  const j = JSON.parse(out) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  const bps = j.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number' || j.error) throw new Error(`iperf3 from ${ns} to ${server}: ${j.error ?? 'no result'}`);
  return bps;
}

/**
 * One iperf3 UDP client run from `ns` to `server` at no rate limit (`-b 0`),
 * `bytes`-byte datagrams: datagrams/s received by the server (sent − lost, over the run).
 */
async function iperfUdp(ns: string, server: string, seconds: number, bytes: number): Promise<{ pps: number; sentPps: number }> {
  const out = await runAsync('ip', ['netns', 'exec', ns, 'iperf3', '-u', '-b', '0', '-l', String(bytes), '-c', server, '-t', String(seconds), '-J'], (seconds + 30) * 1000);
  const j = JSON.parse(out) as { end?: { sum?: { packets?: number; lost_packets?: number; seconds?: number } }; error?: string };
  const sum = j.end?.sum;
  if (sum?.packets === undefined || sum.lost_packets === undefined || !sum.seconds || j.error) throw new Error(`iperf3 -u from ${ns} to ${server}: ${j.error ?? 'no result'}`);
  return { pps: (sum.packets - sum.lost_packets) / sum.seconds, sentPps: sum.packets / sum.seconds };
}

/** Starts `iperf3 -s` in each namespace and waits (bounded) until each listens. */
async function iperfServers(lab: BenchLab, nss: string[]): Promise<void> {
  for (const ns of nss) lab.spawn(ns, 'iperf3', ['-s']);
  for (const ns of nss) {
    for (let i = 0; ; i++) {
      if (/:5201\b/.test(run('ip', ['netns', 'exec', ns, 'ss', '-Htln']))) break;
      if (i >= 200) throw new Error(`iperf3 -s in ${ns} is not listening after 10 s`);
      await sleep(50);
    }
  }
}

async function tcpRows(ctx: BenchContext, lab: BenchLab, weft: { a: string; b: string }): Promise<BenchRow[]> {
  const rounds = Math.max(3, Math.round(7 * ctx.scale));
  const seconds = 3;
  const omit = 1;
  const hand = { a: `${lab.tag}x1`, b: `${lab.tag}x2` };
  await iperfServers(lab, [weft.b, hand.b, lab.host(2)]);
  const w: number[] = [];
  const h: number[] = [];
  const u: number[] = [];
  const ratios: number[] = [];
  await iperf(weft.a, `${WEFT_NET}.2`, 1, 0); // warm-up of each path
  await iperf(hand.a, `${HAND_NET}.2`, 1, 0);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['weft', 'hand', 'underlay'] as const) : (['underlay', 'hand', 'weft'] as const);
    for (const which of order) {
      if (which === 'weft') w.push(await iperf(weft.a, `${WEFT_NET}.2`, seconds, omit));
      else if (which === 'hand') h.push(await iperf(hand.a, `${HAND_NET}.2`, seconds, omit));
      else u.push(await iperf(lab.host(1), `${UNDERLAY}.2`, seconds, omit));
    }
    ratios.push(w[r]! / h[r]!);
    ctx.log(`tcp round ${r + 1}/${rounds}: weft ${(w[r]! / 1e9).toFixed(2)} Gbit/s, hand-built ${(h[r]! / 1e9).toFixed(2)} Gbit/s, underlay ${(u[r]! / 1e9).toFixed(2)} Gbit/s, ratio ${ratios[r]!.toFixed(3)}`);
  }
  const both =
    `iperf3 (Debian) one TCP stream, client \`ip netns exec <ns> iperf3 -c <addr> -t ${seconds} -O ${omit} -J\` (first ${omit} s omitted), received bits/s; ` +
    `3 host namespaces on one bridge (veth, MTU 1500, 2 cores shared by everything: client, server and softirq of both ends)`;
  return [
    {
      name: 'linux tcp throughput',
      value: median(w) / 1e9,
      unit: 'Gbit/s',
      baseline: median(h) / 1e9,
      baselineName: 'hand-built kernel VXLAN',
      ratio: median(ratios),
      spread: spreadOf(ratios, 'ratio'),
      target: 'ratio >= 0.9',
      note:
        `${both}; container host 1 → container host 2 over Weft's kernel VXLAN (KernelDataPlane per host with hostNetns, egress: false; VNI 7001, MTU 1450) ÷ the same over a hand-built equivalent on the same hosts in the same run ` +
        `(bench/linux-plane/lab.ts HAND_BUILT_SCRIPT: ip link add … type vxlan id 7002 dstport 4789 local … nolearning proxy made in the host namespace and moved into a namespace with br0, a veth into the container, MTU 1450, permanent fdb/flood/neigh entries); ` +
        `${rounds} rounds, each weft, hand-built and host→host in alternating order after a 1 s warm-up of each overlay; ratio = median of per-round ratios; ${machineLoad()}`,
    },
    {
      name: 'linux tcp throughput host→host underlay',
      value: median(u) / 1e9,
      unit: 'Gbit/s',
      spread: spreadOf(u.map((x) => x / 1e9), 'value'),
      note: `${both}; host 1 → host 2 over the underlay itself (no VXLAN), same rounds as the row above: what encapsulation leaves of it is ${(median(w) / median(u)).toFixed(2)}× (weft) and ${(median(h) / median(u)).toFixed(2)}× (hand-built)`,
    },
  ];
}

async function udpRows(ctx: BenchContext, lab: BenchLab, weft: { a: string; b: string }): Promise<BenchRow[]> {
  const rounds = Math.max(5, Math.round(11 * ctx.scale));
  const warmupMs = 200;
  const windowMs = 600;
  const flow = { payloadBytes: 1400, batch: 64, window: 2048, ackEvery: 32 };
  const kernel = await UdpPair.start({ lab, mode: 'raw', recv: { ns: weft.b, host: `${WEFT_NET}.2` }, send: { ns: weft.a, host: `${WEFT_NET}.1` }, ...flow });
  let user: UdpPair | undefined;
  const k: number[] = [];
  const us: number[] = [];
  const ratios: number[] = [];
  const offered = { kernel: [] as number[], user: [] as number[] };
  // The kernel plane driven by a C sender and receiver (iperf3 -u), which a userspace endpoint cannot have: what the plane carries when node is not the sender.
  const kc: number[] = [];
  const kcOffered: number[] = [];
  const kcRatios: number[] = [];
  try {
    user = await UdpPair.start({ lab, mode: 'vtep', recv: { ns: lab.host(2), host: `${UNDERLAY}.2` }, send: { ns: lab.host(1), host: `${UNDERLAY}.1` }, ...flow });
    const sides = { kernel, user };
    for (let i = 0; i < 2; i++) for (const p of [kernel, user]) await p.window(warmupMs, windowMs); // JIT warm-up, unrecorded
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['kernel', 'user'] as const) : (['user', 'kernel'] as const);
      const got: Partial<Record<'kernel' | 'user', { pps: number; sentPps: number }>> = {};
      for (const s of order) got[s] = await sides[s].window(warmupMs, windowMs);
      k.push(got.kernel!.pps);
      us.push(got.user!.pps);
      offered.kernel.push(got.kernel!.sentPps);
      offered.user.push(got.user!.sentPps);
      ratios.push(got.kernel!.pps / got.user!.pps);
      const c = await iperfUdp(weft.a, `${WEFT_NET}.2`, 1, flow.payloadBytes);
      kc.push(c.pps);
      kcOffered.push(c.sentPps);
      kcRatios.push(c.pps / got.user!.pps);
      ctx.log(`udp round ${r + 1}/${rounds}: kernel with iperf3 -u ${num(c.pps)}/s received (sent ${num(c.sentPps)}/s)`);
      ctx.log(
        `udp round ${r + 1}/${rounds}: kernel ${num(got.kernel!.pps)}/s (offered ${num(got.kernel!.sentPps)}/s), userspace ${num(got.user!.pps)}/s (offered ${num(got.user!.sentPps)}/s), ratio ${ratios[r]!.toFixed(2)}`,
      );
    }
  } finally {
    kernel.stop();
    user?.stop();
  }
  return [
    {
      name: 'linux vs userspace',
      value: median(k),
      unit: 'datagrams/s',
      baseline: median(us),
      baselineName: 'userspace Endpoint + Vtep',
      ratio: median(ratios),
      spread: spreadOf(ratios, 'ratio'),
      note:
        `1400-byte UDP payloads host 1 → host 2, counted at the receiving socket; both sides driven by bench/vtep/peer.ts (one node process per end, batches of ${flow.batch} per setImmediate, at most ${flow.window} in flight beyond the receiver's acknowledgement every ${flow.ackEvery}); ` +
        `kernel: node:dgram in the two containers (\`ip netns exec <container> node …\`) over Weft's kernel VXLAN (VNI 7001, MTU 1450); ` +
        `userspace: in the two host namespaces, an @weft/vxlan Endpoint behind a Vtep on UdpUnderlay (the pieces core's UserspaceDataPlane runs) sending to the other's Endpoint; ` +
        `${rounds} rounds, each one window of each (${warmupMs} ms warm-up, ${windowMs} ms counted) in alternating order after 2 unrecorded rounds; ratio = median of per-round ratios; ` +
        `the senders offered (median, whole window incl. warm-up) ${num(median(offered.kernel))}/s kernel, ${num(median(offered.user))}/s userspace: with a node sender on each end, one send() per datagram is a large part of both figures; ${machineLoad()}`,
    },
    {
      name: 'linux vs userspace, kernel driven by iperf3',
      value: median(kc),
      unit: 'datagrams/s',
      baseline: median(us),
      baselineName: 'userspace Endpoint + Vtep (the row above)',
      ratio: median(kcRatios),
      spread: spreadOf(kcRatios, 'ratio'),
      note:
        `the same kernel path (container host 1 → container host 2, VNI 7001) and payload, driven by iperf3 instead of node: \`ip netns exec <container> iperf3 -u -b 0 -l ${flow.payloadBytes} -t 1 -J\` to \`iperf3 -s\` in the other container, datagrams received by the server (sent − lost) per second, one run per round right after the row above's windows; ` +
        `a userspace endpoint lives in the node process, so its traffic always comes from a JavaScript sender: this row is what the kernel plane carries for a container whose application is not node (sent ${num(median(kcOffered))}/s median, iperf3 sending as fast as it can, losses counted); ratio against the userspace rate of the same round; ${machineLoad()}`,
    },
  ];
}

/**
 * Runs ping in `ns` (through `nsenter --net`, lighter than `ip netns exec`)
 * every 5 ms until the first reply, bounded by `deadlineS`; resolves the
 * reply's wall-clock time (ms) from `-D`.
 */
async function firstReply(ns: string, ip: string, deadlineS: number): Promise<number> {
  const out = await runAsync('nsenter', [`--net=/var/run/netns/${ns}`, 'ping', '-n', '-D', '-c', '1', '-i', '0.005', '-W', '1', '-w', String(deadlineS), ip], (deadlineS + 10) * 1000).catch(
    (e: Error) => e.message,
  );
  const m = /\[(\d+\.\d+)\] \d+ bytes from/.exec(out);
  if (!m) throw new Error(`no ping reply from ${ip} in ${ns} within ${deadlineS} s: ${out.slice(-300)}`);
  return Number(m[1]) * 1000;
}

interface AttachSample {
  /** ms from the attach resolving to the later of the peers' first replies. */
  reach: number;
  /** ms the attach itself took. */
  attach: number;
  /** ms programming the peers took. */
  program: number;
}

/** One attach (then detach) of a fresh container on host 1; `how` does the three steps. */
async function attachOnce(
  lab: BenchLab,
  ns: string,
  ip: string,
  peers: string[],
  how: { attach(): Promise<void>; programPeers(): Promise<void>; undo(): Promise<void> },
): Promise<AttachSample> {
  try {
    const t0 = performance.now();
    await how.attach();
    const attached = Date.now();
    const t1 = performance.now();
    await how.programPeers(); // what core does on every peer node when the endpoint's record arrives
    const t2 = performance.now();
    const replies = await Promise.all(peers.map((c) => firstReply(c, ip, 5)));
    return { reach: Math.max(...replies) - attached, attach: t1 - t0, program: t2 - t1 };
  } finally {
    await how.undo();
    lab.remove(ns);
  }
}

async function attachRows(ctx: BenchContext, lab: BenchLab, planes: KernelDataPlane[], peers: string[]): Promise<BenchRow[]> {
  const iterations = Math.max(10, Math.round(30 * ctx.scale));
  const net = weftNetwork().id;
  const [home, ...others] = planes as [KernelDataPlane, ...KernelDataPlane[]];
  const handPeers = [2, 3].map((i) => `${lab.tag}x${i}`);
  const sh = (script: string): Promise<string> => runAsync('sh', ['-c', script], 30_000);
  const weft: AttachSample[] = [];
  const hand: AttachSample[] = [];
  for (let i = 0; i < iterations + 2; i++) {
    const order = i % 2 === 0 ? (['weft', 'hand'] as const) : (['hand', 'weft'] as const);
    for (const which of order) {
      const ns = lab.namespace(`t${which[0]}${i}`);
      let sample: AttachSample;
      if (which === 'weft') {
        const ep = localSpec(`bench-t${i}`, `${WEFT_NET}.${100 + i}`, `/var/run/netns/${ns}`);
        sample = await attachOnce(lab, ns, ep.ip, peers, {
          attach: async () => void (await home.addLocalEndpoint(net, ep)),
          programPeers: async () => void (await Promise.all(others.map((p) => p.addRemoteEndpoint(net, remoteSpec(ep, home))))),
          undo: async () => {
            await Promise.all(others.map((p) => p.removeRemoteEndpoint(net, ep.id)));
            await home.removeLocalEndpoint(net, ep.id);
          },
        });
      } else {
        const ip = `${HAND_NET}.${100 + i}`;
        sample = await attachOnce(lab, ns, ip, handPeers, {
          attach: async () => void (await sh(handAttachScript(lab.tag, 1, `vt${i}`, ns, ip))),
          programPeers: async () => void (await Promise.all([2, 3].map((h) => sh(handRemoteScript(lab.tag, h, 1, ip))))),
          undo: async () => {
            await Promise.all([2, 3].map((h) => sh(handRemoteScript(lab.tag, h, 1, ip, true))));
            await sh(`ip -n ${lab.tag}n1 link del vt${i} 2>/dev/null; true`);
          },
        });
      }
      if (i >= 2) (which === 'weft' ? weft : hand).push(sample);
    }
  }
  const med = (xs: AttachSample[], k: keyof AttachSample): number => median(xs.map((x) => x[k]));
  const reach = weft.map((x) => x.reach);
  ctx.log(
    `attach to reachable: weft median ${med(weft, 'reach').toFixed(1)} ms (attach() ${med(weft, 'attach').toFixed(1)} ms, peers programmed in ${med(weft, 'program').toFixed(1)} ms); ` +
      `hand-built ${med(hand, 'reach').toFixed(1)} ms (attach ${med(hand, 'attach').toFixed(1)} ms, peers ${med(hand, 'program').toFixed(1)} ms)`,
  );
  return [
    {
      name: 'linux attach to reachable',
      value: med(weft, 'reach'),
      unit: 'ms',
      baseline: med(hand, 'reach'),
      baselineName: 'hand-built: the same commands by sh',
      ratio: med(weft, 'reach') / med(hand, 'reach'),
      spread: spreadOf(reach, 'value'),
      target: '<= 100 ms',
      note:
        `3 hosts, one KernelDataPlane each (hostNetns), a container on every host already on the network; per iteration a new container namespace on host 1, then ms from addLocalEndpoint() resolving to the later of the first ping replies from the containers on hosts 2 and 3; ` +
        `in between, as core would on each peer node, addRemoteEndpoint() on hosts 2 and 3 at once (median ${med(weft, 'program').toFixed(1)} ms, 2 processes each), then each peer container runs \`nsenter --net=… ping -n -D -c 1 -i 0.005 -W 1 -w 5\` (root: a probe every 5 ms until the first reply; the reply's -D timestamp is used; the probe's process start is included); ` +
        `attach() itself took median ${med(weft, 'attach').toFixed(1)} ms (2 processes, not in the figure). ` +
        `Baseline, in the same iterations (alternating order) on the hand-built overlay of the same 3 hosts: the same objects made by hand, one \`sh\` per host running ip/bridge (host 1: veth into the container, address, up; hosts 2 and 3 at once: neigh replace + fdb replace), then the same probe: ` +
        `median ${med(hand, 'reach').toFixed(1)} ms from the attach script's exit (attach ${med(hand, 'attach').toFixed(1)} ms, peers ${med(hand, 'program').toFixed(1)} ms); ratio = weft median ÷ hand-built median. ` +
        `${iterations} iterations of each after 2 warm-up; weft p90 ${quantile(reach, 0.9).toFixed(1)} ms; ${machineLoad()}`,
    },
  ];
}

export default async function linux(ctx: BenchContext): Promise<BenchRow[]> {
  const missing = missingPrerequisite();
  if (missing !== undefined) {
    ctx.log(`skipped: ${missing}; no rows`);
    return [];
  }
  const lab = new BenchLab();
  try {
    lab.underlay(3);
    lab.handBuilt(3);
    const planes = [await lab.plane(1), await lab.plane(2), await lab.plane(3)];
    const containers = [1, 2, 3].map((i) => lab.namespace(`c${i}`));
    const eps = containers.map((c, i) => localSpec(`bench-c${i + 1}`, `${WEFT_NET}.${i + 1}`, `/var/run/netns/${c}`));
    for (const [i, p] of planes.entries()) {
      await p.ensureNetwork(weftNetwork());
      await p.addLocalEndpoint(weftNetwork().id, eps[i]!);
    }
    for (const [i, p] of planes.entries()) {
      for (const [j, q] of planes.entries()) if (i !== j) await p.addRemoteEndpoint(weftNetwork().id, remoteSpec(eps[j]!, q));
    }
    ctx.log(`lab ${lab.tag} up: 3 hosts, Weft overlay MTU ${planes[0]!.mtuOf(weftNetwork().id)}, hand-built overlay beside it`);
    const weft = { a: containers[0]!, b: containers[1]! };
    const rows: BenchRow[] = [];
    rows.push(...(await tcpRows(ctx, lab, weft)));
    rows.push(...(await udpRows(ctx, lab, weft)));
    rows.push(...(await attachRows(ctx, lab, planes, [containers[1]!, containers[2]!])));
    return rows;
  } finally {
    await lab.cleanup();
  }
}
