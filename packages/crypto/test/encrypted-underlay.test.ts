import { isWeftError } from '@weft/interface';
import { EncryptedUnderlay, KeyRing, readSpi, UnderlayClosedError, type EncryptedUnderlayCounters, type SuiteName } from '../src';
import { expectInvalidOption } from './support/expect-invalid';
import { memoryLink, type MemoryLink } from './support/memory-link';

const secret = (fill: number) => new Uint8Array(32).fill(fill);
const tick = () => new Promise<void>((r) => setImmediate(r));
/** Marker every test payload starts with; it must never appear on the wire. */
const MARKER = Buffer.from('WEFT-PLAINTEXT-MARKER');

function payload(n: number): Uint8Array {
  const b = Buffer.alloc(MARKER.length + 8 + 100);
  MARKER.copy(b, 0);
  b.writeUInt32BE(n, MARKER.length);
  return b;
}
const numberOf = (p: Uint8Array) => Buffer.from(p).readUInt32BE(MARKER.length);

interface Side {
  ring: KeyRing;
  enc: EncryptedUnderlay;
  received: number[];
}

function setup(suite: SuiteName = 'aes-256-gcm', extra: { maxSequence?: number; onRekeyNeeded?: (id: string) => void } = {}) {
  const link: MemoryLink = memoryLink();
  const make = (id: string, underlay: MemoryLink['a']): Side => {
    const ring = new KeyRing({ secret: secret(1), suite });
    const enc = new EncryptedUnderlay({ underlay, keyRing: ring, localId: id, ...extra });
    const received: number[] = [];
    enc.onReceive((p) => received.push(numberOf(p)));
    return { ring, enc, received };
  };
  const a = make('node-a', link.a);
  const b = make('node-b', link.b);
  a.enc.addPeer('node-b', link.b.local);
  b.enc.addPeer('node-a', link.a.local);
  return { link, a, b };
}

const zeroDrops: Partial<EncryptedUnderlayCounters> = {
  txNoPeer: 0,
  txSequenceExhausted: 0,
  rxUnknownPeer: 0,
  rxMalformed: 0,
  rxUnknownSpi: 0,
  rxAuthFailed: 0,
  rxReplayed: 0,
};

function wireHasPlaintext(link: MemoryLink): boolean {
  return link.wire.some((d) => Buffer.from(d.bytes).includes(MARKER));
}

