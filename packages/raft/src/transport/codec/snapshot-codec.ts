import { MalformedPacketError } from '@weft/interface';
import type { ConfState, HardState, Snapshot, SnapshotMeta } from '../../core/types';
import { ByteReader } from './byte-reader';
import { ByteWriter } from './byte-writer';
import { MAX_ID_BYTES, idBytes } from './node-id-bytes';

function idListLength(ids: readonly string[]): number {
  let n = 2;
  for (const id of ids) n += 2 + idBytes(id).length;
  return n;
}

function writeIdList(w: ByteWriter, ids: readonly string[]): void {
  w.u16(ids.length);
  for (const id of ids) w.str16(idBytes(id));
}

/** Reads a list of node ids; each must be non-empty and at most {@link MAX_ID_BYTES}. */
function readIdList(r: ByteReader, field: string): string[] {
  const n = r.u16(`${field} count`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(readNodeId(r, field));
  return out;
}

/** Reads one node id (u16 length + UTF-8), rejecting empty and over-long ids. */
export function readNodeId(r: ByteReader, field: string): string {
  const s = r.str16(field);
  if (s.length === 0) throw new MalformedPacketError(r.layer, `${field} is empty`);
  if (idBytes(s).length > MAX_ID_BYTES) throw new MalformedPacketError(r.layer, `${field} is longer than ${MAX_ID_BYTES} bytes`);
  return s;
}

function confStateLength(c: ConfState): number {
  return idListLength(c.voters) + idListLength(c.learners) + idListLength(c.votersOutgoing) + idListLength(c.learnersNext) + 1;
}

function writeConfState(w: ByteWriter, c: ConfState): void {
  writeIdList(w, c.voters);
  writeIdList(w, c.learners);
  writeIdList(w, c.votersOutgoing);
  writeIdList(w, c.learnersNext);
  w.u8(c.autoLeave ? 1 : 0);
}

function readConfState(r: ByteReader): ConfState {
  const voters = readIdList(r, 'voters');
  const learners = readIdList(r, 'learners');
  const votersOutgoing = readIdList(r, 'votersOutgoing');
  const learnersNext = readIdList(r, 'learnersNext');
  const auto = r.u8('autoLeave');
  if (auto > 1) throw new MalformedPacketError(r.layer, `autoLeave flag ${auto} is not 0 or 1`);
  return { voters, learners, votersOutgoing, learnersNext, autoLeave: auto === 1 };
}

function snapshotMetaLength(m: SnapshotMeta): number {
  return 16 + confStateLength(m.confState);
}

function writeSnapshotMeta(w: ByteWriter, m: SnapshotMeta): void {
  w.u64(m.index);
  w.u64(m.term);
  writeConfState(w, m.confState);
}

function readSnapshotMeta(r: ByteReader): SnapshotMeta {
  const index = r.u64('snapshot index');
  const term = r.u64('snapshot term');
  return { index, term, confState: readConfState(r) };
}

export function snapshotLength(s: Snapshot): number {
  return snapshotMetaLength(s.meta) + 4 + s.data.length;
}

export function writeSnapshot(w: ByteWriter, s: Snapshot): void {
  writeSnapshotMeta(w, s.meta);
  w.bytes32(s.data);
}

/** Reads a snapshot; `data` is a view of the reader's buffer. */
export function readSnapshot(r: ByteReader): Snapshot {
  const meta = readSnapshotMeta(r);
  return { meta, data: r.bytes32('snapshot data') };
}

/** Snapshot metadata on its own (LevelDB store). Returns a new buffer. */
export function encodeSnapshotMeta(m: SnapshotMeta): Uint8Array {
  const buf = new Uint8Array(snapshotMetaLength(m));
  writeSnapshotMeta(new ByteWriter(buf), m);
  return buf;
}

/** Decodes {@link encodeSnapshotMeta} output. Throws MalformedPacketError. */
export function decodeSnapshotMeta(buf: Uint8Array): SnapshotMeta {
  const r = new ByteReader(buf, 0, buf.length, 'raft-snapshot-meta');
  const m = readSnapshotMeta(r);
  if (r.offset !== buf.length) throw new MalformedPacketError('raft-snapshot-meta', `${buf.length - r.offset} trailing bytes`);
  return m;
}

/** Hard state: term (8), commit (8), vote (u16 length + UTF-8, length 0 = no vote). Returns a new buffer. */
export function encodeHardState(h: HardState): Uint8Array {
  const vote = h.vote === null ? new Uint8Array(0) : idBytes(h.vote);
  const buf = new Uint8Array(18 + vote.length);
  const w = new ByteWriter(buf);
  w.u64(h.term);
  w.u64(h.commit);
  w.str16(vote);
  return buf;
}

/** Decodes {@link encodeHardState} output. Throws MalformedPacketError. */
export function decodeHardState(buf: Uint8Array): HardState {
  const r = new ByteReader(buf, 0, buf.length, 'raft-hard-state');
  const term = r.u64('term');
  const commit = r.u64('commit');
  const vote = r.str16('vote');
  if (r.offset !== buf.length) throw new MalformedPacketError('raft-hard-state', `${buf.length - r.offset} trailing bytes`);
  return { term, commit, vote: vote === '' ? null : vote };
}
