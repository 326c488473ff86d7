/**
 * Binary encoding of a {@link ConfChange} as the data of a `conf-change` log
 * entry. Layout (big-endian):
 *
 * ```
 * u8  version (1)
 * u8  transition: 0 auto, 1 joint, 2 joint-explicit
 * u16 number of changes, then per change:
 *     u8 type: 0 add-voter, 1 add-learner, 2 remove-node
 *     u16 byte length of the UTF-8 node id, then the id
 * u8  1 if a context follows, else 0; then u32 length and the context bytes
 * ```
 */
import { ConfChangeDecodeError } from './errors';
import type { ConfChange, ConfChangeSingle } from './types';

const VERSION = 1;
const TRANSITIONS = ['auto', 'joint', 'joint-explicit'] as const;
const TYPES = ['add-voter', 'add-learner', 'remove-node'] as const;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes `cc` into a new buffer owned by the caller. Throws ConfChangeDecodeError for ids longer than 65535 bytes. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ids = cc.changes.map((c) => utf8.encode(c.nodeId));
  let len = 4 + 1;
  for (const id of ids) {
    if (id.length > 0xffff) throw new ConfChangeDecodeError(`conf change nodeId: longer than 65535 bytes (got ${id.length})`);
    len += 3 + id.length;
  }
  if (cc.changes.length > 0xffff) throw new ConfChangeDecodeError(`conf change changes: more than 65535 (got ${cc.changes.length})`);
  if (cc.context) len += 4 + cc.context.length;
  const buf = new Uint8Array(len);
  const view = new DataView(buf.buffer);
  buf[0] = VERSION;
  buf[1] = TRANSITIONS.indexOf(cc.transition ?? 'auto');
  view.setUint16(2, cc.changes.length);
  let o = 4;
  cc.changes.forEach((c, i) => {
    const id = ids[i] as Uint8Array;
    buf[o] = TYPES.indexOf(c.type);
    view.setUint16(o + 1, id.length);
    buf.set(id, o + 3);
    o += 3 + id.length;
  });
  if (cc.context) {
    buf[o] = 1;
    view.setUint32(o + 1, cc.context.length);
    buf.set(cc.context, o + 5);
  } else {
    buf[o] = 0;
  }
  return buf;
}

/**
 * Decodes conf-change entry data. The returned context is a view into `bytes`.
 * @throws ConfChangeDecodeError on truncated or malformed input
 */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (o: number, n: number, what: string): void => {
    if (o + n > bytes.length) {
      throw new ConfChangeDecodeError(`conf change: truncated ${what} at byte ${o} (length ${bytes.length})`);
    }
  };
  need(0, 4, 'header');
  if (bytes[0] !== VERSION) throw new ConfChangeDecodeError(`conf change version: unsupported (got ${bytes[0]})`);
  const transition = TRANSITIONS[bytes[1] as number];
  if (!transition) throw new ConfChangeDecodeError(`conf change transition: unknown code (got ${bytes[1]})`);
  const n = view.getUint16(2);
  let o = 4;
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < n; i++) {
    need(o, 3, 'change');
    const type = TYPES[bytes[o] as number];
    if (!type) throw new ConfChangeDecodeError(`conf change type: unknown code (got ${bytes[o]})`);
    const idLen = view.getUint16(o + 1);
    need(o + 3, idLen, 'node id');
    let nodeId: string;
    try {
      nodeId = utf8Decoder.decode(bytes.subarray(o + 3, o + 3 + idLen));
    } catch {
      throw new ConfChangeDecodeError(`conf change nodeId: invalid UTF-8 at byte ${o + 3}`);
    }
    if (nodeId === '') throw new ConfChangeDecodeError(`conf change nodeId: empty at byte ${o + 3}`);
    changes.push({ type, nodeId });
    o += 3 + idLen;
  }
  need(o, 1, 'context flag');
  const flag = bytes[o];
  let context: Uint8Array | undefined;
  if (flag === 1) {
    need(o + 1, 4, 'context length');
    const cl = view.getUint32(o + 1);
    need(o + 5, cl, 'context');
    context = bytes.subarray(o + 5, o + 5 + cl);
    o += 5 + cl;
  } else if (flag === 0) {
    o += 1;
  } else {
    throw new ConfChangeDecodeError(`conf change context flag: must be 0 or 1 (got ${flag})`);
  }
  if (o !== bytes.length) throw new ConfChangeDecodeError(`conf change: ${bytes.length - o} trailing bytes`);
  const cc: ConfChange = context ? { changes, transition, context } : { changes, transition };
  return cc;
}
