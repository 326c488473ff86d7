/**
 * Wire-format check against a real peer's parser: Wireshark's ESP dissector.
 * Our packet is laid out exactly as an ESP packet (RFC 4303 §2: SPI, sequence
 * number, payload with explicit IV, ICV), so carried in UDP on port 4500 (the
 * RFC 3948 UDP encapsulation port) tshark must decode SPI and sequence.
 * Command: tshark -r <pcap> -T fields -e esp.spi -e esp.sequence
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecurityAssociation } from '../src';
import { commandCapability, describeWith } from '../../../test-support/capabilities';

/** Ethernet/IPv4/UDP(4500→4500) frame around `payload` (IPv4 checksum computed, UDP checksum 0). */
function frame(payload: Uint8Array): Buffer {
  const udpLen = 8 + payload.length;
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + udpLen, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  Buffer.from([127, 0, 0, 1]).copy(ip, 12);
  Buffer.from([127, 0, 0, 2]).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(4500, 0);
  udp.writeUInt16BE(4500, 2);
  udp.writeUInt16BE(udpLen, 4);
  const eth = Buffer.from('020000000002' + '020000000001' + '0800', 'hex');
  return Buffer.concat([eth, ip, udp, payload]);
}

function pcap(frames: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const records = frames.map((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([header, ...records]);
}

describeWith(commandCapability('tshark', ['--version']), 'tshark reads our packets as ESP', () => {
  it('decodes SPI and the low 32 sequence bits of every packet', () => {
    const sa = new SecurityAssociation({ spi: 0x0abc_de01, key: new Uint8Array(32).fill(1), salt: new Uint8Array(4).fill(2), nextSequence: 2 ** 32 - 1 });
    const packets = [0, 1, 2].map((i) => sa.seal(new Uint8Array(40).fill(i))); // sequences 2^32−1, 2^32, 2^32+1
    const dir = mkdtempSync(join(tmpdir(), `weft-crypto-${process.pid}-`));
    try {
      const file = join(dir, 'esp.pcap');
      writeFileSync(file, pcap(packets.map(frame)));
      const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'esp.spi', '-e', 'esp.sequence'], {
        encoding: 'utf8',
        timeout: 30_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const rows = out.trim().split('\n').map((l) => l.split('\t'));
      expect(rows).toHaveLength(3);
      expect(rows.map((r) => Number(r[0]))).toEqual([0x0abcde01, 0x0abcde01, 0x0abcde01]);
      expect(rows.map((r) => Number(r[1]))).toEqual([2 ** 32 - 1, 0, 1]); // only the low 32 bits travel
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
