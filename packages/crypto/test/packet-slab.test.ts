import { randomBytes } from 'node:crypto';
import { PacketSlab } from '../src/sa/packet-slab';
import { SecurityAssociation } from '../src';

describe('PacketSlab', () => {
  it('hands out disjoint views of the requested length, across slab boundaries', () => {
    const slab = new PacketSlab(1024);
    const views: Uint8Array[] = [];
    // 300 allocations of 1..256 bytes cross many 1 KiB slabs.
    for (let i = 0; i < 300; i++) {
      const v = slab.alloc(1 + ((i * 37) % 256));
      expect(v.length).toBe(1 + ((i * 37) % 256));
      v.fill(i & 0xff);
      views.push(v);
    }
    // Writing every view with its own byte and reading it back proves no two live views overlap.
    views.forEach((v, i) => expect(v.every((b) => b === (i & 0xff))).toBe(true));
  });

  it('gives a buffer of its own to requests over a quarter slab', () => {
    const slab = new PacketSlab(1024);
    const big = slab.alloc(257);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(257);
  });

  it('sealed packets held together all open to their own plaintext', () => {
    const key = randomBytes(32);
    const salt = randomBytes(4);
    const tx = new SecurityAssociation({ spi: 0x2000, suite: 'aes-256-gcm', key, salt });
    const rx = new SecurityAssociation({ spi: 0x2000, suite: 'aes-256-gcm', key, salt });
    const plaintexts = Array.from({ length: 200 }, (_, i) => randomBytes(1 + ((i * 97) % 1450)));
    const packets = plaintexts.map((p) => tx.seal(p));
    packets.forEach((packet, i) => expect(Buffer.from(rx.open(packet)).equals(plaintexts[i]!)).toBe(true));
  });
});