describe('EncryptedUnderlay', () => {
  it.each(['aes-256-gcm', 'chacha20-poly1305', 'xsalsa20-poly1305'] as SuiteName[])('carries %s traffic both ways, never in clear', async (suite) => {
    const { link, a, b } = setup(suite);
    for (let i = 0; i < 50; i++) {
      a.enc.send(payload(i), link.b.local);
      b.enc.send(payload(1000 + i), link.a.local);
    }
    await link.drain();
    expect(b.received).toEqual([...Array(50).keys()]);
    expect(a.received).toEqual([...Array(50).keys()].map((i) => 1000 + i));
    expect(a.enc.counters).toMatchObject({ ...zeroDrops, txPackets: 50, rxPackets: 50 });
    expect(link.wire).toHaveLength(100);
    expect(wireHasPlaintext(link)).toBe(false);
  });

  it('loses nothing while keys rotate three times under a continuous stream in both directions', async () => {
    const { link, a, b } = setup();
    const phases: string[] = [];
    a.ring.on((e) => phases.push(`a:${e.phase}:${e.generation}`));
    b.ring.on((e) => phases.push(`b:${e.phase}:${e.generation}`));
    let nextA = 0;
    let nextB = 0;
    const burst = (n: number) => {
      for (let i = 0; i < n; i++) {
        a.enc.send(payload(nextA++), link.b.local);
        b.enc.send(payload(nextB++), link.a.local);
      }
    };
    for (let gen = 1; gen <= 3; gen++) {
      burst(20);
      // Phase 1 on every node, while packets are in flight.
      b.ring.install(gen, secret(10 + gen));
      burst(10);
      a.ring.install(gen, secret(10 + gen));
      burst(20);
      await tick();
      // Phase 2: A switches first; its new-key packets overtake nothing, B still sends old-key ones.
      burst(10);
      a.ring.activate(gen);
      burst(20);
      b.ring.activate(gen);
      burst(20); // both now send with `gen`; old-key packets are still in flight here
      // Phase 3 only after in-flight packets drained (one delivery round on this link).
      await tick();
      burst(10);
      a.ring.retire(gen - 1);
      b.ring.retire(gen - 1);
      burst(20);
      await tick();
    }
    burst(20);
    await link.drain();
    expect(b.received).toEqual([...Array(nextA).keys()]);
    expect(a.received).toEqual([...Array(nextB).keys()]);
    expect(nextA).toBe(3 * 130 + 20);
    for (const side of [a, b]) expect(side.enc.counters).toMatchObject({ ...zeroDrops, txPackets: nextA, rxPackets: nextA });
    // Every generation carried traffic: four distinct SPIs per direction on the wire.
    const spis = (from: string) => new Set(link.wire.filter((d) => d.from.host === from).map((d) => readSpi(d.bytes) & 0xff));
    expect([...spis('127.0.0.1')].sort()).toEqual([0, 1, 2, 3]);
    expect([...spis('127.0.0.2')].sort()).toEqual([0, 1, 2, 3]);
    expect(phases.filter((p) => p.startsWith('a:'))).toEqual([
      'a:install:1', 'a:activate:1', 'a:retire:0',
      'a:install:2', 'a:activate:2', 'a:retire:1',
      'a:install:3', 'a:activate:3', 'a:retire:2',
    ]);
    expect(wireHasPlaintext(link)).toBe(false);
  });

  it('drops (and counts) packets still in flight under a key retired too early — why phase 3 waits', async () => {
    const { link, a, b } = setup();
    a.ring.install(1, secret(2));
    b.ring.install(1, secret(2));
    for (let i = 0; i < 5; i++) a.enc.send(payload(i), link.b.local); // old key, in flight
    a.ring.activate(1);
    b.ring.activate(1);
    b.ring.retire(0); // too early: the five are not delivered yet
    a.enc.send(payload(5), link.b.local);
    await link.drain();
    expect(b.received).toEqual([5]);
    expect(b.enc.counters.rxUnknownSpi).toBe(5);
  });

  it('drops cleartext, forged, replayed and unknown-sender packets and counts each', async () => {
    const { link, a, b } = setup();
    a.enc.send(payload(1), link.b.local);
    await link.drain();
    const sealed = link.wire[0]!.bytes;
    // Cleartext VXLAN (RFC 7348 header: flags 0x08, VNI 4096) with an inner frame carrying the marker.
    const vxlan = Buffer.concat([Buffer.from('0800000000100000', 'hex'), Buffer.alloc(14), MARKER]);
    link.b.inject(vxlan, link.a.local);
    link.b.inject(vxlan.subarray(0, 8), link.a.local); // a bare header: too short to be sealed
    const forged = Uint8Array.from(sealed);
    forged[7] = 2; // a fresh sequence number (so the replay check passes) on someone else's ciphertext
    link.b.inject(forged, link.a.local);
    link.b.inject(sealed, link.a.local); // replay
    link.b.inject(sealed, { host: '127.0.0.9', port: 4789 }); // not a peer
    expect(b.received).toEqual([1]);
    expect(b.enc.counters).toMatchObject({ rxPackets: 1, rxUnknownSpi: 1, rxMalformed: 1, rxAuthFailed: 1, rxReplayed: 1, rxUnknownPeer: 1 });
  });

  it('drops sends to unknown addresses without touching the wire', () => {
    const { link, a } = setup();
    a.enc.send(payload(1), { host: '127.0.0.3', port: 4789 });
    expect(link.wire).toHaveLength(0);
    expect(a.enc.counters.txNoPeer).toBe(1);
    a.enc.removePeer('node-b');
    a.enc.send(payload(2), link.b.local);
    expect(link.wire).toHaveLength(0);
    expect(a.enc.counters.txNoPeer).toBe(2);
    expect(a.enc.peers).toEqual([]);
  });

  it('asks for a rekey when the outbound SA is exhausted, and sends again after rotation', async () => {
    const asked: string[] = [];
    const { link, a, b } = setup('aes-256-gcm', { maxSequence: 3, onRekeyNeeded: (id) => asked.push(id) });
    for (let i = 0; i < 5; i++) a.enc.send(payload(i), link.b.local);
    expect(a.enc.counters).toMatchObject({ txPackets: 3, txSequenceExhausted: 2 });
    expect(asked).toEqual(['node-b', 'node-b']);
    for (const s of [a, b]) s.ring.install(1, secret(3));
    for (const s of [a, b]) s.ring.activate(1);
    a.enc.send(payload(5), link.b.local);
    await link.drain();
    expect(b.received).toEqual([0, 1, 2, 5]);
  });

  it('validates options and peers, closes idempotently and refuses to send after close', async () => {
    const { link, a } = setup();
    expectInvalidOption(() => new EncryptedUnderlay({ underlay: link.a, keyRing: a.ring, localId: '' }), 'localId', /^EncryptedUnderlay: option "localId"/);
    expectInvalidOption(
      () => new EncryptedUnderlay({ underlay: link.a, keyRing: a.ring, localId: 'x', replayWindow: 10 }),
      'replayWindow',
      /^EncryptedUnderlay: option "replayWindow" must be a multiple of 32 .*\(got 10\)$/,
    );
    expectInvalidOption(() => new EncryptedUnderlay({ underlay: {} as never, keyRing: a.ring, localId: 'x' }), 'underlay');
    expectInvalidOption(() => new EncryptedUnderlay({ underlay: link.a, keyRing: {} as never, localId: 'x' }), 'keyRing');
    expectInvalidOption(() => new EncryptedUnderlay({ underlay: link.a, keyRing: a.ring, localId: 'x', onRekeyNeeded: 1 as never }), 'onRekeyNeeded');
    expectInvalidOption(() => new EncryptedUnderlay(undefined as never), 'underlay');
    expectInvalidOption(() => a.enc.addPeer('node-c', link.b.local), 'address', /^EncryptedUnderlay\.addPeer: option "address" already belongs to peer "node-b" \(got "127\.0\.0\.2:4789"\)$/);
    expectInvalidOption(() => a.enc.addPeer('node-c', { host: '127.0.0.5', port: 70000 }), 'address.port', /^EncryptedUnderlay\.addPeer: option "address\.port"/);
    expectInvalidOption(() => a.enc.addPeer('node-c', { host: 'node-c.example', port: 4789 }), 'address.host', /must be an IP literal/);
    expectInvalidOption(() => a.enc.addPeer('', { host: '127.0.0.5', port: 4789 }), 'id');
    expectInvalidOption(() => a.enc.onReceive(undefined as never), 'handler');
    expect(a.enc.peers).toEqual(['node-b']);
    const p1 = a.enc.close();
    const p2 = a.enc.close();
    expect(p2).toBe(p1);
    await p1;
    expect(link.a.closed).toBe(true);
    expect(() => a.enc.send(payload(1), link.b.local)).toThrow(UnderlayClosedError);
    expect(() => a.enc.send(payload(1), link.b.local)).toThrow('underlay encrypted 127.0.0.1:4789 is closed');
    try {
      a.enc.send(payload(1), link.b.local);
    } catch (err) {
      expect(isWeftError(err, 'ERR_UNDERLAY_CLOSED')).toBe(true);
    }
    // Rotation after close no longer touches the closed underlay.
    expect(() => a.ring.install(1, secret(4))).not.toThrow();
  });
});

