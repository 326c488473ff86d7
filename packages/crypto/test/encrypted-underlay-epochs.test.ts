/**
 * Nonce uniqueness and replay protection across everything that rebuilds a
 * security association: a peer removed and added again, a peer moving to
 * another address, a network torn down and rebuilt on the same node (same
 * epoch), a node restarting (new epoch). A (key, IV) pair sealed twice under
 * AES-GCM or ChaCha20-Poly1305 leaks the XOR of two plaintexts and the
 * authentication key, so every test captures the wire and checks that no
 * (SPI, IV) pair repeats while the SPI — the key — stays the same.
 */
import { EncryptedUnderlay, KeyRing, readSpi, SequenceMarks, type SuiteName } from '../src';
import { EPOCH_A, EPOCH_B, epoch } from './support/epochs';
import { expectInvalidOption } from './support/expect-invalid';
import { toHex } from './support/hex';
import { memoryLink, type MemoryLink } from './support/memory-link';

const secret = (fill: number) => new Uint8Array(32).fill(fill);
const text = (s: string) => new TextEncoder().encode(s);

/** SPI (the key) and explicit IV (the sequence number) of a sealed packet, as hex. */
const spiOf = (p: Uint8Array) => toHex(p.subarray(0, 4));
const ivOf = (p: Uint8Array) => toHex(p.subarray(8, 16));
const nonceOf = (p: Uint8Array) => `${spiOf(p)}/${ivOf(p)}`;

interface Node {
  ring: KeyRing;
  enc: EncryptedUnderlay;
  got: string[];
}

function node(link: MemoryLink, side: 'a' | 'b', localEpoch: string, options: { suite?: SuiteName; sequenceMarks?: SequenceMarks; ring?: KeyRing } = {}): Node {
  const ring = options.ring ?? new KeyRing({ secret: secret(1), suite: options.suite });
  const underlay = link[side];
  const enc = new EncryptedUnderlay({ underlay, keyRing: ring, localId: `node-${side}`, localEpoch, sequenceMarks: options.sequenceMarks });
  const got: string[] = [];
  enc.onReceive((p) => got.push(new TextDecoder().decode(p)));
  return { ring, enc, got };
}

/** Sealed packets node-a put on the wire, in order. */
const fromA = (link: MemoryLink) => link.wire.filter((d) => d.from.host === link.a.local.host).map((d) => d.bytes);

function expectNoRepeatedNonce(packets: Uint8Array[]): void {
  const seen = packets.map(nonceOf);
  expect(new Set(seen).size).toBe(seen.length);
}

