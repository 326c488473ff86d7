import { MalformedPacketError } from '@weft/interface';
import type { Entry, Message, MessageType } from '../../core/types';
import { ByteReader } from './byte-reader';
import { ByteWriter } from './byte-writer';
import { entryLength, readEntry, writeEntry } from './entry-codec';
import { idBytes } from './node-id-bytes';
import { readNodeId, readSnapshot, snapshotLength, writeSnapshot } from './snapshot-codec';
import { MessageEncodeError } from '../errors';

/** Wire format version written in the first byte of every message. */
export const MESSAGE_CODEC_VERSION = 1;

/** Message types in wire order: the code on the wire is the position here. Append only. */
export const MESSAGE_TYPES: readonly MessageType[] = [
  'MsgHup',
  'MsgBeat',
  'MsgProp',
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgTransferLeader',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
  'MsgUnreachable',
  'MsgSnapStatus',
  'MsgCheckQuorum',
];

/**
 * Types a peer may legitimately send over the network. Local-only types
 * (MsgHup, MsgBeat, MsgProp, MsgUnreachable, MsgSnapStatus, MsgCheckQuorum)
 * arriving from the wire are malformed: the core never forwards proposals.
 */
const WIRE_TYPES = new Set<MessageType>([
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgTransferLeader',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
]);

const TYPE_CODE = new Map<MessageType, number>(MESSAGE_TYPES.map((t, i) => [t, i]));

const F_LOG_TERM = 1 << 0;
const F_INDEX = 1 << 1;
const F_ENTRIES = 1 << 2;
const F_COMMIT = 1 << 3;
const F_REJECT = 1 << 4;
const F_REJECT_TRUE = 1 << 5;
const F_REJECT_HINT = 1 << 6;
const F_SNAPSHOT = 1 << 7;
const F_CONTEXT = 1 << 8;
const F_KNOWN = (1 << 9) - 1;

/** Bytes {@link encodeMessage} writes for `m`. */
export function messageEncodingLength(m: Message): number {
  let n = 1 + 1 + 2 + 2 + idBytes(m.from).length + 2 + idBytes(m.to).length + 8;
  if (m.logTerm !== undefined) n += 8;
  if (m.index !== undefined) n += 8;
  if (m.entries !== undefined) {
    n += 4;
    for (const e of m.entries) n += entryLength(e);
  }
  if (m.commit !== undefined) n += 8;
  if (m.rejectHint !== undefined) n += 8;
  if (m.snapshot !== undefined) n += snapshotLength(m.snapshot);
  if (m.context !== undefined) n += 4 + m.context.length;
  return n;
}

/**
 * Encodes `m` into `buf` at `offset` (a new buffer of exactly
 * {@link messageEncodingLength} bytes when `buf` is omitted). Returns the
 * buffer and the number of bytes written. Does not keep references to `m`.
 * @throws MessageEncodeError for an unknown message type or a buffer without `len` bytes free from `offset`.
 */
export function encodeMessage(m: Message, buf?: Uint8Array, offset = 0): { buf: Uint8Array; bytes: number } {
  const len = messageEncodingLength(m);
  const out = buf ?? new Uint8Array(len);
  if (out.length - offset < len) throw new MessageEncodeError(`encodeMessage: buffer has ${out.length - offset} bytes from offset ${offset}, need ${len}`);
  return { buf: out, bytes: writeMessage(m, out, offset) };
}

/**
 * {@link encodeMessage} for a caller that already has {@link messageEncodingLength}
 * (the TCP transport sizes its frame with it): writes `m` at `offset`, where
 * `buf` must have that many bytes free (a shorter buffer throws RangeError
 * part-way). Returns the bytes written. Internal: not exported by the package.
 */
