/**
 * Several encrypted networks over one UDP socket per node, as the control
 * plane will run them: one `EncryptedUnderlay` (with its own `KeyRing`) per
 * network, each on its own inner `Underlay` whose receive handler a
 * demultiplexer calls for the packets that underlay `accepts`.
 */
import { EncryptedUnderlay, KeyRing } from '../src';
import { UnderlayDemux } from './support/underlay-demux';
import { TestUdpUnderlay } from './support/udp-underlay';

const secret = (fill: number) => new Uint8Array(32).fill(fill);
const text = (s: string) => new TextEncoder().encode(s);
const decode = (p: Uint8Array) => new TextDecoder().decode(p);

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
}

describe('two encrypted networks behind one shared UDP socket per node', () => {
  const sockets: TestUdpUnderlay[] = [];
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  it('routes each network its own packets by accepts(); cleartext and foreign packets are dropped, never delivered', async () => {
    const [sa, sb] = await Promise.all([TestUdpUnderlay.bind(), TestUdpUnderlay.bind()]);
    sockets.push(sa, sb);
    const demuxA = new UnderlayDemux(sa);
    const demuxB = new UnderlayDemux(sb);
    const rings = {
      redA: new KeyRing({ secret: secret(1) }),
      redB: new KeyRing({ secret: secret(1) }),
      blueA: new KeyRing({ secret: secret(2) }),
      blueB: new KeyRing({ secret: secret(2) }),
    };
    const net = (demux: UnderlayDemux, keyRing: KeyRing, localId: string) =>
      demux.attach((underlay) => new EncryptedUnderlay({ underlay, keyRing, localId }));
    const redA = net(demuxA, rings.redA, 'a');
    const redB = net(demuxB, rings.redB, 'b');
    const blueA = net(demuxA, rings.blueA, 'a');
    const blueB = net(demuxB, rings.blueB, 'b');
    // Green: a third network node A is in and node B is not (same node ids, another secret).
    const greenA = net(demuxA, new KeyRing({ secret: secret(3) }), 'a');
    for (const enc of [redA, blueA, greenA]) enc.addPeer('b', sb.local);
    for (const enc of [redB, blueB]) enc.addPeer('a', sa.local);
    const got = { red: [] as string[], blue: [] as string[], redAtA: [] as string[] };
    redB.onReceive((p) => got.red.push(decode(p)));
    blueB.onReceive((p) => got.blue.push(decode(p)));
    redA.onReceive((p) => got.redAtA.push(decode(p)));

    for (let i = 0; i < 20; i++) {
      redA.send(text(`red ${i}`), sb.local);
      blueA.send(text(`blue ${i}`), sb.local);
    }
    greenA.send(text('green 0'), sb.local); // B has no green network
    sa.send(text('cleartext VXLAN would be here'), sb.local); // not sealed at all
    redB.send(text('reply'), sa.local);
    await until(() => got.red.length === 20 && got.blue.length === 20 && got.redAtA.length === 1 && demuxB.dropped === 2, 'delivery');
    expect(got.red).toEqual([...Array(20).keys()].map((i) => `red ${i}`));
    expect(got.blue).toEqual([...Array(20).keys()].map((i) => `blue ${i}`));
    expect(got.redAtA).toEqual(['reply']);
    expect(demuxB.dropped).toBe(2);
    expect(demuxB.multiple).toBe(0);
    // Each network saw only its own traffic: nothing reached it that it then had to drop.
    for (const enc of [redB, blueB]) {
      expect(enc.counters).toMatchObject({ rxPackets: 20, rxUnknownPeer: 0, rxUnknownSpi: 0, rxAuthFailed: 0, rxReplayed: 0, rxMalformed: 0 });
    }

    // Red rotates keys while blue does not; routing follows, and a red packet under the retired key is dropped by the demux.
    for (const r of [rings.redA, rings.redB]) r.install(1, secret(11));
    for (const r of [rings.redA, rings.redB]) r.activate(1);
    redA.send(text('red after rotation'), sb.local);
    blueA.send(text('blue still gen 0'), sb.local);
    await until(() => got.red.length === 21 && got.blue.length === 21, 'delivery after rotation');
    for (const r of [rings.redA, rings.redB]) r.retire(0);
    expect(got.red.at(-1)).toBe('red after rotation');
    expect(got.blue.at(-1)).toBe('blue still gen 0');

    // Closing one network detaches it; the socket and the other network keep working.
    await redB.close();
    redA.send(text('red to a closed network'), sb.local);
    blueA.send(text('blue after red closed'), sb.local);
    await until(() => got.blue.length === 22 && demuxB.dropped === 3, 'delivery after close');
    expect(got.red).toHaveLength(21);
    expect(got.blue.at(-1)).toBe('blue after red closed');
    expect(sa.errors + sb.errors).toBe(0);
  });
});
