/**
 * Below the control plane, by hand with `@weft/vxlan`: two VTEPs on loopback
 * (127.0.0.1 and 127.0.0.2), two overlay networks (VNIs) that even reuse the
 * same IP addresses, userspace endpoints on both, ping and UDP echo across
 * the tunnel, and isolation between VNIs. What `@weft/core` programs from its
 * store, done here in a dozen lines.
 *
 *   npx tsx examples/two-vteps.ts
 *
 * `main()` returns the report it prints, so examples/two-vteps.test.ts can check it.
 */
import { Endpoint, UdpUnderlay, Vtep, type EndpointUdpSocket, type Segment } from '@weft/vxlan';

/** One ping in the report. */
export interface PingResult {
  from: string;
  to: string;
  ok: boolean;
  rttMs?: number;
  error?: string;
}

/** One UDP echo exchange in the report. */
export interface UdpResult {
  from: string;
  to: string;
  sent: string;
  reply?: string;
  error?: string;
}

/** What the example did and saw. */
export interface TwoVtepsReport {
  vteps: { name: string; address: string }[];
  pings: PingResult[];
  udp: UdpResult[];
  isolation: PingResult[];
  drops: Record<string, Record<string, number>>;
  /** The printed report, one line per entry. */
  lines: string[];
}

interface Net {
  name: string;
  vni: number;
}

const BLUE: Net = { name: 'blue', vni: 4096 };
const RED: Net = { name: 'red', vni: 4097 };

function echoServer(ep: Endpoint, port: number, tag: string): EndpointUdpSocket {
  const s = ep.bind(port);
  s.on('message', (data: Uint8Array, from: { address: string; port: number }) => {
    s.send(new TextEncoder().encode(`${tag} says: ${new TextDecoder().decode(data)}`), from.address, from.port);
  });
  return s;
}

function udpAsk(ep: Endpoint, ip: string, port: number, text: string, timeoutMs = 1000): Promise<string> {
  const s = ep.bind(0);
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP reply within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('message', (data: Uint8Array) => {
      clearTimeout(timer);
      s.close();
      resolve(new TextDecoder().decode(data));
    });
    s.send(new TextEncoder().encode(text), ip, port);
  });
}

async function ping(from: [string, Endpoint], to: [string, string], timeoutMs = 1000): Promise<PingResult> {
  try {
    const rttMs = await from[1].ping(to[1], { timeoutMs });
    return { from: from[0], to: `${to[0]} ${to[1]}`, ok: true, rttMs };
  } catch (err) {
    return { from: from[0], to: `${to[0]} ${to[1]}`, ok: false, error: (err as Error).name };
  }
}

