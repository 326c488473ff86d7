import { EncryptedUnderlay, KeyRing, PACKET_OVERHEAD, SecurityAssociation } from '../src';
import { memoryLink } from './support/memory-link';

const secret = (fill: number) => new Uint8Array(32).fill(fill);
const text = (s: string) => new TextEncoder().encode(s);

function pair(hosts?: readonly [string, string]) {
  const link = memoryLink(hosts);
  const ringA = new KeyRing({ secret: secret(1) });
  const ringB = new KeyRing({ secret: secret(1) });
  const a = new EncryptedUnderlay({ underlay: link.a, keyRing: ringA, localId: 'node-a' });
  const b = new EncryptedUnderlay({ underlay: link.b, keyRing: ringB, localId: 'node-b' });
  const got: string[] = [];
  b.onReceive((p) => got.push(new TextDecoder().decode(p)));
  return { link, ringA, ringB, a, b, got };
}

describe('EncryptedUnderlay peer addresses', () => {
  it('matches IPv6 peers in any spelling of the host, sending to the address the caller gave', async () => {
    const { link, a, b, got } = pair(['2001:db8::1', '2001:db8::2']);
    a.addPeer('node-b', { host: '2001:DB8:0:0:0:0:0:2', port: 4789 });
    b.addPeer('node-a', { host: '2001:0db8::0001', port: 4789 });
    a.send(text('one'), { host: '2001:db8::2', port: 4789 });
    a.send(text('two'), { host: '2001:db8:0::2', port: 4789 });
    a.send(text('lost'), { host: '2001:db8::2', port: 4790 }); // another port is another peer
    await link.drain();
    expect(got).toEqual(['one', 'two']);
    expect(link.wire.map((d) => d.to.host)).toEqual(['2001:db8::2', '2001:db8:0::2']);
    expect(a.counters).toMatchObject({ txPackets: 2, txNoPeer: 1 });
    expect(b.counters).toMatchObject({ rxPackets: 2, rxUnknownPeer: 0 });
    // A second spelling of a registered address is the same address.
    expect(() => a.addPeer('node-c', { host: '2001:db8::2', port: 4789 })).toThrow(/already belongs to peer "node-b"/);
    a.removePeer('node-b');
    a.send(text('three'), { host: '2001:db8::2', port: 4789 });
    expect(a.counters.txNoPeer).toBe(2);
  });

  it('re-registers a peer id under a new address and forgets the old one', async () => {
    const { link, a } = pair();
    a.addPeer('node-b', { host: '127.0.0.9', port: 4789 });
    a.addPeer('node-b', link.b.local);
    a.send(text('x'), { host: '127.0.0.9', port: 4789 });
    expect(a.counters.txNoPeer).toBe(1);
    a.send(text('y'), link.b.local);
    expect(a.counters.txPackets).toBe(1);
    expect(a.peers).toEqual(['node-b']);
    // The old address is free again.
    expect(() => a.addPeer('node-c', { host: '127.0.0.9', port: 4789 })).not.toThrow();
    await link.drain();
  });
});

