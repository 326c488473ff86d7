/** The libpcap writer and reader, checked against the file format and a file tshark wrote. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ManualClock } from '@weft/interface';
import {
  FilePcapSink,
  InvalidOptionsError,
  LINKTYPE_ETHERNET,
  MalformedPacketError,
  MemoryPcapSink,
  PcapClosedError,
  PcapWriter,
  readPcap,
  VxlanError,
} from '../../src';
import { fromHex, kernelVxlanFrames } from '../fixtures/kernel-vxlan';

describe('PcapWriter', () => {
  test('global header: magic a1b2c3d4 (little-endian), v2.4, snaplen, link type 1', () => {
    const { sink } = PcapWriter.toMemory({ snaplen: 1500 });
    const bytes = sink.bytes();
    expect(Buffer.from(bytes).toString('hex')).toBe(
      'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'dc050000' + '01000000',
    );
  });

  test('records carry the injected clock (µs) and original length; snaplen cuts the data', () => {
    const clock = new ManualClock(1_700_000_000_123.456); // ms since epoch
    const { writer, sink } = PcapWriter.toMemory({ snaplen: 64, clock });
    const frame = fromHex(kernelVxlanFrames.echoRequest1); // 148 bytes
    writer.write(frame);
    clock.advance(1000.5);
    writer.write(frame.subarray(0, 42));
    writer.write(frame.subarray(0, 10), 5_000.999_9); // explicit timestamp in ms: 0.9999 ms rounds to 1000 µs
    expect(writer.packets).toBe(3);
    const file = readPcap(sink.bytes());
    expect(file.header).toEqual({ versionMajor: 2, versionMinor: 4, snaplen: 64, linkType: LINKTYPE_ETHERNET, nanosecond: false, littleEndian: true });
    expect(file.records.map((r) => [r.seconds, r.microseconds, r.originalLength, r.data.length])).toEqual([
      [1_700_000_000, 123_456, 148, 64],
      [1_700_000_001, 123_956, 42, 42],
      [5, 1_000, 10, 10],
    ]);
    expect(file.records[0]!.data).toEqual(frame.subarray(0, 64));
    expect(file.records[1]!.data).toEqual(frame.subarray(0, 42));
  });

  test('write copies the frame: later changes to the caller buffer do not leak in', () => {
    const { writer, sink } = PcapWriter.toMemory({ clock: new ManualClock() });
    const frame = Uint8Array.of(1, 2, 3);
    writer.write(frame);
    frame[0] = 9;
    expect(Array.from(readPcap(sink.bytes()).records[0]!.data)).toEqual([1, 2, 3]);
  });

  test('any sequence of frames reads back unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 999_999 }))), (records) => {
        const { writer, sink } = PcapWriter.toMemory();
        for (const [data, sec, usec] of records) writer.write(data, sec * 1000 + usec / 1000);
        const back = readPcap(sink.bytes()).records;
        expect(back.map((r) => [r.data, r.seconds, r.microseconds])).toEqual(records.map(([d, s, u]) => [d, s, u]));
      }),
    );
  });

  test('file sink writes a file; close releases it and later writes throw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-pcap-'));
    try {
      const path = join(dir, 'out.pcap');
      const writer = PcapWriter.toFile(path, { clock: new ManualClock(42_000) });
      writer.write(fromHex(kernelVxlanFrames.arpRequest));
      writer.close();
      writer.close(); // idempotent
      expect(() => writer.write(new Uint8Array(1))).toThrow(PcapClosedError);
      expect(() => writer.write(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_PCAP_CLOSED', message: 'pcap writer is closed' }));
      const sink = new FilePcapSink(join(dir, 'raw.pcap'));
      sink.close();
      expect(() => sink.write(new Uint8Array(1))).toThrow(VxlanError);
      const file = readPcap(new Uint8Array(readFileSync(path)));
      expect(file.records).toHaveLength(1);
      expect(file.records[0]!.seconds).toBe(42);
      expect(file.records[0]!.data).toEqual(fromHex(kernelVxlanFrames.arpRequest));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('invalid options fail in the constructor and factories with InvalidOptionsError naming the field', () => {
    expect(() => new PcapWriter({ sink: new MemoryPcapSink(), snaplen: 0 })).toThrow(InvalidOptionsError);
    expect(() => new PcapWriter({ sink: new MemoryPcapSink(), snaplen: 0 })).toThrow('PcapWriter: option "snaplen" ');
    expect(() => new PcapWriter({ sink: {} as MemoryPcapSink })).toThrow(expect.objectContaining({ field: 'sink', message: expect.stringMatching(/^PcapWriter: option "sink" must be an object with write\(chunk\) and close\(\) \(got \{\}\)$/) }));
    expect(() => new PcapWriter({ sink: new MemoryPcapSink(), clock: 5 as never })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'clock' }));
    expect(() => new PcapWriter(undefined as never)).toThrow(expect.objectContaining({ field: 'sink' }));
    expect(() => PcapWriter.toMemory({ linkType: -1 })).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'linkType' }));
    expect(() => PcapWriter.toMemory('x' as never)).toThrow(expect.objectContaining({ field: '(options)' }));
    expect(() => new FilePcapSink('')).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'path' }));
  });

  test('toFile checks its options before it creates the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-pcap-'));
    try {
      const path = join(dir, 'never.pcap');
      expect(() => PcapWriter.toFile(path, { snaplen: 1e9 })).toThrow(expect.objectContaining({ field: 'snaplen' }));
      expect(existsSync(path)).toBe(false);
      expect(() => PcapWriter.toFile(42 as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'path' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readPcap', () => {
  test('reads the capture tshark wrote of the kernel vxlan traffic (fixtures/kernel-vxlan.pcap)', () => {
    // Written by `tshark -i veth-a -f 'udp port 4789' -F pcap -w ...` in capture-kernel-vxlan.sh.
    const file = readPcap(new Uint8Array(readFileSync(join(__dirname, '../fixtures/kernel-vxlan.pcap'))));
    expect(file.header.linkType).toBe(LINKTYPE_ETHERNET);
    expect(file.header.versionMajor).toBe(2);
    expect(file.header.versionMinor).toBe(4);
    const frames = Object.values(kernelVxlanFrames).map((h) => Buffer.from(h, 'hex').toString('hex'));
    expect(file.records.map((r) => Buffer.from(r.data).toString('hex'))).toEqual(frames);
    expect(file.records.every((r, i) => r.originalLength === r.data.length && (i === 0 || r.timestampMs >= file.records[i - 1]!.timestampMs))).toBe(true);
  });

  test('bad magic, truncated header and truncated record are MalformedPacketError', () => {
    expect(() => readPcap(new Uint8Array(10))).toThrow(MalformedPacketError);
    const pcapng = new Uint8Array(24);
    pcapng.set([0x0a, 0x0d, 0x0d, 0x0a]);
    expect(() => readPcap(pcapng)).toThrow(/pcap: bad magic 0x0a0d0d0a \(pcapng is not supported\)/);
    const { writer, sink } = PcapWriter.toMemory({ clock: new ManualClock() });
    writer.write(new Uint8Array(20));
    const bytes = sink.bytes();
    expect(() => readPcap(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated record at offset 24/);
    expect(() => readPcap(bytes.subarray(0, 30))).toThrow(/truncated record header at offset 24/);
  });

  test('big-endian and nanosecond files', () => {
    const be = new Uint8Array(24 + 16 + 2);
    const v = new DataView(be.buffer);
    v.setUint32(0, 0xa1b23c4d, false);
    v.setUint16(4, 2, false);
    v.setUint16(6, 4, false);
    v.setUint32(16, 65535, false);
    v.setUint32(20, 1, false);
    v.setUint32(24, 10, false);
    v.setUint32(28, 123_456_789, false);
    v.setUint32(32, 2, false);
    v.setUint32(36, 60, false);
    be.set([0xab, 0xcd], 40);
    const file = readPcap(be);
    expect(file.header.littleEndian).toBe(false);
    expect(file.header.nanosecond).toBe(true);
    expect(file.records[0]).toMatchObject({ seconds: 10, microseconds: 123_456, originalLength: 60 });
    expect(Array.from(file.records[0]!.data)).toEqual([0xab, 0xcd]);
  });
});
