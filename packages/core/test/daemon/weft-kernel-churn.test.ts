import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeftClient } from '@weft/core';
import { KernelLab, type Host } from '../../../linux/test/hosts';
import { describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { until } from '../../../../test-support/wait';
import { FAST_TIMING, killAllWeft, weft, weftJson, WeftProcess, type LogLine } from '../../../../test-support/weft-process';

const PORTS = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ZERO_MAC = '00:00:00:00:00:00';

interface Summary {
  readonly supported: boolean;
  readonly changes: readonly { action: string; kind: string; namespace: string; target: string }[];
  readonly errors: readonly { namespace: string; error: string }[];
}

/**
 * Issue 13, churn and crash, with one `weft` node process per host namespace
 * (kernel data plane): 500 attach/detach cycles across three hosts with
 * addresses reused across hosts (through `WeftClient`), after which every
 * Weft network namespace's FDB and neighbour entries equal exactly the live
 * remote endpoints; then `kill -9` of a node mid-churn and `weft run` again:
 * the daemon reconciles its kernel plane on start (leftovers removed, missing
 * entries restored, the report in its log and `weft stats`), containers that
 * stayed attached lose no ping (every 100 ms) through the kill and the
 * restart, and `weft reconcile` with nothing changed reports zero changes.
 */
/**
 * The echoes of a `ping -D -O -i 0.1` transcript: which sequence numbers were
 * answered, and which went unanswered among those sent more than a second
 * (its -W) before the last one (the echoes still in flight when it was stopped
 * are not counted). `sentAt` is estimated from the interval when ping did not
 * print the echo.
 */
function echoes(out: string): { counted: number; answered: number; lost: { seq: number; sentAt: number }[] } {
  const answered = new Map<number, number>();
  const unanswered = new Map<number, number>();
  for (const line of out.split('\n')) {
    const m = /^\[(\d+\.\d+)\].*icmp_seq=(\d+)/.exec(line);
    if (m === null) continue;
    const t = Number(m[1]);
    const seq = Number(m[2]);
    if (line.includes('no answer yet')) unanswered.set(seq, t);
    else answered.set(seq, t);
  }
  const seqs = [...answered.keys(), ...unanswered.keys()];
  if (seqs.length === 0) return { counted: 0, answered: 0, lost: [] };
  const first = Math.min(...seqs);
  const last = Math.max(...seqs) - 10;
  const [seq0, t0] = [...answered.entries()].sort((a, b) => a[0] - b[0])[0] ?? [first, 0];
  const lost: { seq: number; sentAt: number }[] = [];
  let counted = 0;
  let ok = 0;
  for (let seq = first; seq <= last; seq++) {
    counted++;
    if (answered.has(seq)) ok++;
    else lost.push({ seq, sentAt: unanswered.get(seq) ?? t0 + (seq - seq0) * 0.1 });
  }
  return { counted, answered: ok, lost };
}

describeWith(netnsCapability(), 'weft: churn and crash across three kernel hosts', () => {
  let dir: string;
  let lab: KernelLab;
  let hosts: Host[];
  const procs: (WeftProcess | undefined)[] = [];
  const ids: string[] = [];
  let netId = '';
  const ds = (i: number): string => join(dir, `h${i}`);
  const nsOf = (i: number): string => `weft-${ids[i]}-${createHash('sha256').update(netId).digest('hex').slice(0, 12)}`;
  const churnBox: { ns: string; path: string }[] = [];
  // stable containers: s0 on host 0 (the manager), s1 on host 1 (killed later), s2 on host 2
  const stable: { ns: string; path: string; ip: string; mac: string }[] = [];
  // addresses shared by the hosts' churn loops: an address freed on one host is taken next by another
  const pool = Array.from({ length: 12 }, (_, k) => `10.84.0.${100 + k}`);
  const quarantine: string[] = [];
  let contentions = 0;
  /** Per host, each cycle's [attach ms, detach ms] (printed, not asserted). */
  const cycleMs: [number, number][][] = [];
  const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const cycleReport = (): string =>
    [0, 1, 2].map((i) => `host ${i}: attach ${medianOf((cycleMs[i] ?? []).map((c) => c[0])).toFixed(0)} ms, detach ${medianOf((cycleMs[i] ?? []).map((c) => c[1])).toFixed(0)} ms (median of ${(cycleMs[i] ?? []).length})`).join('; ');
  /** Concurrent attaches on one network contend on its address pool: ContentionError is core's "try again" (bounded). */
  async function retrying<T>(op: () => Promise<T>): Promise<T> {
    for (let k = 0; ; k++) {
      try {
        return await op();
      } catch (err) {
        if ((err as Error).name !== 'ContentionError' || k >= 20) throw err;
        contentions++;
        await sleep(20 + Math.random() * 80);
      }
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-kchurn-'));
    lab = new KernelLab('wc');
    ({ hosts } = lab.bridgedHosts(3));
    ids.push(lab.nodeId('a'), lab.nodeId('b'), lab.nodeId('c'));
    const host = (h: Host): string[] => ['--advertise-addr', h.address, '--data-addr', h.address, '--data-plane', 'kernel'];
    procs.push(await WeftProcess.start(ds(0), ['init', '--node-id', ids[0]!, ...PORTS, ...FAST_TIMING, ...host(hosts[0]!)], { netns: hosts[0]!.ns }));
    const info = await weftJson<{ joinAddress: string }>(ds(0), ['info']);
    const token = (await weft(ds(0), ['join-token', 'worker', '--quiet'])).stdout.trim();
    for (const i of [1, 2]) procs.push(await WeftProcess.start(ds(i), ['join', token, info.joinAddress, '--node-id', ids[i]!, ...PORTS, ...FAST_TIMING, ...host(hosts[i]!)], { netns: hosts[i]!.ns }));
    netId = (await weftJson<{ id: string }>(ds(0), ['network', 'create', 'churn', '--subnet', '10.84.0.0/24'])).id;
    for (const i of [0, 1, 2]) {
      const c = lab.container(`s${i}`);
      const ep = await weftJson<{ ip: string; mac: string }>(ds(i), ['endpoint', 'attach', 'churn', `s${i}`, '--netns', c.path]);
      stable.push({ ...c, ip: ep.ip, mac: ep.mac });
      churnBox.push(lab.container(`x${i}`));
    }
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) if (p !== undefined) await p.stop(10_000);
    await killAllWeft();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const client = (i: number): Promise<WeftClient> => WeftClient.connect({ socketPath: join(ds(i), 'weft.sock'), timeoutMs: 30_000 });

  /** Every host's network namespace holds exactly the remote endpoints' FDB and neighbour entries (the live ones, by the nodes' own lists). */
  async function expectExactEntries(): Promise<void> {
    const live: { host: number; ip: string; mac: string }[] = [];
    for (const i of [0, 1, 2]) {
      const c = await client(i);
      try {
        for (const e of await c.listEndpoints()) if (e.networkId === netId) live.push({ host: i, ip: e.ip, mac: e.mac });
      } finally {
        await c.close();
      }
    }
    for (const i of [0, 1, 2]) {
      const remote = live.filter((e) => e.host !== i);
      const fdb = lab
        .json<{ mac: string; dst?: string; flags?: string[]; state?: string }[]>(nsOf(i), ['fdb', 'show', 'dev', 'vxlan0'], 'bridge')
        .filter((f) => f.dst !== undefined && f.mac !== ZERO_MAC)
        .map((f) => `${f.mac} ${f.dst}`)
        .sort();
      expect(fdb).toEqual(remote.map((e) => `${e.mac} ${hosts[e.host]!.address}`).sort());
      const neigh = lab
        .json<{ dst: string; lladdr?: string }[]>(nsOf(i), ['neigh', 'show', 'dev', 'vxlan0'])
        .map((n) => `${n.dst} ${n.lladdr ?? ''}`)
        .sort();
      expect(neigh).toEqual(remote.map((e) => `${e.ip} ${e.mac}`).sort());
    }
  }

  /**
   * Attach/detach cycles on host `i` until `budget.left` is 0 (shared by the
   * loops) or `stop()`; each takes an address from the shared pool and gives
   * it back at the end, so addresses move between hosts. Returns the cycles done.
   */
  async function churnLoop(i: number, budget: { left: number }, stop: () => boolean = () => false): Promise<number> {
    const c = await client(i);
    let done = 0;
    try {
      // bounded: at most 1,000 cycles and 60 s of waiting for a free address in all
      for (let k = 0, waits = 0; budget.left > 0 && !stop() && k < 1000 && waits < 12_000; k++) {
        const ip = pool.shift();
        if (ip === undefined) {
          waits++;
          k--; // a wait is not a cycle
          await sleep(5);
          continue;
        }
        budget.left--;
        const name = `ch${i}-${k}`;
        try {
          const t0 = performance.now();
          await retrying(() => c.attachEndpoint('churn', name, { ip, netns: churnBox[i]!.path }));
          const t1 = performance.now();
          await retrying(() => c.detachEndpoint(name));
          (cycleMs[i] ??= []).push([t1 - t0, performance.now() - t1]);
          done++;
        } catch (err) {
          // its node died under it: the address may still be attached there; it returns after the restart
          quarantine.push(ip);
          throw err;
        }
        pool.push(ip);
      }
    } finally {
      await c.close();
    }
    return done;
  }

  it('500 attach/detach cycles with addresses reused across hosts leave exactly the live remote endpoints in every namespace', async () => {
    const budget = { left: 500 };
    const t0 = Date.now();
    const done = await Promise.all([0, 1, 2].map((i) => churnLoop(i, budget)));
    const ms = Date.now() - t0;
    process.stdout.write(`churn: ${done.join('+')} cycles in ${ms} ms (${contentions} ContentionError retries); ${cycleReport()}\n`);
    expect(done.reduce((a, b) => a + b, 0)).toBe(500);
    // the containers' interfaces went with their endpoints
    for (const b of churnBox) expect(lab.tryExec(b.ns, 'ip', ['link', 'show', 'eth0']).status).not.toBe(0);
    // the store's state reaches the other hosts asynchronously: wait (bounded) for the exact equality
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await expectExactEntries();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
    // the stable containers still reach each other
    for (const [a, b] of [[0, 1], [1, 2], [2, 0]] as const) expect(lab.tryExec(stable[a]!.ns, 'ping', ['-c', '1', '-W', '2', stable[b]!.ip]).status).toBe(0);
  }, 900_000);

  it('kill -9 of a node mid-churn, weft run again: reconciled on start, no ping lost between stable containers, zero changes after', async () => {
    const ifindexBefore = lab.json<{ ifindex: number }[]>(stable[1]!.ns, ['link', 'show', 'dev', 'eth0'])[0]!.ifindex;
    // pings every 100 ms, s0 (host 0) → s1 (host 1, whose node is killed), and s2 → s1, for the whole episode;
    // -D stamps every line, -O reports each echo not answered before the next is sent
    const events: [string, number][] = [];
    const mark = (what: string): void => void events.push([what, Date.now() / 1000]);
    const pingers = [0, 2].map((i) => {
      const p = lab.lab.spawn(stable[i]!.ns, 'ping', ['-n', '-D', '-O', '-i', '0.1', '-W', '1', stable[1]!.ip], {}, 300_000);
      let out = '';
      p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      return { p, out: () => out, exited: new Promise<void>((r) => p.once('exit', () => r())) };
    });
    await sleep(1000);

    const budget = { left: 300 };
    let killed = false;
    const loops = [0, 2].map((i) => churnLoop(i, budget));
    const victim = churnLoop(1, budget).catch(() => -1); // its node dies under it
    await until(() => budget.left < 280, 'churn under way', 120_000);
    mark('kill -9');
    await procs[1]!.kill();
    killed = true;
    procs[1] = undefined;
    await victim;
    // while it is down, the others churn on (its namespace keeps their old entries) and a live entry goes missing
    await until(() => budget.left < 240 || budget.left === 0, 'churn while the node is down', 120_000);
    mark('neighbour entry of s2 deleted');
    lab.exec(nsOf(1), 'ip', ['neigh', 'del', stable[2]!.ip, 'dev', 'vxlan0']);
    const staleBefore = lab
      .json<{ mac: string; dst?: string }[]>(nsOf(1), ['fdb', 'show', 'dev', 'vxlan0'], 'bridge')
      .filter((f) => f.dst !== undefined && f.mac !== ZERO_MAC).length;

    mark('weft run');
    const restarted = await WeftProcess.start(ds(1), ['run'], { netns: hosts[1]!.ns, timeoutMs: 60_000 });
    procs[1] = restarted;
    const startLog: LogLine = await restarted.waitFor((l) => l.msg === 'data plane reconciled', 5_000);
    mark('start reconcile logged');
    const startChanges = startLog.changes as Summary['changes'];
    expect(startLog.errors).toEqual([]);
    // what the kill left (entries of endpoints detached meanwhile, a half-made attach) is checked below: the
    // entries end exactly equal to the live endpoints (an address reused on the same host may make a stale entry right again)
    // an endpoint the kill left attached (in the store) is detached now, its address back in the pool
    const c1 = await client(1);
    try {
      for (const e of await c1.listEndpoints()) if (e.name.startsWith('ch1-')) await c1.detachEndpoint(e.name);
    } finally {
      await c1.close();
    }
    pool.push(...quarantine.splice(0));
    // churn resumes on the restarted node too, to the end
    const after = await churnLoop(1, budget);
    await Promise.all(loops);
    expect(killed).toBe(true);
    await sleep(1000);
    for (const p of pingers) p.p.kill('SIGINT');
    await Promise.all(pingers.map((p) => p.exited));

    // the stable container's interface was adopted, not recreated
    expect(lab.json<{ ifindex: number }[]>(stable[1]!.ns, ['link', 'show', 'dev', 'eth0'])[0]!.ifindex).toBe(ifindexBefore);
    // the deleted neighbour entry is back (programmed again on start)
    expect(lab.exec(nsOf(1), 'ip', ['neigh', 'show', stable[2]!.ip, 'dev', 'vxlan0'])).toContain(stable[2]!.mac);

    // no ping lost through the kill and the restart: every echo sent up to a second before the pinger was stopped
    // (an echo still in flight when SIGINT arrives is counted lost by ping's summary, so the summary is not used)
    const stats = pingers.map((p) => echoes(p.out()));
    const at = (t: number): string => `${(t - events[0]![1]).toFixed(2)} s`;
    process.stdout.write(
      `crash: start reconcile ${startChanges.length} changes (${[...new Set(startChanges.map((c) => `${c.action} ${c.kind}`))].join(', ')}), ${staleBefore} FDB entries in the dead node's namespace before restart; ` +
        `pings s0→s1 ${stats[0]!.answered}/${stats[0]!.counted}, s2→s1 ${stats[1]!.answered}/${stats[1]!.counted}; churn after restart ${after}; ` +
        `events ${events.map(([w, t]) => `${w} at ${at(t)}`).join(', ')}; ` +
        `unanswered ${stats.map((x, k) => `${k === 0 ? 's0' : 's2'}: [${x.lost.map((l) => `#${l.seq} sent ${at(l.sentAt)}`).join(', ')}]`).join(' ')}\n`,
    );
    for (const x of stats) {
      expect(x.counted).toBeGreaterThan(20);
      expect(x.lost).toEqual([]);
    }

    // the start-up report is in weft stats; the entries are exact
    const st = await weftJson<{ startupReconcile?: Summary }>(ds(1), ['stats']);
    expect(st.startupReconcile?.supported).toBe(true);
    expect(st.startupReconcile?.changes.length).toBe(startChanges.length);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await expectExactEntries();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(500);
      }
    }

    // a missing entry made now is restored by `weft reconcile`, which says so
    lab.exec(nsOf(1), 'bridge', ['fdb', 'del', stable[2]!.mac, 'dev', 'vxlan0', 'dst', hosts[2]!.address]);
    const fix = await weftJson<Summary>(ds(1), ['reconcile']);
    expect(fix.changes).toEqual([expect.objectContaining({ action: 'add', kind: 'fdb', namespace: nsOf(1) })]);
    await expectExactEntries();
    // nothing changed since: every node's reconcile reports zero changes
    for (const i of [0, 1, 2]) {
      const r = await weftJson<Summary>(ds(i), ['reconcile']);
      expect(r).toMatchObject({ supported: true, changes: [], errors: [] });
    }
    const text = await weft(ds(1), ['reconcile']);
    expect(text.stdout).toContain('0 changes, 0 errors');
  }, 900_000);
});
