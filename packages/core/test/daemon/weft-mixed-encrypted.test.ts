/**
 * Issue 13's encrypted network on the kernel plane, with the real topology:
 * three "hosts" (network namespaces on one switch bridge), one `weft` node
 * process per host started with `ip netns exec` — A with the userspace data
 * plane (its endpoints live in the node process), B and C with the kernel
 * plane (containers are network namespaces). One `--encrypted` network.
 *
 * Kernel B ↔ kernel C: a TCP transfer container to container through the
 * encrypted relay; tshark on B's underlay sees only the encrypted port
 * (no cleartext VXLAN, on 4789 or anywhere else); cleartext VXLAN for the VNI
 * injected from outside into C (one endpoint) is dropped by the nftables guard
 * (its counter rises, the container receives nothing), and so is anything
 * sent from outside to C's relay port. Then every pair of the three reaches
 * every other: userspace A ↔ kernel B, A ↔ C, B ↔ C.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsLab } from '../../../../test-support/netns';
import { describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { sleep, until } from '../../../../test-support/wait';
import { FAST_TIMING, killAllWeft, weft, weftJson, WeftProcess } from '../../../../test-support/weft-process';

const PORTS = ['--join-port', '0', '--store-port', '0', '--raft-port', '0'];
const NODE = process.execPath;

interface Host {
  readonly ns: string;
  readonly address: string;
  /** The host's end of its link to the switch. */
  readonly device: string;
}

/** `table inet <prefix>` of a kernel node, read with `nft -j` in its host namespace: dropped packets of the VNI's rules and of the relay-port rule. */
function guardCounters(lab: NetnsLab, host: Host, vni: number): { vni: number; relay: number; relayPort: number | undefined } {
  const out = JSON.parse(lab.exec(host.ns, 'nft', ['-j', 'list', 'ruleset'])) as { nftables: { rule?: { chain: string; comment?: string; expr: { counter?: { packets: number } }[] } }[] };
  let v = 0;
  let relay = 0;
  let relayPort: number | undefined;
  for (const item of out.nftables) {
    const r = item.rule;
    if (r === undefined) continue;
    const packets = r.expr.reduce((n, e) => n + (e.counter?.packets ?? 0), 0);
    if (r.comment === `vni ${vni}`) v += packets;
    const m = /^relay (\d+)$/.exec(r.comment ?? '');
    if (m && r.chain === 'input') relay += packets;
    if (m && r.chain === 'relay') relayPort = Number(m[1]);
  }
  return { vni: v, relay, relayPort };
}

/** A node script that sends one UDP datagram with `payload` (hex) to host:port. */
function sendUdpScript(host: string, port: number, hex: string): string {
  return `const s=require('dgram').createSocket('udp4');s.send(Buffer.from('${hex}','hex'),${port},'${host}',(e)=>{s.close();process.exitCode=e?1:0;});`;
}

