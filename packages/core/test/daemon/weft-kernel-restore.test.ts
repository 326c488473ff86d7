import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelLab } from '../../../linux/test/hosts';
import { describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { until } from '../../../../test-support/wait';
import { FAST_TIMING, killAllWeft, weft, weftJson, WeftProcess } from '../../../../test-support/weft-process';

const PORTS = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];

interface Summary {
  readonly supported: boolean;
  readonly changes: readonly { action: string; kind: string; namespace: string; target: string }[];
  readonly errors: readonly unknown[];
}

/**
 * The kernel plane's state across a node process's life, through `weft`:
 * egress chosen per node (`--no-egress`, `--egress-subnet`); a graceful stop
 * with `--live-restore` leaves the containers their interfaces and traffic
 * while the node is down, and the restarted node adopts them with a startup
 * reconcile of zero changes; a role change (promote) keeps them too — the
 * container's interface is never recreated and pings go on through it.
 */
describeWith(netnsCapability(), 'weft: kernel data plane kept across a graceful stop and a role change', () => {
  let dir: string;
  let lab: KernelLab;
  const procs: WeftProcess[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-krest-'));
    lab = new KernelLab('wr');
  });
  afterAll(async () => {
    for (const p of procs) await p.stop(10_000);
    await killAllWeft();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `ping -c count -i 0.1` from `ns` in the background; resolves to [transmitted, received]. */
  const pingsInBackground = (ns: string, ip: string, count: number): Promise<[number, number]> =>
    new Promise((resolve) => {
      const child = lab.lab.spawn(ns, 'ping', ['-n', '-q', '-c', String(count), '-i', '0.1', '-W', '1', ip], {}, 60_000);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', () => {
        const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
        resolve(m === null ? [0, 0] : [Number(m[1]), Number(m[2])]);
      });
    });

  it('egress per node; --live-restore keeps containers networked through a stop and a restart; a promote keeps them too', async () => {
    const [a, b] = lab.hosts();
    const idA = lab.nodeId('a');
    const idB = lab.nodeId('b');
    const host = (h: { address: string }): string[] => ['--advertise-addr', h.address, '--data-addr', h.address, '--data-plane', 'kernel'];
    const dA = join(dir, 'a');
    const dB = join(dir, 'b');
    procs.push(await WeftProcess.start(dA, ['init', '--node-id', idA, '--live-restore', '--no-egress', ...PORTS, ...FAST_TIMING, ...host(a)], { netns: a.ns }));
    const info = await weftJson<{ joinAddress: string }>(dA, ['info']);
    const token = (await weft(dA, ['join-token', 'worker', '--quiet'])).stdout.trim();
    procs.push(await WeftProcess.start(dB, ['join', token, info.joinAddress, '--node-id', idB, '--egress-subnet', '172.29.0.0/16', ...PORTS, ...FAST_TIMING, ...host(b)], { netns: b.ns }));

    await weftJson(dA, ['network', 'create', 'rnet', '--subnet', '10.78.0.0/24']);
    const ca = lab.container('ca');
    const cb = lab.container('cb');
    const epA = await weftJson<{ ip: string }>(dA, ['endpoint', 'attach', 'rnet', 'c1', '--netns', ca.path]);
    const epB = await weftJson<{ ip: string }>(dB, ['endpoint', 'attach', 'rnet', 'c2', '--netns', cb.path]);
    await until(() => lab.tryExec(cb.ns, 'ping', ['-c', '1', '-W', '1', epA.ip]).status === 0, 'c2 reaches c1', 20_000);

    // Egress as each node was told: none on A; on B a gateway in 172.29.0.0/16 and the container's eth1 in it.
    expect(lab.tryExec(ca.ns, 'ip', ['link', 'show', 'dev', 'eth1']).status).not.toBe(0);
    expect(lab.exec(ca.ns, 'ip', ['-4', 'route'])).not.toMatch(/^default/m);
    expect(lab.exec(b.ns, 'ip', ['-4', '-o', 'addr'])).toMatch(/inet 172\.29\.0\.1\/16/);
    expect(lab.exec(cb.ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth1'])).toMatch(/inet 172\.29\.\d+\.\d+\/16/);
    expect(lab.exec(cb.ns, 'ip', ['-4', 'route'])).toMatch(/^default via 172\.29\.0\.1/m);

    const ifindex = (ns: string): number => lab.json<{ ifindex: number }[]>(ns, ['link', 'show', 'dev', 'eth0'])[0]!.ifindex;
    const beforeA = ifindex(ca.ns);
    const beforeB = ifindex(cb.ns);

    // A stops gracefully with --live-restore: its kernel state stays, and the containers keep talking meanwhile.
    expect(await procs[0]!.stop(20_000)).toBe(0);
    expect(ifindex(ca.ns)).toBe(beforeA);
    const [sentDown, gotDown] = await pingsInBackground(cb.ns, epA.ip, 10);
    expect([sentDown, gotDown]).toEqual([10, 10]);

    // Restarted from its data dir: it adopts what it left, with nothing to change.
    procs[0] = await WeftProcess.start(dA, ['run'], { netns: a.ns, timeoutMs: 60_000 });
    const st = await weftJson<{ startupReconcile?: Summary }>(dA, ['stats']);
    expect(st.startupReconcile?.supported).toBe(true);
    expect(st.startupReconcile?.errors).toEqual([]);
    expect(st.startupReconcile?.changes).toEqual([]);
    expect(ifindex(ca.ns)).toBe(beforeA);
    expect(lab.exec(ca.ns, 'ping', ['-c', '1', '-W', '2', epB.ip])).toMatch(/1 received/);

    // B is promoted (its node restarts in the manager role inside the process): its container keeps eth0, and no ping is lost.
    const pings = pingsInBackground(ca.ns, epB.ip, 60);
    expect((await weft(dA, ['node', 'promote', idB])).code).toBe(0);
    await until(async () => (await weftJson<{ role: string }>(dB, ['info'])).role === 'manager', 'B runs as a manager', 30_000);
    const [sent, got] = await pings;
    console.log(`pings c1 -> c2 through B's promotion: ${got}/${sent}`);
    expect(ifindex(cb.ns)).toBe(beforeB);
    expect([sent, got]).toEqual([60, 60]);
    const rows = await weftJson<{ id: string; status: string }[]>(dA, ['node', 'ls']);
    expect(rows.map((r) => `${r.id}:${r.status}`).sort()).toEqual([`${idA}:ready`, `${idB}:ready`]);
  }, 240_000);
});