describe('EncryptedUnderlay never seals one (key, IV) pair twice', () => {
  it.each(['aes-256-gcm', 'chacha20-poly1305', 'xsalsa20-poly1305'] as SuiteName[])(
    '%s: a peer removed and added again, or moved and moved back, resumes its sequence under the same key',
    async (suite) => {
      const link = memoryLink();
      const a = node(link, 'a', EPOCH_A, { suite });
      const b = node(link, 'b', EPOCH_B, { suite });
      a.enc.addPeer('node-b', link.b.local, EPOCH_B);
      b.enc.addPeer('node-a', link.a.local, EPOCH_A);
      const send = (s: string) => a.enc.send(text(s), link.b.local);
      send('one');
      send('two');
      a.enc.removePeer('node-b'); // its last endpoint left ...
      a.enc.addPeer('node-b', link.b.local, EPOCH_B); // ... and came back
      send('three');
      a.enc.addPeer('node-b', { host: '127.0.0.7', port: 4789 }, EPOCH_B); // moved away (nothing reaches it there) ...
      a.enc.send(text('lost'), { host: '127.0.0.7', port: 4789 });
      a.enc.addPeer('node-b', link.b.local, EPOCH_B); // ... and back
      send('four');
      a.enc.addPeer('node-b', link.b.local, EPOCH_B); // the same registration again: nothing changes
      send('five');
      await link.drain();

      const packets = fromA(link);
      expect(packets).toHaveLength(6);
      expect(new Set(packets.map(spiOf)).size).toBe(1); // one key throughout ...
      expect(packets.map(ivOf)).toEqual([1, 2, 3, 4, 5, 6].map((n) => n.toString(16).padStart(16, '0'))); // ... and every IV once
      // B kept its inbound SA the whole time, so every packet that reached it is fresh there.
      expect(b.got).toEqual(['one', 'two', 'three', 'four', 'five']);
      expect(b.enc.counters).toMatchObject({ rxPackets: 5, rxReplayed: 0, rxAuthFailed: 0, rxUnknownSpi: 0 });
    },
  );

  it('a receiver that removes and re-adds a peer refuses what it accepted before, and accepts what comes next', async () => {
    const link = memoryLink();
    const a = node(link, 'a', EPOCH_A);
    const b = node(link, 'b', EPOCH_B);
    a.enc.addPeer('node-b', link.b.local, EPOCH_B);
    b.enc.addPeer('node-a', link.a.local, EPOCH_A);
    for (const s of ['one', 'two', 'three']) a.enc.send(text(s), link.b.local);
    await link.drain();
    const [first, , third] = fromA(link);
    b.enc.removePeer('node-a');
    b.enc.addPeer('node-a', link.a.local, EPOCH_A);
    link.b.inject(third!, link.a.local); // the newest accepted one
    link.b.inject(first!, link.a.local); // an older one, still inside the window
    expect(b.enc.counters.rxReplayed).toBe(2);
    a.enc.send(text('four'), link.b.local);
    await link.drain();
    expect(b.got).toEqual(['one', 'two', 'three', 'four']);
  });

  it('a network torn down and rebuilt on the same node (same epoch) resumes through shared SequenceMarks', async () => {
    const link = memoryLink();
    const marks = new SequenceMarks();
    const b = node(link, 'b', EPOCH_B);
    b.enc.addPeer('node-a', link.a.local, EPOCH_A);
    const first = node(link, 'a', EPOCH_A, { sequenceMarks: marks });
    expect(marks.claimed).toBe(true);
    first.enc.addPeer('node-b', link.b.local, EPOCH_B);
    for (const s of ['one', 'two', 'three']) first.enc.send(text(s), link.b.local);
    // A second underlay over the same marks while the first is open would count from the same place: refused.
    expectInvalidOption(() => node(memoryLink(), 'a', EPOCH_A, { sequenceMarks: marks }), 'sequenceMarks', /are used by another open EncryptedUnderlay/);
    await first.enc.close();
    await link.drain();
    expect(marks.claimed).toBe(false);
    expect(marks.sent(0, 'node-b')).toBe(3);

    const rebuilt = memoryLink(); // the network's new stack (the first one closed its inner underlay)
    rebuilt.b.onReceive((p, from) => link.b.inject(p, from)); // deliver to the same node-b
    const second = node(rebuilt, 'a', EPOCH_A, { sequenceMarks: marks, ring: new KeyRing({ secret: secret(1) }) });
    second.enc.addPeer('node-b', link.b.local, EPOCH_B);
    for (const s of ['four', 'five']) second.enc.send(text(s), link.b.local);
    await rebuilt.drain();

    const packets = [...fromA(link), ...fromA(rebuilt)];
    expect(new Set(packets.map(spiOf)).size).toBe(1);
    expectNoRepeatedNonce(packets);
    expect(b.got).toEqual(['one', 'two', 'three', 'four', 'five']); // B kept its SA and takes the rebuilt network's packets
    await second.enc.close();
  });

  it('without shared marks a rebuilt underlay restarts the sequence under the same key — why core passes them', async () => {
    const link = memoryLink();
    const b = node(link, 'b', EPOCH_B);
    b.enc.addPeer('node-a', link.a.local, EPOCH_A);
    const first = node(link, 'a', EPOCH_A);
    first.enc.addPeer('node-b', link.b.local, EPOCH_B);
    first.enc.send(text('one'), link.b.local);
    await link.drain();
    const rebuilt = memoryLink();
    const second = node(rebuilt, 'a', EPOCH_A); // fresh marks of its own
    second.enc.addPeer('node-b', rebuilt.b.local, EPOCH_B);
    second.enc.send(text('one again'), rebuilt.b.local);
    expect(nonceOf(fromA(rebuilt)[0]!)).toBe(nonceOf(fromA(link)[0]!)); // the very reuse the marks prevent
  });
});

