import { createSocket } from 'node:dgram';
import type { Attachment, WeftNode } from '../../src';
import { LocalCluster } from '../../src/testing';
import { vxlanEcho } from '../data-plane/helpers';
import { ep, eventually, pingEventually } from '../support/traffic';

async function counter(node: WeftNode, name: string): Promise<number> {
  const c = await node.dataPlane.counters();
  const v = c[name];
  if (v === undefined) throw new Error(`no counter ${name} on ${node.id}`);
  return v;
}

/** Sends one datagram from a plain loopback socket (a stranger on the underlay). */
async function inject(packet: Uint8Array, to: { host: string; port: number }): Promise<void> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => s.send(packet, to.port, to.host, (err) => (err ? reject(err) : resolve())));
  } finally {
    s.close();
  }
}

describe('encrypted networks', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await LocalCluster.start({
      managers: 3,
      workers: 2,
      control: 'tcp',
      underlay: 'udp',
      storage: 'level',
      node: { keyAckTimeoutMs: 1500, keyDrainMs: 100 },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('rotates the key three times under continuous traffic without losing a packet; traffic goes sealed on the encrypted port', async () => {
    await cluster.node('m1').createNetwork({ name: 'rot', encrypted: true, attachable: true });
    const a = await cluster.node('m2').attach('rot', { name: 'a' });
    const b = await cluster.node('w1').attach('rot', { name: 'b' });
    await pingEventually(a, b.ip);
    const sealedBefore = await counter(cluster.node('w1'), 'esp.rxPackets');

    let stop = false;
    let sent = 0;
    let received = 0;
    const failures: string[] = [];
    const server = ep(b).bind(9000);
    server.on('message', () => (received += 1));
    const client = ep(a).bind(0);
    const traffic = (async () => {
      while (!stop) {
        try {
          await ep(a).ping(b.ip, { timeoutMs: 1000 });
        } catch (err) {
          failures.push(String(err));
        }
        client.send(new Uint8Array(64), b.ip, 9000);
        sent += 1;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const generations: number[] = [];
    for (let i = 0; i < 3; i++) generations.push(await cluster.node('m3').rotateNetworkKey('rot'));
    stop = true;
    await traffic;
    await new Promise((r) => setTimeout(r, 200));
    server.close();
    client.close();

    expect(generations).toEqual([2, 3, 4]);
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(20);
    expect(received).toBe(sent);
    // Both data planes now hold only the newest key and send with it.
    for (const node of [cluster.node('m2'), cluster.node('w1')]) {
      const net = (await node.programmedState()).networks.find((n) => n.spec.name === 'rot')!;
      expect(net.spec.encryption?.keys.map((k) => k.generation)).toEqual([4]);
      expect(net.spec.encryption?.sendGeneration).toBe(4);
    }
    expect(await counter(cluster.node('w1'), 'esp.rxPackets')).toBeGreaterThan(sealedBefore + sent);
    expect(await counter(cluster.node('w1'), 'esp.rxAuthFailed')).toBe(0);
    await a.detach();
    await b.detach();
  }, 120_000);

  it('a node cut off from the managers across two rotations catches up unaided when it returns', async () => {
    await cluster.node('m1').createNetwork({ name: 'offline', encrypted: true, attachable: true });
    const a = await cluster.node('m2').attach('offline', { name: 'a' });
    const c = await cluster.node('w2').attach('offline', { name: 'c' });
    await pingEventually(a, c.ip);
    cluster.isolateControl('w2');
    await cluster.node('m1').rotateNetworkKey('offline');
    await cluster.node('m1').rotateNetworkKey('offline');
    // The cut-off node still sends with generation 1, which the others have retired: traffic stops...
    await expect(ep(a).ping(c.ip, { timeoutMs: 500 })).rejects.toThrow();
    cluster.heal();
    // ...and resumes once its watch catches up with the key record, without anyone's help.
    await pingEventually(a, c.ip, 15_000);
    await pingEventually(c, a.ip, 15_000);
    const net = (await cluster.node('w2').programmedState()).networks.find((n) => n.spec.name === 'offline')!;
    expect(net.spec.encryption?.sendGeneration).toBe(3);
    await a.detach();
    await c.detach();
  }, 120_000);

  it('cleartext VXLAN for an encrypted network is dropped and counted, even on a node with a single endpoint (CVE-2023-28841/28842)', async () => {
    const info = await cluster.node('m1').createNetwork({ name: 'lonely', encrypted: true, attachable: true });
    const only = await cluster.node('m3').attach('lonely', { name: 'only' });
    const node = cluster.node('m3');
    const before = await counter(node, 'guard.rxEncryptedVni');
    const answeredBefore = ep(only).counters.echoRequestsAnswered;
    const dp = node.dataPlane.info;
    for (let i = 0; i < 5; i++) await inject(vxlanEcho(info.vni, only.mac, only.ip), { host: dp.address, port: dp.vxlanPort });
    await eventually(async () => (await counter(node, 'guard.rxEncryptedVni')) >= before + 5, 'the guard to count 5 drops');
    expect(await counter(node, `net.${info.id}.cleartextDropped`)).toBeGreaterThanOrEqual(5);
    // Nothing reached the endpoint: no echo request was answered.
    expect(ep(only).counters.echoRequestsAnswered).toBe(answeredBefore);
    // Sent to the encrypted port instead, the same cleartext opens under no SA and is dropped too.
    const unclaimed = await counter(node, 'demux.unclaimed');
    await inject(vxlanEcho(info.vni, only.mac, only.ip), { host: dp.address, port: dp.encryptedPort });
    await eventually(async () => (await counter(node, 'demux.unclaimed')) === unclaimed + 1, 'the demux to count it');
    await only.detach();
  }, 60_000);
});

describe('network isolation', () => {
  it('endpoints on different networks cannot reach each other, and a frame forged with the other network VNI is dropped and counted', async () => {
    const cluster = await LocalCluster.start({ managers: 1, workers: 1, control: 'tcp', underlay: 'udp', storage: 'memory' });
    try {
      const m1 = cluster.node('m1');
      const red = await m1.createNetwork({ name: 'red', attachable: true, subnet: '10.230.0.0/24' });
      const blue = await m1.createNetwork({ name: 'blue', attachable: true, subnet: '10.231.0.0/24' });
      expect(red.vni).not.toBe(blue.vni);
      const r1: Attachment = await m1.attach('red', { name: 'r1' });
      const r2 = await cluster.node('w1').attach('red', { name: 'r2' });
      const b2 = await cluster.node('w1').attach('blue', { name: 'b2' });
      await pingEventually(r1, r2.ip);
      // Across networks: no route, no ARP answer.
      await expect(ep(r1).ping(b2.ip, { timeoutMs: 500 })).rejects.toThrow();
      // A frame for r2 (red) forged with blue's VNI is delivered into blue's segment, where r2 does not live.
      const w1 = cluster.node('w1');
      const dropsBefore = await counter(w1, 'plain.rxDropped');
      const answeredBefore = ep(r2).counters.echoRequestsAnswered;
      const dp = w1.dataPlane.info;
      await inject(vxlanEcho(blue.vni, r2.mac, r2.ip), { host: dp.address, port: dp.vxlanPort });
      await eventually(async () => (await counter(w1, 'plain.rxDropped')) === dropsBefore + 1, 'the forged frame to be counted as dropped');
      await new Promise((r) => setTimeout(r, 100));
      // Had it reached r2, r2 would have answered the echo request it carries.
      expect(ep(r2).counters.echoRequestsAnswered).toBe(answeredBefore);
      // Control: the same bytes with red's own VNI are delivered and answered, so the forgery above was well-formed.
      await inject(vxlanEcho(red.vni, r2.mac, r2.ip), { host: dp.address, port: dp.vxlanPort });
      await eventually(() => ep(r2).counters.echoRequestsAnswered === answeredBefore + 1, 'r2 to answer the red-VNI echo');
      // A VNI no network on this node uses: dropped as unknown.
      const unknownBefore = await counter(w1, 'plain.drops.unknown-vni');
      await inject(vxlanEcho(0xabcde, r2.mac, r2.ip), { host: dp.address, port: dp.vxlanPort });
      await eventually(async () => (await counter(w1, 'plain.drops.unknown-vni')) === unknownBefore + 1, 'unknown VNI drop');
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
