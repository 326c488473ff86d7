/**
 * The embedded DNS on the kernel plane: two hosts, a container on each, one
 * network with a DNS address. Each plane runs a helper in its network
 * namespace (the address on the bridge, UDP and TCP port 53) that relays
 * queries to the plane's handler over a Unix socket: `dig` from a
 * container gets its own node's answer over UDP and TCP (the address is
 * node-local), through the resolv.conf the attach wrote too; malformed
 * datagrams and TCP frames are dropped and counted and the helper lives
 * on; a killed helper and a stray one (a crashed run's) are dealt with by
 * reconcile(); close() stops the helper and removes the resolv.conf.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { DnsQuery, LocalEndpointSpec, NetworkSpec } from '@weft/interface';
import type { KernelDataPlane } from '@weft/linux';
import { describeWith, netnsCapability } from '../../../test-support/capabilities';
import { until } from '../../../test-support/wait';
import { KernelLab, remoteOf, type Host } from './hosts';
import { FrameReader, FrameType, encodeFrame } from '../src/plane/dns-protocol';
import { helperCommand, HELPER_MARKER } from '../src/plane/dns-relay';

/** An answer to an A query: the question copied, QR and RA set, one A record (name by pointer) with `address`. */
function answerA(query: Uint8Array, address: string): Uint8Array {
  const q = Buffer.from(query);
  const out = Buffer.concat([q, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address.split('.').map(Number)])]);
  out[2] = 0x81; // QR, RD
  out[3] = 0x80; // RA
  out.writeUInt16BE(1, 6); // ANCOUNT
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10); // no authority / additional (the query's OPT is dropped by slicing below)
  return out;
}

describe('dns protocol framing', () => {
  it('splits a stream into frames across chunk boundaries; an out-of-range length throws', () => {
    const r = new FrameReader();
    const a = encodeFrame(FrameType.answer, Buffer.from([0, 0, 0, 7, 1, 2]));
    const b = encodeFrame(FrameType.statusRequest, Buffer.from([0, 0, 0, 1]));
    const all = Buffer.concat([a, b]);
    expect(r.push(all.subarray(0, 3))).toEqual([]);
    expect(r.push(all.subarray(3, 9)).map((f) => f.type)).toEqual([]);
    expect(r.push(all.subarray(9)).map((f) => [f.type, [...f.body]])).toEqual([
      [FrameType.answer, [0, 0, 0, 7, 1, 2]],
      [FrameType.statusRequest, [0, 0, 0, 1]],
    ]);
    expect(() => new FrameReader().push(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]))).toThrow(RangeError);
    expect(() => new FrameReader().push(Buffer.from([0, 0, 0, 0]))).toThrow(RangeError);
  });
});