describe('EncryptedUnderlay across a restart (a new epoch)', () => {
  it('a restarted sender seals under new keys; a receiver still on its old epoch refuses it, one that learned the new epoch accepts it', async () => {
    const link = memoryLink();
    const b = node(link, 'b', EPOCH_B);
    b.enc.addPeer('node-a', link.a.local, EPOCH_A);
    const before = node(link, 'a', EPOCH_A);
    before.enc.addPeer('node-b', link.b.local, EPOCH_B);
    before.enc.send(text('before restart'), link.b.local);
    await link.drain();
    const oldPacket = fromA(link)[0]!;

    // node-a restarts: a new process, a new epoch, the same address; nothing of the old one is left.
    const newEpoch = epoch(0x5eed);
    const after = node(link, 'a', newEpoch);
    after.enc.addPeer('node-b', link.b.local, EPOCH_B);
    after.enc.send(text('after restart'), link.b.local);
    await link.drain();
    const newPacket = fromA(link)[1]!;
    expect(ivOf(newPacket)).toBe(ivOf(oldPacket)); // the sequence starts again at 1 ...
    expect(spiOf(newPacket)).not.toBe(spiOf(oldPacket)); // ... under another key
    const ring = new KeyRing({ secret: secret(1) });
    expect(toHex(ring.pairKey(0, 'node-a', 'node-b', newEpoch, EPOCH_B).key)).not.toBe(toHex(ring.pairKey(0, 'node-a', 'node-b', EPOCH_A, EPOCH_B).key));
    // node-b has not heard of the restart: no silent acceptance, the packet is dropped and counted.
    expect(b.got).toEqual(['before restart']);
    expect(b.enc.counters.rxPackets).toBe(1);
    expect(b.enc.counters.rxUnknownSpi + b.enc.counters.rxAuthFailed).toBe(1);
    expect(b.enc.accepts(newPacket, link.a.local)).toBe(false);

    // The control plane tells node-b the new epoch: both directions switch to the new keys.
    b.enc.addPeer('node-a', link.a.local, newEpoch);
    expect(b.enc.peerEpoch('node-a')).toBe(newEpoch);
    after.enc.send(text('after restart, again'), link.b.local);
    b.enc.send(text('reply'), link.a.local);
    await link.drain();
    expect(b.got).toEqual(['before restart', 'after restart, again']);
    expect(after.got).toEqual(['reply']);
    // The old epoch's packets are refused from now on.
    link.b.inject(oldPacket, link.a.local);
    expect(b.got).toHaveLength(2);
    expect(b.enc.accepts(oldPacket, link.a.local)).toBe(false);
  });

  it('a restarted receiver refuses packets sealed for its previous epoch, replays included, until the sender learns the new one', async () => {
    const link = memoryLink();
    const a = node(link, 'a', EPOCH_A);
    a.enc.addPeer('node-b', link.b.local, EPOCH_B);
    const oldB = node(link, 'b', EPOCH_B);
    oldB.enc.addPeer('node-a', link.a.local, EPOCH_A);
    a.enc.send(text('to the old node-b'), link.b.local);
    await link.drain();
    const captured = fromA(link)[0]!;

    const newEpoch = epoch(0xb007);
    const b = node(link, 'b', newEpoch); // restarted: its replay windows start empty
    b.enc.addPeer('node-a', link.a.local, EPOCH_A);
    link.b.inject(captured, link.a.local); // an attacker replays old traffic
    a.enc.send(text('still for the old epoch'), link.b.local);
    await link.drain();
    expect(b.got).toEqual([]);
    expect(b.enc.counters.rxUnknownSpi + b.enc.counters.rxAuthFailed).toBe(2);

    a.enc.addPeer('node-b', link.b.local, newEpoch);
    a.enc.send(text('for the new node-b'), link.b.local);
    await link.drain();
    expect(b.got).toEqual(['for the new node-b']);
    const sent = fromA(link);
    expectNoRepeatedNonce(sent);
  });
});

