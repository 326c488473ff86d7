/**
 * Churn (scaled down from issue 13's 500): seeded random attach/detach on two
 * hosts with addresses reused, each mirrored as a remote endpoint on the other
 * host the way core would. Afterwards the kernel's FDB/neighbour/flood
 * entries in each network namespace are exactly the live remote endpoints,
 * reconcile finds nothing to change, and live containers still reach each other.
 */
import type { LocalEndpointSpec } from '@weft/interface';
import type { KernelDataPlane } from '@weft/linux';
import { describeWith, netnsCapability } from '../../../test-support/capabilities';
import { KernelLab, localEp, network, remoteOf, type Host } from './hosts';

const OPS = 80;
const SLOTS = 4; // containers per host

/** A small deterministic PRNG (mulberry32), so a failing seed is a one-line reproduction. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeWith(netnsCapability(), 'KernelDataPlane churn', () => {
  const k = new KernelLab('wz');
  afterAll(() => k.cleanup());

  it(`${OPS} seeded attach/detach ops leave exactly the live entries in the kernel`, async () => {
    // about 4 processes per op (attach or detach, mirrored as a remote endpoint on the other host)
    const seed = 1013;
    const rand = prng(seed);
    const [h1, h2] = k.hosts(1500);
    const ov = `198.19.${k.lab.subnetIndex}`;
    const hosts: Host[] = [h1, h2];
    const planes: KernelDataPlane[] = [await k.plane(h1, 'za'), await k.plane(h2, 'zb')];
    const NET = 'net-churn';
    for (const p of planes) await p.ensureNetwork(network(NET, 2000 + k.lab.subnetIndex, ov));
    const boxes = hosts.map((_, h) => Array.from({ length: SLOTS }, (_, i) => k.container(`${h}s${i}`)));
    // live[h][slot] = the endpoint attached in that container, if any
    const live: (LocalEndpointSpec | undefined)[][] = hosts.map(() => Array.from({ length: SLOTS }, () => undefined));
    let serial = 0;
    for (let op = 0; op < OPS; op++) {
      const h = rand() < 0.5 ? 0 : 1;
      const slot = Math.floor(rand() * SLOTS);
      const other = planes[1 - h]!;
      const cur = live[h]![slot];
      if (cur === undefined) {
        // reuse a small pool of addresses across hosts (.10–.17): the same address may come back elsewhere
        const used = new Set(live.flat().filter((e) => e !== undefined).map((e) => e!.ip));
        const free = Array.from({ length: 8 }, (_, i) => `${ov}.${10 + i}`).filter((a) => !used.has(a));
        const ip = free[Math.floor(rand() * free.length)]!;
        const n = serial++;
        const ep = localEp(`ep-${n}`, ip, `02:42:c6:17:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`, boxes[h]![slot]!.path);
        await planes[h]!.addLocalEndpoint(NET, ep);
        await other.addRemoteEndpoint(NET, remoteOf(ep, planes[h]!));
        live[h]![slot] = ep;
      } else {
        await planes[h]!.removeLocalEndpoint(NET, cur.id);
        await other.removeRemoteEndpoint(NET, cur.id);
        live[h]![slot] = undefined;
      }
    }

    for (const h of [0, 1]) {
      const plane = planes[h]!;
      const remote = live[1 - h]!.filter((e): e is LocalEndpointSpec => e !== undefined);
      const local = live[h]!.filter((e): e is LocalEndpointSpec => e !== undefined);
      if (local.length === 0) {
        expect([seed, plane.ownedNamespaces()]).toEqual([seed, []]); // lazy: no container, no namespace
        continue;
      }
      const ns = plane.namespaceOf(NET);
      const fdb = k
        .json<{ mac: string; dst?: string; flags: string[] }[]>(ns, ['fdb', 'show', 'dev', 'vxlan0'], 'bridge')
        .filter((e) => e.flags.includes('self'))
        .map((e) => `${e.mac} ${e.dst}`)
        .sort();
      const wantFdb = [...remote.map((e) => `${e.mac} ${hosts[1 - h]!.address}`), ...(remote.length > 0 ? [`00:00:00:00:00:00 ${hosts[1 - h]!.address}`] : [])].sort();
      expect([seed, h, fdb]).toEqual([seed, h, wantFdb]);
      const neigh = k.json<{ dst: string; lladdr: string }[]>(ns, ['neigh', 'show', 'dev', 'vxlan0']).map((n) => `${n.dst} ${n.lladdr}`).sort();
      expect([seed, h, neigh]).toEqual([seed, h, remote.map((e) => `${e.ip} ${e.mac}`).sort()]);
      const programmed = (await plane.programmed()).networks[0]!;
      expect(programmed.local.map((e) => e.id).sort()).toEqual(local.map((e) => e.id).sort());
      expect(await plane.reconcile()).toEqual({ changes: [], errors: [] });
    }
    // after the churn, every live container on host 1 reaches every live one on host 2
    const pairs = live[0]!.flatMap((e, slot) => (e === undefined ? [] : live[1]!.filter((f): f is LocalEndpointSpec => f !== undefined).map((f) => [slot, f.ip] as const)));
    expect([seed, pairs.length > 0]).toEqual([seed, true]);
    for (const [slot, ip] of pairs) expect(k.exec(boxes[0]![slot]!.ns, 'ping', ['-c', '1', '-W', '2', ip])).toMatch(/1 received/);
    for (const p of planes) await p.close();
    expect(k.planeNamespaces()).toEqual([]);
  }, 180_000);
});