describe('EncryptedUnderlay and peers sending from per-flow source ports (RFC 7348 §5)', () => {
  it('recognises a peer on any port of its host by its SPI, and nothing else from those ports', async () => {
    const { link, ringB, a, b, got } = pair();
    a.addPeer('node-b', link.b.local);
    b.addPeer('node-a', link.a.local);
    b.addPeer('node-c', { host: '127.0.0.1', port: 4790 }); // a second VTEP on A's host
    a.send(text('from a'), link.b.local);
    await link.drain();
    const fromA = link.wire[0]!.bytes;
    // What node-c would send to node-b (derived from the same cluster secret).
    const kc = ringB.pairKey(0, 'node-c', 'node-b');
    const fromC = new SecurityAssociation(kc).seal(text('from c'));
    const poolPort = { host: '127.0.0.1', port: 49200 };
    // A replayed copy of A's packet from a pool port is A's SA's replay, not a new peer.
    expect(b.accepts(fromA, poolPort)).toBe(true);
    link.b.inject(fromA, poolPort);
    expect(b.counters.rxReplayed).toBe(1);
    expect(b.accepts(fromC, { host: '127.0.0.1', port: 49201 })).toBe(true);
    link.b.inject(fromC, { host: '127.0.0.1', port: 49201 });
    // A fresh packet of A's that only ever arrives from a pool port is delivered.
    const ka = ringB.pairKey(0, 'node-a', 'node-b');
    link.b.inject(new SecurityAssociation({ ...ka, nextSequence: 100 }).seal(text('again from a')), { host: '127.0.0.1', port: 49202 });
    expect(got).toEqual(['from a', 'from c', 'again from a']);
    // From another host, or cleartext / short packets from a pool port: unknown peer, never delivered.
    expect(b.accepts(fromC, { host: '127.0.0.3', port: 49201 })).toBe(false);
    link.b.inject(fromC, { host: '127.0.0.3', port: 49201 });
    const cleartext = Uint8Array.from(Buffer.concat([Buffer.from('0800000000100000', 'hex'), Buffer.alloc(40)]));
    expect(b.accepts(cleartext, poolPort)).toBe(false);
    link.b.inject(cleartext, poolPort);
    link.b.inject(cleartext.subarray(0, 8), poolPort);
    expect(got).toHaveLength(3);
    expect(b.counters).toMatchObject({ rxPackets: 3, rxUnknownPeer: 3, rxReplayed: 1, rxUnknownSpi: 0, rxMalformed: 0, rxAuthFailed: 0 });
  });
});

describe('EncryptedUnderlay.accepts', () => {
  it('is true exactly for packets from a registered peer under one of its live inbound SPIs, and follows rotation', async () => {
    const { link, ringA, ringB, a, b } = pair();
    a.addPeer('node-b', link.b.local);
    b.addPeer('node-a', link.a.local);
    a.send(text('gen 0'), link.b.local);
    const gen0 = link.wire[0]!.bytes;
    const fromA = link.a.local;
    expect(b.accepts(gen0, fromA)).toBe(true);
    expect(b.accepts(gen0, { host: '127.0.0.5', port: 4789 })).toBe(false); // not a peer
    expect(b.accepts(gen0, { host: 'not-an-ip', port: 4789 })).toBe(false);
    expect(a.accepts(gen0, link.b.local)).toBe(false); // B→A SPIs differ from A→B ones
    expect(b.accepts(gen0.subarray(0, PACKET_OVERHEAD - 1), fromA)).toBe(false); // too short to be sealed
    const cleartext = Uint8Array.from(Buffer.concat([Buffer.from('0800000000100000', 'hex'), Buffer.alloc(40)]));
    expect(b.accepts(cleartext, fromA)).toBe(false);
    // It only reads: it neither opens nor counts, and the packet still opens afterwards.
    expect(b.counters).toMatchObject({ rxPackets: 0, rxUnknownSpi: 0, rxUnknownPeer: 0, rxMalformed: 0 });
    await link.drain();
    expect(b.counters.rxPackets).toBe(1);

    for (const r of [ringA, ringB]) r.install(1, secret(2));
    for (const r of [ringA, ringB]) r.activate(1);
    a.send(text('gen 1'), link.b.local);
    const gen1 = link.wire[1]!.bytes;
    expect(b.accepts(gen1, fromA)).toBe(true);
    expect(b.accepts(gen0, fromA)).toBe(true); // gen 0 still installed for receiving
    for (const r of [ringA, ringB]) r.retire(0);
    expect(b.accepts(gen0, fromA)).toBe(false);
    expect(b.accepts(gen1, fromA)).toBe(true);
    b.removePeer('node-a');
    expect(b.accepts(gen1, fromA)).toBe(false);
    b.addPeer('node-a', fromA);
    expect(b.accepts(gen1, fromA)).toBe(true);
    await b.close();
    expect(b.accepts(gen1, fromA)).toBe(false);
    await link.drain();
  });
});
