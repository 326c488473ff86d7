import { MalformedPacketError } from '@weft/interface';
import type { Entry, EntryType } from '../../core/types';
import { ByteReader } from './byte-reader';
import { ByteWriter } from './byte-writer';

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf-change'];

/** Bytes one entry takes: term, index (8 each), type (1), data length (4), data. */
export function entryLength(e: Entry): number {
  return 21 + e.data.length;
}

export function writeEntry(w: ByteWriter, e: Entry): void {
  w.u64(e.term);
  w.u64(e.index);
  w.u8(e.type === 'normal' ? 0 : 1);
  w.bytes32(e.data);
}

/** Reads one entry; `data` is a view into the reader's buffer. */
export function readEntry(r: ByteReader): Entry {
  const term = r.u64('entry term');
  const index = r.u64('entry index');
  const code = r.u8('entry type');
  const type = ENTRY_TYPES[code];
  if (type === undefined) throw new MalformedPacketError(r.layer, `unknown entry type ${code}`);
  if (index === 0) throw new MalformedPacketError(r.layer, 'entry index 0 (indexes start at 1)');
  const data = r.bytes32('entry data');
  return { term, index, type, data };
}

/** Encodes one entry on its own (used by the LevelDB log store). Returns a new buffer. */
export function encodeEntry(e: Entry): Uint8Array {
  const buf = new Uint8Array(entryLength(e));
  writeEntry(new ByteWriter(buf), e);
  return buf;
}

/** Decodes a buffer from {@link encodeEntry}; `data` is a view of `buf`. Throws MalformedPacketError. */
export function decodeEntry(buf: Uint8Array): Entry {
  const r = new ByteReader(buf, 0, buf.length, 'raft-entry');
  const e = readEntry(r);
  if (r.offset !== buf.length) throw new MalformedPacketError('raft-entry', `${buf.length - r.offset} trailing bytes`);
  return e;
}
