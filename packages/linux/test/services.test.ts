/**
 * Service VIPs on the kernel plane: two hosts, a client container and a
 * backend on host 1, two backends on host 2, one network. The VIP's
 * nftables table is written in each local container's namespace (1 process
 * each); many TCP connections and UDP flows from the client spread over
 * every up backend; a draining backend keeps its flows and gets no new one;
 * a removed backend's conntrack entries are deleted in the client's
 * namespace and the next datagram of each of its flows reaches another
 * backend; a container attached later gets the table in its one sandbox
 * process and loses it at detach; reconcile() repairs a deleted table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LocalEndpointSpec, NetworkSpec, ServiceVip } from '@weft/interface';
import type { KernelDataPlane } from '@weft/linux';
import { describeWith, netnsCapability } from '../../../test-support/capabilities';
import { until } from '../../../test-support/wait';
import { KernelLab, remoteOf, type Host } from './hosts';
import { expectedVipRules, flowsToFlush, parseServiceTable, parseServiceVip, sameVipRules, serviceTableName, serviceTableScript } from '../src/plane/services';

describe('services, the pure part', () => {
  it('canonicalises, sorts and dedupes backends; names what to flush', () => {
    const v = parseServiceVip({ vip: '10.0.0.100', backends: [{ ip: '10.0.0.3', state: 'up' }, { ip: '10.0.0.20', state: 'draining' }, { ip: '10.0.0.3', state: 'draining' }] }, 't');
    expect(v.backends).toEqual([{ ip: '10.0.0.3', state: 'up' }, { ip: '10.0.0.20', state: 'draining' }]);
    expect(() => parseServiceVip({ vip: 'fd00::1', backends: [] }, 't')).toThrow(/vip/);
    expect(() => parseServiceVip({ vip: '10.0.0.1', backends: [{ ip: '10.0.0.2', state: 'gone' as 'up' }] }, 't')).toThrow(/backends/);
    expect(flowsToFlush(v, { vip: '10.0.0.100', backends: [{ ip: '10.0.0.20', state: 'draining' }] })).toEqual([{ vip: '10.0.0.100', backend: '10.0.0.3' }]);
    expect(flowsToFlush(v, { vip: '10.0.0.100', backends: [] })).toEqual([{ vip: '10.0.0.100' }]);
    expect(flowsToFlush(undefined, v)).toEqual([]);
  });

  it('the table script holds only up backends; a VIP with none rejects; its read-back (as nft -j prints it) agrees', () => {
    const vips: ServiceVip[] = [
      { vip: '10.0.0.100', backends: [{ ip: '10.0.0.2', state: 'up' }, { ip: '10.0.0.3', state: 'draining' }, { ip: '10.0.0.4', state: 'up' }] },
      { vip: '10.0.0.101', backends: [{ ip: '10.0.0.3', state: 'draining' }] },
    ];
    const script = serviceTableScript('t-svc', vips);
    expect(script).toContain('ip daddr 10.0.0.100 counter dnat to jhash ip saddr . th sport . th dport mod 2');
    expect(script).toContain('map { 0 : 10.0.0.2, 1 : 10.0.0.4 }');
    expect(script).not.toContain('10.0.0.3');
    expect(script).toContain('ip daddr 10.0.0.101 counter reject');
    expect(serviceTableScript('t-svc', [])).toBe('table ip t-svc { }\ndelete table ip t-svc\n');
    const json = {
      nftables: [
        { table: { family: 'ip', name: 't-svc' } },
        { rule: { family: 'ip', table: 't-svc', chain: 'nat', comment: 'weft vip 10.0.0.100', expr: [{ dnat: { addr: { map: { data: { set: [[1, '10.0.0.4'], [0, '10.0.0.2']] } } } } }] } },
        { rule: { family: 'ip', table: 't-svc', chain: 'filter', comment: 'weft vip 10.0.0.101', expr: [{ reject: {} }] } },
      ],
    };
    expect(sameVipRules(parseServiceTable(json, 't-svc')!, expectedVipRules(vips))).toBe(true);
    expect(parseServiceTable(json, 'other')).toBeUndefined();
    const tampered = { nftables: [...json.nftables, { rule: { family: 'ip', table: 't-svc', chain: 'nat', comment: 'x', expr: [] } }] };
    expect(sameVipRules(parseServiceTable(tampered, 't-svc')!, expectedVipRules(vips))).toBe(false);
  });
});

const BACKEND = [
  'import socket, sys, threading',
  'name = sys.argv[1].encode()',
  'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 8080))',
  't = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("0.0.0.0", 8080)); t.listen(64)',
  'def udp():',
  '    while True:',
  '        d, a = u.recvfrom(100); u.sendto(name, a)',
  'threading.Thread(target=udp, daemon=True).start()',
  'print("ready", flush=True)',
  'while True:',
  '    c, _ = t.accept(); c.sendall(name); c.close()',
].join('\n');

// a client kept running: "udp-open VIP PORT N" opens N UDP sockets (N flows), "udp-send" sends one datagram on each and
// prints the names that answered, "tcp VIP PORT N" makes N connections and prints the names that answered
const CLIENT = [
  'import socket, sys, json',
  'socks = []; dest = None',
  'for line in sys.stdin:',
  '    cmd, *a = line.split()',
  '    out = []',
  '    if cmd == "udp-open":',
  '        dest = (a[0], int(a[1]))',
  '        for _ in range(int(a[2])):',
  '            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.bind(("0.0.0.0", 0)); socks.append(s)',
  '    elif cmd == "udp-send":',
  '        for s in socks:',
  '            s.sendto(b"x", dest)',
  '            try:',
  '                d, src = s.recvfrom(100); out.append(d.decode() if src[0] == dest[0] else "wrong-source")',
  '            except Exception:',
  '                out.append(None)',
  '    elif cmd == "tcp":',
  '        for _ in range(int(a[2])):',
  '            try:',
  '                c = socket.create_connection((a[0], int(a[1])), timeout=5); out.append(c.recv(100).decode()); c.close()',
  '            except Exception:',
  '                out.append(None)',
  '    print(json.dumps(out), flush=True)',
].join('\n');

describeWith(netnsCapability(), 'KernelDataPlane service VIPs (nftables DNAT in the containers)', () => {
  const k = new KernelLab('sv');
  const procs: ChildProcess[] = [];
  let h1: Host;
  let h2: Host;
  let p1: KernelDataPlane;
  let p2: KernelDataPlane;
  let client: ChildProcess;
  let clientOut = '';
  const ov = () => `198.19.${k.lab.subnetIndex}`;
  const NET = 'net-svc';
  const spec = (): NetworkSpec => ({ id: NET, name: NET, vni: 5000 + k.lab.subnetIndex, mtu: 1450, subnet: `${ov()}.0/25`, internal: false });
  const ep = (id: string, host: number, sandbox: string): LocalEndpointSpec => ({
    id,
    name: id,
    ip: `${ov()}.${host}`,
    prefixLength: 25,
    mac: `02:42:c6:14:${k.lab.subnetIndex.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`,
    sandbox,
  });
  const containers: Record<string, { ns: string; path: string }> = {};
  const eps: Record<string, LocalEndpointSpec> = {};
  const vip = () => `${ov()}.100`;
  const vipSpec = (states: Record<string, 'up' | 'draining'>): ServiceVip => ({
    vip: vip(),
    backends: Object.entries(states).map(([name, state]) => ({ ip: eps[name]!.ip, state })),
  });

  /** Sends one command to the client and returns the names it printed. */
  async function ask(line: string): Promise<(string | null)[]> {
    const from = clientOut.length;
    client.stdin!.write(`${line}\n`);
    await until(() => clientOut.slice(from).includes('\n'), `the client to answer ${line}`, 120_000);
    return JSON.parse(clientOut.slice(from, clientOut.indexOf('\n', from))) as (string | null)[];
  }

  const conntrackTo = (ns: string, backend: string): number =>
    k.tryExec(ns, 'conntrack', ['-L', '-d', vip(), '-r', backend]).stdout.split('\n').filter((l) => l.includes(`src=${backend}`)).length;

  beforeAll(async () => {
    [h1, h2] = k.hosts(1500);
    for (const [name, host] of [['c0', 10], ['b1', 11], ['b2', 12], ['b3', 13], ['c1', 20]] as const) {
      containers[name] = k.container(name);
      eps[name] = ep(name, host, containers[name]!.path);
    }
    p1 = await k.plane(h1, 'a', { egress: false });
    p2 = await k.plane(h2, 'b', { egress: false });
    for (const p of [p1, p2]) await p.ensureNetwork(spec());
    await p1.addLocalEndpoint(NET, eps.c0!);
    await p1.addLocalEndpoint(NET, eps.b1!);
    await p2.addLocalEndpoint(NET, eps.b2!);
    await p2.addLocalEndpoint(NET, eps.b3!);
    for (const name of ['c0', 'b1']) await p2.addRemoteEndpoint(NET, remoteOf(eps[name]!, p1));
    for (const name of ['b2', 'b3']) await p1.addRemoteEndpoint(NET, remoteOf(eps[name]!, p2));
    for (const name of ['b1', 'b2', 'b3']) {
      const child = k.lab.spawn(containers[name]!.ns, 'python3', ['-c', BACKEND, name]);
      procs.push(child);
      let out = '';
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      await until(() => out.includes('ready'), `backend ${name} to listen`, 20_000);
    }
    client = spawn('ip', ['netns', 'exec', containers.c0!.ns, 'python3', '-u', '-c', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    procs.push(client);
    client.stdout!.on('data', (b: Buffer) => (clientOut += b.toString()));
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await k.cleanup();
  });

  it('setServiceVip writes the table in each local container (1 process each) and flows spread over every up backend', async () => {
    const before1 = p1.runner.spawns;
    await p1.setServiceVip(NET, vipSpec({ b1: 'up', b2: 'up', b3: 'up' }));
    expect(p1.runner.spawns - before1).toBe(2); // c0 and b1
    const before2 = p2.runner.spawns;
    await p2.setServiceVip(NET, vipSpec({ b1: 'up', b2: 'up', b3: 'up' }));
    expect(p2.runner.spawns - before2).toBe(2); // b2 and b3
    const same = p1.runner.spawns;
    await p1.setServiceVip(NET, vipSpec({ b3: 'up', b2: 'up', b1: 'up' })); // the same VIP (other order): nothing to do
    expect(p1.runner.spawns).toBe(same);
    expect(k.exec(containers.c0!.ns, 'nft', ['list', 'table', 'ip', serviceTableName(p1.namespaceOf(NET))])).toContain(`ip daddr ${vip()}`);

    const tcp = await ask(`tcp ${vip()} 8080 30`);
    expect(tcp.filter((n) => n === null)).toEqual([]);
    expect(new Set(tcp)).toEqual(new Set(['b1', 'b2', 'b3']));
    await ask(`udp-open ${vip()} 8080 30`);
    const udp = await ask('udp-send');
    expect(udp.filter((n) => n === null || n === 'wrong-source')).toEqual([]);
    expect(new Set(udp)).toEqual(new Set(['b1', 'b2', 'b3']));
    expect(await ask('udp-send')).toEqual(udp); // each flow stays on its backend
  });

  it('a draining backend keeps its flows and gets no new one', async () => {
    const pinned = await ask('udp-send');
    await p1.setServiceVip(NET, vipSpec({ b1: 'up', b2: 'up', b3: 'draining' }));
    expect(conntrackTo(containers.c0!.ns, eps.b3!.ip)).toBeGreaterThan(0); // not flushed
    expect(await ask('udp-send')).toEqual(pinned); // b3's flows included
    const tcp = await ask(`tcp ${vip()} 8080 30`);
    expect(tcp.filter((n) => n === null)).toEqual([]);
    expect(tcp).not.toContain('b3');
    expect(new Set(tcp)).toEqual(new Set(['b1', 'b2']));
  });

  it('removing a backend deletes its conntrack entries and its flows move at once', async () => {
    const pinned = await ask('udp-send');
    expect(pinned).toContain('b2');
    expect(conntrackTo(containers.c0!.ns, eps.b2!.ip)).toBeGreaterThan(0);
    const before = p1.runner.spawns;
    await p1.setServiceVip(NET, vipSpec({ b1: 'up', b3: 'draining' }));
    expect(p1.runner.spawns - before).toBe(2); // nft and conntrack -D in one process per container
    expect(conntrackTo(containers.c0!.ns, eps.b2!.ip)).toBe(0);
    const after = await ask('udp-send');
    pinned.forEach((name, i) => {
      if (name === 'b2') expect(after[i]).toBe('b1'); // the only up backend
      else expect(after[i]).toBe(name); // others stay (b3 draining included)
    });
  });

  it('a container attached later gets the table in its one sandbox process, and loses it at detach', async () => {
    const before = p1.runner.spawns;
    await p1.addLocalEndpoint(NET, eps.c1!);
    expect(p1.runner.spawns - before).toBe(2); // the network namespace's ip -batch, the container's sh (ip -batch + nft)
    const table = serviceTableName(p1.namespaceOf(NET));
    expect(k.exec(containers.c1!.ns, 'nft', ['list', 'table', 'ip', table])).toContain(`ip daddr ${vip()}`);
    const r = k.tryExec(containers.c1!.ns, 'python3', ['-c', `import socket; c = socket.create_connection(("${vip()}", 8080), timeout=5); print(c.recv(100).decode())`]);
    expect(r.stdout.trim()).toBe('b1');
    await p1.removeLocalEndpoint(NET, eps.c1!.id);
    expect(k.tryExec(containers.c1!.ns, 'nft', ['list', 'table', 'ip', table]).status).not.toBe(0);
  });

  it('reconcile() puts back a deleted or altered table, then reports nothing', async () => {
    const table = serviceTableName(p1.namespaceOf(NET));
    k.exec(containers.c0!.ns, 'nft', ['delete', 'table', 'ip', table]);
    k.exec(containers.b1!.ns, 'nft', ['flush', 'chain', 'ip', table, 'nat']);
    const r = await p1.reconcile();
    expect(r.errors).toEqual([]);
    expect(r.changes.filter((c) => c.kind === 'vip').map((c) => `${c.action} ${c.namespace}`).sort()).toEqual([`add ${containers.c0!.path}`, `update ${containers.b1!.path}`].sort());
    const tcp = await ask(`tcp ${vip()} 8080 5`);
    expect(tcp).toEqual(['b1', 'b1', 'b1', 'b1', 'b1']);
    expect((await p1.reconcile()).changes).toEqual([]);
  });

  it('removing the VIP removes its rules and flows; programmed() reports the VIPs', async () => {
    expect((await p1.programmed()).networks[0]!.vips).toEqual([parseServiceVip(vipSpec({ b1: 'up', b3: 'draining' }), 't')]);
    await p1.setServiceVip(NET, { vip: vip(), backends: [] });
    expect(k.tryExec(containers.c0!.ns, 'nft', ['list', 'table', 'ip', serviceTableName(p1.namespaceOf(NET))]).status).not.toBe(0);
    expect(conntrackTo(containers.c0!.ns, eps.b1!.ip)).toBe(0);
    expect((await p1.programmed()).networks[0]!.vips).toEqual([]);
  });

  it('close() removes the tables from its containers', async () => {
    const table = serviceTableName(p2.namespaceOf(NET));
    for (const name of ['b2', 'b3']) expect(k.tryExec(containers[name]!.ns, 'nft', ['list', 'table', 'ip', table]).status).toBe(0);
    await p2.close();
    for (const name of ['b2', 'b3']) expect(k.tryExec(containers[name]!.ns, 'nft', ['list', 'table', 'ip', table]).status).not.toBe(0);
  });
});