describe('EncryptedUnderlay, SequenceMarks and rotation', () => {
  it('loses nothing across a rotation with a peer re-added in the middle, and forgets the marks of the retired generation', async () => {
    const link = memoryLink();
    const marks = new SequenceMarks();
    const a = node(link, 'a', EPOCH_A, { sequenceMarks: marks });
    const b = node(link, 'b', EPOCH_B);
    a.enc.addPeer('node-b', link.b.local, EPOCH_B);
    b.enc.addPeer('node-a', link.a.local, EPOCH_A);
    let n = 0;
    const burst = (k: number) => {
      for (let i = 0; i < k; i++) a.enc.send(text(`${n++}`), link.b.local);
    };
    burst(5);
    for (const r of [a.ring, b.ring]) r.install(1, secret(2));
    burst(5);
    a.enc.removePeer('node-b');
    a.enc.addPeer('node-b', link.b.local, EPOCH_B); // re-added while both generations are live
    burst(5);
    for (const r of [a.ring, b.ring]) r.activate(1);
    burst(5);
    a.enc.removePeer('node-b');
    a.enc.addPeer('node-b', link.b.local, EPOCH_B);
    burst(5);
    await link.drain();
    expect(marks.sent(0, 'node-b')).toBe(15);
    expect(marks.sent(1, 'node-b')).toBe(5);
    for (const r of [a.ring, b.ring]) r.retire(0);
    expect(marks.sent(0, 'node-b')).toBe(0);
    burst(5);
    await link.drain();
    expect(b.got).toEqual([...Array(n).keys()].map(String));
    expect(b.enc.counters).toMatchObject({ rxPackets: n, rxReplayed: 0, rxAuthFailed: 0, rxUnknownSpi: 0 });
    const packets = fromA(link);
    expect(new Set(packets.map((p) => readSpi(p) & 0xff))).toEqual(new Set([0, 1]));
    expectNoRepeatedNonce(packets);
    expect(marks.sent(1, 'node-b')).toBe(5); // a live SA's progress is recorded when it is dropped ...
    await a.enc.close();
    expect(marks.sent(1, 'node-b')).toBe(15); // ... here, by close()
    // A ring whose send generation these marks saw retired cannot take them over.
    expectInvalidOption(() => node(memoryLink(), 'a', EPOCH_A, { sequenceMarks: marks }), 'sequenceMarks', /retired generation 0/);
    expectInvalidOption(() => node(memoryLink(), 'a', EPOCH_B, { sequenceMarks: marks, ring: new KeyRing({ secret: secret(2), generation: 1 }) }), 'sequenceMarks', /belong to node "node-a" in epoch a1a1a1a1a1a1a1a1/);
    const next = node(memoryLink(), 'a', EPOCH_A, { sequenceMarks: marks, ring: new KeyRing({ secret: secret(2), generation: 1 }) });
    await next.enc.close();
  });

  it('keeps received marks per peer epoch: a peer back in a new epoch starts from 1 again', async () => {
    const marks = new SequenceMarks();
    marks.recordReceived(0, 'node-a', EPOCH_A, 40);
    expect(marks.received(0, 'node-a', EPOCH_A)).toBe(40);
    expect(marks.received(0, 'node-a', EPOCH_B)).toBe(0);
    marks.recordReceived(0, 'node-a', EPOCH_A, 30); // never moves back
    expect(marks.received(0, 'node-a', EPOCH_A)).toBe(40);
    marks.recordReceived(0, 'node-a', EPOCH_B, 0); // the new epoch's SA received nothing: the old epoch's mark is dropped
    expect(marks.received(0, 'node-a', EPOCH_A)).toBe(0);
    expect(marks.size).toBe(0);
    marks.recordReceived(0, 'node-a', EPOCH_B, 2);
    marks.recordSent(0, 'node-a', 7);
    marks.recordSent(0, 'node-a', 3);
    expect(marks.sent(0, 'node-a')).toBe(7);
    expect(marks.size).toBe(2);
  });
});