/** Internet checksum of `b`. */
function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) + (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A VXLAN packet (VNI `vni`) carrying an Ethernet/IPv4/UDP frame to `dstMac`/`dstIp`:`dstPort`, as an attacker outside would forge it. */
function forgedVxlan(vni: number, dstMac: string, srcIp: string, dstIp: string, dstPort: number): string {
  const payload = Buffer.from('forged cleartext');
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(dstPort, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(srcIp.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dstIp.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.concat([Buffer.from(dstMac.replace(/:/g, ''), 'hex'), Buffer.from('02420a4e00fe', 'hex'), Buffer.from([0x08, 0x00])]);
  const vx = Buffer.from([0x08, 0, 0, 0, (vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff, 0]);
  return Buffer.concat([vx, eth, ip, udp, payload]).toString('hex');
}

describeWith(netnsCapability(), 'weft: an encrypted network across kernel and userspace nodes (one node process per host namespace)', () => {
  let dir: string;
  const lab = new NetnsLab('we');
  const procs: WeftProcess[] = [];
  const hosts: Host[] = [];
  let sw: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-menc-'));
    const net = `198.18.${lab.subnetIndex}`;
    sw = lab.addNamespace('sw');
    lab.exec(sw, 'ip', ['link', 'add', 'name', 'swbr', 'type', 'bridge']);
    lab.exec(sw, 'ip', ['link', 'set', 'swbr', 'up']);
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      const ns = lab.addNamespace(`h${name}`);
      const device = `${lab.tag}${name}`.slice(-15);
      lab.ip('link', 'add', device, 'netns', ns, 'mtu', '1500', 'type', 'veth', 'peer', 'name', `p${name}`, 'netns', sw, 'mtu', '1500');
      lab.exec(sw, 'ip', ['link', 'set', `p${name}`, 'master', 'swbr', 'up']);
      const address = `${net}.${i + 1}`;
      lab.exec(ns, 'ip', ['addr', 'add', `${address}/24`, 'dev', device]);
      lab.exec(ns, 'ip', ['link', 'set', device, 'up']);
      hosts.push({ ns, address, device });
    }
  });

  afterAll(async () => {
    for (const p of procs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p.stop(), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
    }
    await killAllWeft();
    // whatever a failure left of the kernel planes (their namespaces start with weft-<tag>)
    try {
      for (const n of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) {
        const name = n.split(' ')[0] ?? '';
        if (name.startsWith(`weft-${lab.tag}`)) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      }
    } catch {
      // nothing left
    }
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kernel↔kernel TCP through the relay with nothing in cleartext on the wire, injected cleartext dropped, and every pair with a userspace node reaches every other', async () => {
    const [a, b, c] = hosts as [Host, Host, Host];
    const id = (n: string): string => `${lab.tag}${n}`;
    const flags = (h: Host, plane: string): string[] => ['--advertise-addr', h.address, '--data-addr', h.address, '--data-plane', plane];
    procs.push(await WeftProcess.start(join(dir, 'a'), ['init', '--node-id', id('a'), ...PORTS, ...FAST_TIMING, ...flags(a, 'userspace')], { netns: a.ns }));
    const info = await weftJson<{ joinAddress: string }>(join(dir, 'a'), ['info']);
    const token = (await weft(join(dir, 'a'), ['join-token', 'worker', '--quiet'])).stdout.trim();
    for (const [h, n] of [[b, 'b'], [c, 'c']] as const) {
      procs.push(await WeftProcess.start(join(dir, n), ['join', token, info.joinAddress, '--node-id', id(n), ...PORTS, ...FAST_TIMING, ...flags(h, 'kernel')], { netns: h.ns }));
    }

    const created = await weftJson<{ vni: number; encrypted: boolean }>(join(dir, 'a'), ['network', 'create', 'senc', '--subnet', '10.78.0.0/24', '--encrypted']);
    expect(created.encrypted).toBe(true);
    const vni = created.vni;
    const cb = lab.addNamespace('cb');
    const cc = lab.addNamespace('cc');
    const epB = await weftJson<{ ip: string; mac: string }>(join(dir, 'b'), ['endpoint', 'attach', 'senc', 'cb1', '--netns', `/var/run/netns/${cb}`]);
    const epC = await weftJson<{ ip: string; mac: string }>(join(dir, 'c'), ['endpoint', 'attach', 'senc', 'cc1', '--netns', `/var/run/netns/${cc}`]);
    const epA = await weftJson<{ ip: string }>(join(dir, 'a'), ['endpoint', 'attach', 'senc', 'ua1']);
    // the container's MTU: underlay 1500 − 50 (VXLAN) − 32 (sealing)
    expect(lab.exec(cb, 'ip', ['-o', 'link', 'show', 'dev', 'eth0'])).toMatch(/mtu 1418\b/);

    // B ↔ C (kernel ↔ kernel) through both relays
    await until(() => lab.tryExec(cb, 'ping', ['-c', '1', '-W', '1', epC.ip]).status === 0, 'cb1 reaches cc1', 30_000);

    // A TCP transfer of 4 MB while tshark watches B's underlay: only the encrypted port carries UDP.
    const pcap = join(dir, 'b-underlay.pcap');
    const capture = spawn('ip', ['netns', 'exec', b.ns, 'tshark', '-q', '-i', b.device, '-w', pcap, '-f', 'udp'], { stdio: 'ignore' });
    try {
      await sleep(1500); // tshark's capture is open
      const size = 4 * 1024 * 1024;
      const server = lab.spawn(cc, NODE, ['-e', `const h=require('crypto').createHash('sha256');let n=0;const s=require('net').createServer((c)=>{c.on('data',(d)=>{n+=d.length;h.update(d)});c.on('end',()=>{process.stdout.write(n+' '+h.digest('hex'));s.close()})});s.listen(5001,'${epC.ip}',()=>process.stdout.write('ready\\n'))`]);
      let served = '';
      server.stdout!.on('data', (d: Buffer) => (served += d.toString()));
      await until(() => served.includes('ready'), 'the TCP server in cc1', 15_000);
      const sent = await lab.execAsync(cb, NODE, ['-e', `const b=require('crypto').createHash('sha256');const d=Buffer.alloc(${size});for(let i=0;i<d.length;i++)d[i]=(i*7)&255;b.update(d);const c=require('net').connect(5001,'${epC.ip}',()=>{c.end(d,()=>process.stdout.write(b.digest('hex')))});`], 120_000);
      await until(() => /^ready\n\d+ [0-9a-f]{64}$/.test(served), 'the transfer to finish', 120_000);
      expect(served.split('\n')[1]).toBe(`${size} ${sent}`);
    } finally {
      capture.kill('SIGINT');
      await new Promise((r) => (capture.exitCode !== null ? r(undefined) : capture.once('exit', r)));
    }
    const ports = execFileSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((l) => l !== '');
    expect(ports.length).toBeGreaterThan(1000); // 4 MB of TCP went by, sealed
    expect(ports.filter((l) => !l.split('\t').includes('4790'))).toEqual([]);
    const vxlanOnWire = execFileSync('tshark', ['-r', pcap, '-d', 'udp.port==4790,vxlan', '-Y', `vxlan.vni == ${vni}`], { encoding: 'utf8' }).trim();
    expect(vxlanOnWire).toBe(''); // read as VXLAN, the sealed packets name no VNI of ours (their header is the SPI)

    // Cleartext VXLAN for the VNI injected into C from outside (host A's namespace): dropped, counted; cc1 receives nothing.
    const before = guardCounters(lab, c, vni);
    expect(before.relayPort).toBeGreaterThan(0);
    const listener = lab.spawn(cc, NODE, ['-e', `const s=require('dgram').createSocket('udp4');s.on('message',(m)=>process.stdout.write('got '+m+'\\n'));s.bind(5002,'${epC.ip}',()=>process.stdout.write('ready\\n'));setTimeout(()=>s.close(),8000)`]);
    let heard = '';
    listener.stdout!.on('data', (d: Buffer) => (heard += d.toString()));
    await until(() => heard.includes('ready'), 'the UDP listener in cc1', 15_000);
    const forged = forgedVxlan(vni, epC.mac, epB.ip, epC.ip, 5002);
    for (const port of [4789, before.relayPort!]) expect(lab.tryExec(a.ns, NODE, ['-e', sendUdpScript(c.address, port, forged)]).status).toBe(0);
    await until(() => guardCounters(lab, c, vni).vni > before.vni && guardCounters(lab, c, vni).relay > before.relay, 'the guard of C to count the injected packets', 10_000);
    // the same inner datagram through the overlay (sealed by B's relay) does arrive: the listener works
    expect(lab.tryExec(cb, NODE, ['-e', sendUdpScript(epC.ip, 5002, Buffer.from('through the overlay').toString('hex'))]).status).toBe(0);
    await until(() => heard.includes('got through the overlay'), 'the overlay datagram', 10_000);
    expect(heard).not.toContain('forged');

    // Mixed: userspace A ↔ kernel B and C, every pair both ways.
    for (const target of [epB.ip, epC.ip]) {
      await until(async () => (await weft(join(dir, 'a'), ['endpoint', 'ping', 'ua1', target, '-c', '1', '-W', '1s'])).code === 0, `ua1 reaches ${target}`, 30_000);
    }
    for (const box of [cb, cc]) expect(await lab.execAsync(box, 'ping', ['-c', '2', '-i', '0.3', '-W', '2', epA.ip])).toMatch(/2 received/);
    expect(lab.tryExec(cc, 'ping', ['-c', '2', '-i', '0.3', '-W', '2', epB.ip]).status).toBe(0);
  }, 300_000);
});
