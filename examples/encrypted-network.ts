/**
 * An encrypted overlay network: traffic sealed between nodes on their own
 * UDP port, a key rotation under load with nothing lost, and what the
 * userspace data plane's counters show — sealed packets in and out, no
 * authentication failures, and cleartext VXLAN for the network refused.
 *
 *   npx tsx examples/encrypted-network.ts
 */
import { createSocket } from 'node:dgram';
import { ENCRYPTION_OVERHEAD, type WeftNode } from '@weft/core';
import { LocalCluster } from '@weft/core/testing';
import { ETHERTYPE_IPV4, ICMP_ECHO_REQUEST, IPPROTO_ICMP, ethernet, icmpv4, ipv4, vxlanHeader } from '@weft/vxlan';
import { Report } from './support/report';
import { pingUntil } from './support/traffic';

/** What the example saw, for its test. */
export interface EncryptedExampleReport {
  lines: string[];
  generations: { before: number; after: number };
  datagrams: { sent: number; received: number };
  /** Counter deltas over the whole run, per node (m1 sends the stream, w1 receives it and the attacker's packets). */
  counters: { m1: Record<string, number>; w1: Record<string, number> };
}

/** A data plane counter (a flat record: `esp.rxPackets`, `guard.rxEncryptedVni`, ...). */
async function counter(node: WeftNode, name: string): Promise<number> {
  return (await node.dataPlane.counters())[name] ?? Number.NaN;
}

/** A cleartext VXLAN packet carrying an ICMP echo request for `ip`/`mac`: what an attacker on the underlay could send. */
function cleartextEcho(vni: number, mac: string, ip: string): Uint8Array {
  const icmp = icmpv4.encode({ type: ICMP_ECHO_REQUEST, code: 0, id: 1, seq: 1, payload: new Uint8Array(8) });
  const packet = ipv4.encode({ tos: 0, id: 1, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol: IPPROTO_ICMP, src: '10.66.0.66', dst: ip, payload: icmp });
  const frame = ethernet.encode({ dst: mac, src: '02:00:00:00:00:66', etherType: ETHERTYPE_IPV4, payload: packet });
  const out = new Uint8Array(8 + frame.length);
  vxlanHeader.encode({ vni }, out, 0);
  out.set(frame, 8);
  return out;
}

async function sendRaw(packet: Uint8Array, host: string, port: number): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(packet, port, host, (err) => (err ? reject(err) : resolve())));
  s.close();
}

export async function main(print: (line: string) => void = () => undefined): Promise<EncryptedExampleReport> {
  const report = new Report(print);
  report.say('Encrypted overlay: sealed traffic, a key rotation under load, and the counters');
  const cluster = await LocalCluster.start({ managers: 1, workers: 1, control: 'memory', storage: 'memory', node: { keyDrainMs: 100 } });
  try {
    const [m1, w1] = [cluster.node('m1'), cluster.node('w1')];
    const names = ['esp.txPackets', 'esp.rxPackets', 'esp.rxAuthFailed', 'esp.rxReplayed', 'plain.txPackets', 'guard.rxEncryptedVni', 'demux.unclaimed'];
    const read = async (node: WeftNode): Promise<Record<string, number>> => Object.fromEntries(await Promise.all(names.map(async (n) => [n, await counter(node, n)] as const)));
    const start = { m1: await read(m1), w1: await read(w1) };

    const { net, a, b } = await report.step('create "vault" (encrypted), attach a on m1 and b on w1', async (note) => {
      const info = await m1.createNetwork({ name: 'vault', encrypted: true, attachable: true, suite: 'chacha20-poly1305' });
      const eps = { a: await m1.attach('vault', { name: 'a' }), b: await w1.attach('vault', { name: 'b' }) };
      const dp = w1.dataPlane.info;
      note(`VNI ${info.vni}, MTU ${info.mtu} (${ENCRYPTION_OVERHEAD} bytes less than plain, for sealing); w1 seals on udp ${dp.address}:${dp.encryptedPort}, not the VXLAN port ${dp.vxlanPort}`);
      note(`ping a ${eps.a.ip} -> b ${eps.b.ip}: reply in ${(await pingUntil(eps.a, eps.b.ip)).toFixed(2)} ms`);
      return { net: info, ...eps };
    });

    const gen = async (node: WeftNode): Promise<number[]> => (await node.programmedState()).networks.find((n) => n.spec.id === net.id)!.spec.encryption!.keys.map((k) => k.generation);
    const { before, after, sent, received } = await report.step('rotate the key while a streams UDP to b', async (note) => {
      const server = b.endpoint.bind(9000);
      let got = 0;
      server.on('message', () => (got += 1));
      const client = a.endpoint.bind(0);
      let running = true;
      let count = 0;
      const stream = (async () => {
        for (; running && count < 10_000; count++) {
          client.send(new Uint8Array(200), b.ip, 9000);
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      const keysBefore = await gen(w1);
      const generation = await m1.rotateNetworkKey('vault'); // install on every node, switch sending, retire the old key
      running = false;
      await stream;
      await new Promise((r) => setTimeout(r, 200)); // the last datagrams in flight
      server.close();
      client.close();
      note(`w1's keys: generations [${keysBefore.join(', ')}] -> [${(await gen(w1)).join(', ')}]`);
      note(`UDP a -> b during the rotation: ${count} sent, ${got} received`);
      return { before: keysBefore[0]!, after: generation, sent: count, received: got };
    });

    await report.step('an attacker sends cleartext VXLAN for "vault" to w1', async (note) => {
      const dp = w1.dataPlane.info;
      const answered = b.endpoint.counters.echoRequestsAnswered;
      await sendRaw(cleartextEcho(net.vni, b.mac, b.ip), dp.address, dp.vxlanPort); // to the plain VXLAN port
      await sendRaw(cleartextEcho(net.vni, b.mac, b.ip), dp.address, dp.encryptedPort); // to the sealed port
      for (let i = 0; i < 100 && (await counter(w1, 'demux.unclaimed')) === start.w1['demux.unclaimed']; i++) await new Promise((r) => setTimeout(r, 10));
      note(`b answered ${b.endpoint.counters.echoRequestsAnswered - answered} of them (the data plane refused both)`);
    });

    const counters = await report.step('the data planes\' counters over the run', async (note) => {
      const delta = async (node: WeftNode, from: Record<string, number>): Promise<Record<string, number>> => {
        const now = await read(node);
        return Object.fromEntries(names.map((n) => [n, now[n]! - from[n]!]));
      };
      const out = { m1: await delta(m1, start.m1), w1: await delta(w1, start.w1) };
      for (const [id, c] of Object.entries(out)) {
        note(`${id}: sealed ${c['esp.txPackets']} sent, ${c['esp.rxPackets']} received (esp.*); cleartext sent ${c['plain.txPackets']}; auth failures ${c['esp.rxAuthFailed']}, replays ${c['esp.rxReplayed']}`);
      }
      note(`w1: cleartext for the encrypted VNI dropped ${out.w1['guard.rxEncryptedVni']} (guard.rxEncryptedVni), sealed-port packets no network could open ${out.w1['demux.unclaimed']} (demux.unclaimed)`);
      return out;
    });
    report.say(`Done in ${report.elapsedMs()} ms.`);
    return { lines: report.lines, generations: { before, after }, datagrams: { sent, received }, counters };
  } finally {
    await cluster.close();
  }
}

if (require.main === module) {
  main((line) => console.log(line)).catch((err: unknown) => {
    console.error('example failed:', err);
    process.exitCode = 1;
  });
}
