import type { Runs } from '../alloc/runs';
import { InvalidSnapshotError } from '../errors';

/**
 * Text encodings of a pool's used-offset set, chosen per pool, deterministically:
 * - `r` + base64url of LEB128 varints: for each run, the gap before it
 *   (first run: start − lo; later runs: start − previous end − 2) and its
 *   length − 1. A fully allocated range is one run: a few bytes.
 * - `b` + base64url of a packed bitset over [lo, hi] (bit k of byte k>>3 is
 *   offset lo + k, least significant bit first); IPv4 only.
 * The shorter one wins; on a tie, runs. So a /16 never needs more than
 * 8 KiB of bitset (≈ 10.9 KiB as base64).
 */
export function encodeUsed(runs: Runs<number> | Runs<bigint>, lo: bigint, hi: bigint, allowBitmap: boolean): string {
  const bytes: number[] = [];
  let prevEnd = lo - 2n;
  const n = runs.starts.length;
  for (let i = 0; i < n; i++) {
    const s = BigInt(runs.starts[i] as number | bigint);
    const e = BigInt(runs.ends[i] as number | bigint);
    writeVarint(bytes, i === 0 ? s - lo : s - prevEnd - 2n);
    writeVarint(bytes, e - s);
    prevEnd = e;
  }
  const capacity = hi - lo + 1n;
  if (allowBitmap && (capacity + 7n) / 8n < BigInt(bytes.length)) {
    const bitmap = new Uint8Array(Number((capacity + 7n) / 8n));
    for (let i = 0; i < n; i++) {
      const s = Number(BigInt(runs.starts[i] as number | bigint) - lo);
      const e = Number(BigInt(runs.ends[i] as number | bigint) - lo);
      for (let k = s; k <= e; k++) bitmap[k >>> 3] = (bitmap[k >>> 3] as number) | (1 << (k & 7));
    }
    return 'b' + Buffer.from(bitmap).toString('base64url');
  }
  return 'r' + Buffer.from(bytes).toString('base64url');
}

function writeVarint(out: number[], v: bigint): void {
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/**
 * Decodes {@link encodeUsed} text into runs of bigints within [lo, hi].
 * @throws {InvalidSnapshotError} for malformed text or runs outside the range.
 */
export function decodeUsed(text: string, lo: bigint, hi: bigint, where: string): Runs<bigint> {
  const kind = text[0];
  const body = Buffer.from(text.slice(1), 'base64url');
  if (Buffer.from(body).toString('base64url') !== text.slice(1)) throw new InvalidSnapshotError(`${where}: bad base64url`);
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  if (kind === 'r') {
    let pos = 0;
    const read = (): bigint => {
      let v = 0n;
      let shift = 0n;
      for (;;) {
        const b = body[pos++];
        if (b === undefined) throw new InvalidSnapshotError(`${where}: truncated varint`);
        v |= BigInt(b & 0x7f) << shift;
        if ((b & 0x80) === 0) return v;
        shift += 7n;
        if (shift > 140n) throw new InvalidSnapshotError(`${where}: varint too long`);
      }
    };
    let prevEnd = lo - 2n;
    while (pos < body.length) {
      const gap = read();
      const len = read();
      const s = starts.length === 0 ? lo + gap : prevEnd + 2n + gap;
      const e = s + len;
      if (e > hi) throw new InvalidSnapshotError(`${where}: run beyond the subnet`);
      starts.push(s);
      ends.push(e);
      prevEnd = e;
    }
  } else if (kind === 'b') {
    const capacity = Number(hi - lo + 1n);
    if (body.length !== Math.ceil(capacity / 8)) throw new InvalidSnapshotError(`${where}: bitmap length ${body.length} does not fit the subnet`);
    let runStart = -1;
    for (let k = 0; k <= capacity; k++) {
      const bit = k < capacity && ((body[k >>> 3] as number) & (1 << (k & 7))) !== 0;
      if (bit && runStart < 0) runStart = k;
      else if (!bit && runStart >= 0) {
        starts.push(lo + BigInt(runStart));
        ends.push(lo + BigInt(k - 1));
        runStart = -1;
      }
    }
    for (let k = capacity; k < body.length * 8; k++) {
      if (((body[k >>> 3] as number) & (1 << (k & 7))) !== 0) throw new InvalidSnapshotError(`${where}: bitmap bit beyond the subnet`);
    }
  } else {
    throw new InvalidSnapshotError(`${where}: unknown used-set encoding ${JSON.stringify(kind ?? '')}`);
  }
  return { starts, ends };
}