export function writeMessage(m: Message, buf: Uint8Array, offset: number): number {
  const code = TYPE_CODE.get(m.type);
  if (code === undefined) throw new MessageEncodeError(`encodeMessage: unknown message type ${JSON.stringify(m.type)}`);
  let flags = 0;
  if (m.logTerm !== undefined) flags |= F_LOG_TERM;
  if (m.index !== undefined) flags |= F_INDEX;
  if (m.entries !== undefined) flags |= F_ENTRIES;
  if (m.commit !== undefined) flags |= F_COMMIT;
  if (m.reject !== undefined) flags |= F_REJECT | (m.reject ? F_REJECT_TRUE : 0);
  if (m.rejectHint !== undefined) flags |= F_REJECT_HINT;
  if (m.snapshot !== undefined) flags |= F_SNAPSHOT;
  if (m.context !== undefined) flags |= F_CONTEXT;
  const w = new ByteWriter(buf, offset);
  w.u8(MESSAGE_CODEC_VERSION);
  w.u8(code);
  w.u16(flags);
  w.str16(idBytes(m.from));
  w.str16(idBytes(m.to));
  w.u64(m.term);
  if (m.logTerm !== undefined) w.u64(m.logTerm);
  if (m.index !== undefined) w.u64(m.index);
  if (m.entries !== undefined) {
    w.u32(m.entries.length);
    for (const e of m.entries) writeEntry(w, e);
  }
  if (m.commit !== undefined) w.u64(m.commit);
  if (m.rejectHint !== undefined) w.u64(m.rejectHint);
  if (m.snapshot !== undefined) writeSnapshot(w, m.snapshot);
  if (m.context !== undefined) w.bytes32(m.context);
  return w.offset - offset;
}

/**
 * Decodes and validates one message occupying exactly `buf[offset, end)`.
 * Byte fields (entry data, snapshot data, context) are views of `buf`.
 * Checks: version, known wire type, non-empty ids, safe-integer numbers,
 * no unknown flag bits, entries with consecutive indexes following `index`
 * and terms not above the message term, no trailing bytes.
 * @throws MalformedPacketError on any violation.
 */
export function decodeMessage(buf: Uint8Array, offset = 0, end = buf.length): Message {
  const r = new ByteReader(buf, offset, end, 'raft-message');
  const version = r.u8('version');
  if (version !== MESSAGE_CODEC_VERSION) throw new MalformedPacketError('raft-message', `unsupported version ${version} (expected ${MESSAGE_CODEC_VERSION})`);
  const code = r.u8('type');
  const type = MESSAGE_TYPES[code];
  if (type === undefined) throw new MalformedPacketError('raft-message', `unknown type code ${code}`);
  if (!WIRE_TYPES.has(type)) throw new MalformedPacketError('raft-message', `type ${type} is local-only and never sent between nodes`);
  const flags = r.u16('flags');
  if ((flags & ~F_KNOWN) !== 0) throw new MalformedPacketError('raft-message', `unknown flag bits 0x${(flags & ~F_KNOWN).toString(16)}`);
  const from = readNodeId(r, 'from');
  const to = readNodeId(r, 'to');
  const term = r.u64('term');
  const m: { -readonly [K in keyof Message]: Message[K] } = { type, from, to, term };
  if (flags & F_LOG_TERM) m.logTerm = r.u64('logTerm');
  if (flags & F_INDEX) m.index = r.u64('index');
  if (flags & F_ENTRIES) {
    const n = r.u32('entry count');
    // Each entry takes at least 21 bytes: reject counts the frame cannot hold before allocating.
    if (n * 21 > end - r.offset) throw new MalformedPacketError('raft-message', `entry count ${n} does not fit in ${end - r.offset} remaining bytes`);
    const entries: Entry[] = new Array<Entry>(n);
    for (let i = 0; i < n; i++) entries[i] = readEntry(r);
    m.entries = entries;
  }
  if (flags & F_COMMIT) m.commit = r.u64('commit');
  if (flags & F_REJECT) m.reject = (flags & F_REJECT_TRUE) !== 0;
  else if (flags & F_REJECT_TRUE) throw new MalformedPacketError('raft-message', 'reject value bit set without the reject flag');
  if (flags & F_REJECT_HINT) m.rejectHint = r.u64('rejectHint');
  if (flags & F_SNAPSHOT) m.snapshot = readSnapshot(r);
  if (flags & F_CONTEXT) m.context = r.bytes32('context');
  if (r.offset !== end) throw new MalformedPacketError('raft-message', `${end - r.offset} trailing bytes after a ${type}`);
  validateSemantics(m);
  return m;
}

function validateSemantics(m: Message): void {
  if (m.from === m.to) throw new MalformedPacketError('raft-message', `from and to are both ${JSON.stringify(m.from)}`);
  const entries = m.entries;
  if (entries !== undefined && entries.length > 0) {
    const base = m.index;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (base !== undefined && e.index !== base + 1 + i) {
        throw new MalformedPacketError('raft-message', `entry ${i} has index ${e.index}, expected ${base + 1 + i}`);
      }
      if (m.type === 'MsgApp' && e.term > m.term) {
        throw new MalformedPacketError('raft-message', `entry ${e.index} has term ${e.term} above the message term ${m.term}`);
      }
    }
  }
}