describeWith(netnsCapability(), 'KernelDataPlane embedded DNS (a helper in the network namespace)', () => {
  const k = new KernelLab('dn');
  const procs: ChildProcess[] = [];
  let h1: Host;
  let h2: Host;
  let p1: KernelDataPlane;
  let p2: KernelDataPlane;
  const seen: DnsQuery[] = [];
  const ov = () => `198.19.${k.lab.subnetIndex}`;
  const NET = 'net-dns';
  const spec = (): NetworkSpec => ({ id: NET, name: NET, vni: 5500 + k.lab.subnetIndex, mtu: 1450, subnet: `${ov()}.0/25`, internal: false });
  const dnsAddress = () => `${ov()}.126`;
  const containers: Record<string, { ns: string; path: string }> = {};
  const eps: Record<string, LocalEndpointSpec> = {};
  const resolvOf = (name: string) => `/etc/netns/${containers[name]!.ns}/resolv.conf`;
  const dig = async (ns: string, ...args: string[]): Promise<string> =>
    (await k.lab.execAsync(ns, 'dig', ['+short', '+tries=1', '+time=5', ...args], 30_000)).trim();

  beforeAll(async () => {
    [h1, h2] = k.hosts(1500);
    for (const [name, host] of [['c1', 10], ['c2', 20]] as const) {
      containers[name] = k.container(name);
      eps[name] = {
        id: name,
        name,
        ip: `${ov()}.${host}`,
        prefixLength: 25,
        mac: `02:42:c6:15:${k.lab.subnetIndex.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`,
        sandbox: containers[name]!.path,
        resolvConf: resolvOf(name),
      };
    }
    p1 = await k.plane(h1, 'a', { egress: false });
    p2 = await k.plane(h2, 'b', { egress: false });
    p1.setDnsHandler(async (q) => (seen.push(q), answerA(q.message.slice(0, 12 + questionLength(q.message)), '10.20.30.1')));
    p2.setDnsHandler(async (q) => answerA(q.message.slice(0, 12 + questionLength(q.message)), '10.20.30.2'));
    for (const p of [p1, p2]) await p.ensureNetwork(spec());
    await p1.setDnsAddress(NET, dnsAddress()); // before the first attach: only recorded
    expect(await p1.dnsHelper(NET)).toBeUndefined();
    await p1.addLocalEndpoint(NET, eps.c1!);
    await p2.addLocalEndpoint(NET, eps.c2!);
    await p1.addRemoteEndpoint(NET, remoteOf(eps.c2!, p2));
    await p2.addRemoteEndpoint(NET, remoteOf(eps.c1!, p1));
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await k.cleanup();
    for (const name of Object.keys(containers)) rmSync(`/etc/netns/${containers[name]!.ns}`, { recursive: true, force: true });
  });

  it('the first attach started the helper (address on the bridge in the same batch); setDnsAddress on an active network costs 1 ip process', async () => {
    const st = await p1.dnsHelper(NET);
    expect(st).toMatchObject({ addressPresent: true });
    const addrs = k.json<{ addr_info: { local: string; prefixlen: number }[] }[]>(p1.namespaceOf(NET), ['-4', 'addr', 'show', 'dev', 'br0']);
    expect(addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${dnsAddress()}/25`]);
    const before = p2.runner.spawns;
    await p2.setDnsAddress(NET, dnsAddress());
    expect(p2.runner.spawns - before).toBe(1);
    expect((await p2.counters())['dns.helperStarts']).toBe(1);
    expect((await p2.dnsHelper(NET))?.addressPresent).toBe(true);
    const same = p2.runner.spawns;
    await p2.setDnsAddress(NET, dnsAddress());
    expect(p2.runner.spawns).toBe(same);
    expect((await p2.programmed()).networks[0]!.dnsAddress).toBe(dnsAddress());
  });

  it('dig from a container gets its own node’s answer over UDP and TCP', async () => {
    expect(await dig(containers.c1!.ns, `@${dnsAddress()}`, 'svc.weft.test', 'A')).toBe('10.20.30.1');
    expect(await dig(containers.c1!.ns, '+tcp', `@${dnsAddress()}`, 'svc.weft.test', 'A')).toBe('10.20.30.1');
    expect(seen.map((q) => [q.networkId, q.sourceIp, q.transport])).toEqual([
      [NET, eps.c1!.ip, 'udp'],
      [NET, eps.c1!.ip, 'tcp'],
    ]);
    expect(await dig(containers.c2!.ns, `@${dnsAddress()}`, 'svc.weft.test', 'A')).toBe('10.20.30.2'); // node-local
    expect(await dig(containers.c2!.ns, '+tcp', `@${dnsAddress()}`, 'svc.weft.test', 'A')).toBe('10.20.30.2');
  });

  it('the attach wrote the resolv.conf asked for; dig through it (ip netns exec mounts it) gets the answer', async () => {
    expect(readFileSync(resolvOf('c1'), 'utf8')).toContain(`nameserver ${dnsAddress()}\n`);
    expect(await dig(containers.c1!.ns, 'plain.weft.test', 'A')).toBe('10.20.30.1');
  });

  it('malformed datagrams and TCP frames are dropped and counted; the helper lives on', async () => {
    const before = await p1.dnsHelper(NET);
    const queriesBefore = (await p1.counters())['dns.queries'] ?? 0;
    const junk = [
      'import socket, sys',
      `a = ("${dnsAddress()}", 53)`,
      'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      'for d in [b"", b"x", b"\\x00" * 11]: u.sendto(d, a)',
      't = socket.create_connection(a, timeout=5); t.sendall(b"\\x00\\x05hello"); t.recv(10); t.close()', // too short: closed
      't = socket.create_connection(a, timeout=5); t.sendall(b"\\xff\\xff" + b"y" * 100); t.close()', // cut short
      't = socket.create_connection(a, timeout=5); t.sendall(b"\\x00"); t.close()', // half a length
      'print("sent")',
    ].join('\n');
    expect((await k.lab.execAsync(containers.c1!.ns, 'python3', ['-c', junk], 30_000)).trim()).toBe('sent');
    await until(async () => ((await p1.dnsHelper(NET))?.counters['drops.malformed'] ?? 0) >= 4, 'the helper to count 4 malformed inputs', 15_000);
    const after = await p1.dnsHelper(NET);
    expect(after!.pid).toBe(before!.pid);
    expect((await p1.counters())['dns.queries'] ?? 0).toBe(queriesBefore); // nothing malformed reached the handler
    expect(await dig(containers.c1!.ns, `@${dnsAddress()}`, 'after.weft.test', 'A')).toBe('10.20.30.1');
  });

  it('reconcile() replaces a killed helper and kills a stray one (a crashed run’s), then reports nothing', async () => {
    const old = (await p1.dnsHelper(NET))!.pid;
    process.kill(old, 'SIGKILL');
    await until(async () => (await p1.dnsHelper(NET)) === undefined, 'the plane to see its helper die', 10_000);
    // a stray helper of this namespace, as a crashed run would leave (on another port, so both can bind)
    const [cmd, ...args] = helperCommand(`${__dirname}/../src/plane`);
    const stray = spawn('nsenter', [`--net=/var/run/netns/${p1.namespaceOf(NET)}`, cmd!, ...args, HELPER_MARKER, p1.namespaceOf(NET), dnsAddress()], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, WEFT_DNS_PORT: '5353' },
    });
    procs.push(stray);
    let ready = false;
    const reader = new FrameReader();
    stray.stdio[3]!.on('data', (b: Buffer) => (ready ||= reader.push(b).some((f) => f.type === FrameType.ready)));
    await until(() => ready, 'the stray helper to bind', 20_000);
    const exited = new Promise((res) => stray.once('exit', res));
    const r = await p1.reconcile();
    expect(r.errors).toEqual([]);
    const dns = r.changes.filter((c) => c.kind === 'dns').map((c) => c.target);
    expect(dns).toEqual(expect.arrayContaining([`stray helper ${stray.pid}`, `helper ${dnsAddress()}`]));
    await exited;
    const now = await p1.dnsHelper(NET);
    expect(now?.pid).not.toBe(old);
    expect(await dig(containers.c1!.ns, `@${dnsAddress()}`, 'again.weft.test', 'A')).toBe('10.20.30.1');
    expect((await p1.reconcile()).changes).toEqual([]);
  });

  it('moving the address: the old one leaves the bridge, a new helper answers at the new one, the resolv.conf follows (1 ip process)', async () => {
    const moved = `${ov()}.125`;
    const old = (await p1.dnsHelper(NET))!.pid;
    const before = p1.runner.spawns;
    await p1.setDnsAddress(NET, moved);
    expect(p1.runner.spawns - before).toBe(1); // addr del + addr replace in one batch
    const addrs = k.json<{ addr_info: { local: string }[] }[]>(p1.namespaceOf(NET), ['-4', 'addr', 'show', 'dev', 'br0']);
    expect(addrs[0]!.addr_info.map((a) => a.local)).toEqual([moved]);
    expect(existsSync(`/proc/${old}`)).toBe(false);
    expect(readFileSync(resolvOf('c1'), 'utf8')).toContain(`nameserver ${moved}\n`);
    expect(await dig(containers.c1!.ns, `@${moved}`, 'moved.weft.test', 'A')).toBe('10.20.30.1');
    await p1.setDnsAddress(NET, dnsAddress());
    expect(await dig(containers.c1!.ns, `@${dnsAddress()}`, 'back.weft.test', 'A')).toBe('10.20.30.1');
  });

  it('clearing the address stops the helper and removes the address and the resolv.conf; close() stops the other', async () => {
    const pid = (await p1.dnsHelper(NET))!.pid;
    await p1.setDnsAddress(NET, undefined);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(resolvOf('c1'))).toBe(false);
    const addrs = k.json<{ addr_info: unknown[] }[]>(p1.namespaceOf(NET), ['-4', 'addr', 'show', 'dev', 'br0']);
    expect(addrs[0]?.addr_info ?? []).toEqual([]);
    const pid2 = (await p2.dnsHelper(NET))!.pid;
    expect(existsSync(resolvOf('c2'))).toBe(true);
    await p2.close();
    expect(existsSync(`/proc/${pid2}`)).toBe(false);
    expect(existsSync(resolvOf('c2'))).toBe(false);
  });
});

/** Bytes of the first question (QNAME, QTYPE, QCLASS) of a DNS message. */
function questionLength(m: Uint8Array): number {
  let i = 12;
  while (i < m.length && m[i] !== 0) i += m[i]! + 1;
  return i + 1 + 4 - 12;
}