/** Runs the example and returns its report (also printed when run as a script). */
export async function main(print: (line: string) => void = () => undefined): Promise<TwoVtepsReport> {
  const lines: string[] = [];
  const say = (line: string): void => {
    lines.push(line);
    print(line);
  };
  const hostA = new Vtep({ underlay: await UdpUnderlay.bind({ host: '127.0.0.1', port: 0 }) });
  // If the second bind fails, the first VTEP's socket must not be left open.
  const hostB = await UdpUnderlay.bind({ host: '127.0.0.2', port: 0 }).then(
    (underlay) => new Vtep({ underlay }),
    async (err: unknown) => {
      await hostA.close();
      throw err;
    },
  );
  const endpoints: Endpoint[] = [];
  try {
    const seg = (v: Vtep, n: Net): Segment => v.segment(n.vni) ?? v.addSegment(n.vni);
    const place = (name: string, v: Vtep, n: Net, mac: string, ip: string): [string, Endpoint] => {
      const ep = new Endpoint({ mac, ip, arpTimeoutMs: 100, arpRetries: 1 }).attach(seg(v, n));
      endpoints.push(ep);
      return [name, ep];
    };
    // Both tenants use 10.0.1.0/24: only the VNI tells them apart.
    const aBlue = place('a-blue', hostA, BLUE, '02:42:0a:00:01:01', '10.0.1.1');
    const bBlue = place('b-blue', hostB, BLUE, '02:42:0a:00:01:02', '10.0.1.2');
    const aRed = place('a-red', hostA, RED, '02:42:0a:01:01:01', '10.0.1.1');
    const bRed = place('b-red', hostB, RED, '02:42:0a:01:01:02', '10.0.1.2');
    const cRed = place('c-red', hostB, RED, '02:42:0a:01:01:03', '10.0.1.3');

    // The control plane's job (what @weft/core will do from its store): tell each
    // VTEP where the other network's endpoints live — FDB, neighbour (ARP
    // suppression) and flood list — for the networks it has endpoints on.
    const pairs: Array<[Vtep, Vtep]> = [
      [hostA, hostB],
      [hostB, hostA],
    ];
    for (const [here, there] of pairs) {
      for (const n of [BLUE, RED]) {
        const local = seg(here, n);
        for (const ep of endpoints) {
          if (ep.segment?.vni === n.vni && ep.segment !== local && there.segment(n.vni) === ep.segment) {
            local.addRemoteEndpoint({ mac: ep.mac, ip: ep.ip, vtep: there.local });
          }
        }
      }
    }

    const vteps = [
      { name: 'host A', address: `${hostA.local.host}:${hostA.local.port}` },
      { name: 'host B', address: `${hostB.local.host}:${hostB.local.port}` },
    ];
    say('Weft VXLAN by hand: two userspace VTEPs on loopback');
    for (const v of vteps) say(`  ${v.name}: VTEP on udp ${v.address}`);
    say(`  network blue = VNI ${BLUE.vni}: a-blue 10.0.1.1 on A, b-blue 10.0.1.2 on B`);
    say(`  network red  = VNI ${RED.vni}: a-red 10.0.1.1 on A, b-red 10.0.1.2 and c-red 10.0.1.3 on B`);

    const pings = [await ping(aBlue, ['b-blue', '10.0.1.2']), await ping(aRed, ['b-red', '10.0.1.2']), await ping(bRed, ['a-red', '10.0.1.1'])];
    for (const p of pings) say(`ping  ${p.from} -> ${p.to}: ${p.ok ? `reply in ${p.rttMs!.toFixed(2)} ms` : `FAILED (${p.error})`}`);

    const servers = [echoServer(bBlue[1], 7, 'b-blue'), echoServer(bRed[1], 7, 'b-red')];
    const udp: UdpResult[] = [];
    const asks: Array<[[string, Endpoint], string]> = [
      [aBlue, 'hello over blue'],
      [aRed, 'hello over red'],
    ];
    for (const [from, text] of asks) {
      try {
        udp.push({ from: from[0], to: '10.0.1.2:7', sent: text, reply: await udpAsk(from[1], '10.0.1.2', 7, text) });
      } catch (err) {
        udp.push({ from: from[0], to: '10.0.1.2:7', sent: text, error: (err as Error).message });
      }
    }
    for (const u of udp) say(`udp   ${u.from} -> ${u.to} "${u.sent}": ${u.reply !== undefined ? `echo "${u.reply}"` : `FAILED (${u.error})`}`);
    for (const s of servers) s.close();

    const isolation = [await ping(aBlue, ['c-red', '10.0.1.3'], 500)];
    for (const p of isolation) {
      say(`isolation  ${p.from} (blue) -> ${p.to} (red): ${p.ok ? 'REACHED (isolation broken!)' : `unreachable, as it must be (${p.error})`}`);
    }

    const drops: Record<string, Record<string, number>> = {};
    const named: Array<[string, Vtep]> = [
      ['host A', hostA],
      ['host B', hostB],
    ];
    for (const [name, v] of named) {
      const c = v.counters;
      drops[name] = Object.fromEntries(Object.entries(c.drops).filter(([, n]) => n > 0));
      const d = Object.entries(drops[name]!).map(([r, n]) => `${r} ${n}`);
      say(`counters  ${name}: sent ${c.txPackets}, received ${c.rxPackets}, ARP answered locally ${c.arpSuppressed}, flooded ${c.flooded}, drops: ${d.length > 0 ? d.join(', ') : 'none'}`);
    }
    return { vteps, pings, udp, isolation, drops, lines };
  } finally {
    await Promise.all(endpoints.map((e) => e.close()));
    await Promise.all([hostA.close(), hostB.close()]);
  }
}

if (require.main === module) {
  main((line) => console.log(line)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