describe('EncryptedUnderlay and per-flow source ports', () => {
  it('passes the flow hash to the inner underlay and exposes its sourcePortFor', async () => {
    const link = memoryLink();
    const hashes: (number | undefined)[] = [];
    const inner = {
      local: link.a.local,
      sourcePortFor: (h: number) => 49152 + (h % 4),
      send: (p: Uint8Array, to: { host: string; port: number }, h?: number) => {
        hashes.push(h);
        link.a.send(p, to);
      },
      onReceive: (handler: (p: Uint8Array, from: { host: string; port: number }) => void) => link.a.onReceive(handler),
      close: () => link.a.close(),
    };
    const enc = new EncryptedUnderlay({ underlay: inner, keyRing: new KeyRing({ secret: secret(1) }), localId: 'node-a' });
    try {
      enc.addPeer('node-b', link.b.local);
      expect(enc.sourcePortFor?.(7)).toBe(49152 + 3);
      enc.send(payload(1), link.b.local, 50001);
      enc.send(payload(2), link.b.local);
      expect(hashes).toEqual([50001, undefined]);
    } finally {
      await enc.close();
    }
  });

  it('has no sourcePortFor when the inner underlay has none', async () => {
    const link = memoryLink();
    const enc = new EncryptedUnderlay({ underlay: link.a, keyRing: new KeyRing({ secret: secret(1) }), localId: 'node-a' });
    try {
      expect(enc.sourcePortFor).toBeUndefined();
    } finally {
      await enc.close();
    }
  });
});
