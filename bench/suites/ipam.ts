/**
 * @weft/ipam benchmark: serial allocate+release throughput in a /16 against a
 * plain bitmap allocator (bench/ipam/bitmap-allocator.ts) measured in the same
 * run, and snapshot sizes next to what the same state costs as a bitmap.
 */
import { Ipam } from '@weft/ipam';
import { opsPerSecond, type BenchContext, type BenchRow } from '../row';
import { median, spreadOf } from '../stats';
import { BitmapAllocator } from '../ipam/bitmap-allocator';

/** Live addresses kept while churning: each step allocates one and releases the one allocated WINDOW steps before. */
const WINDOW = 1000;
const ROUNDS = 9;

interface Churn {
  allocate(): string;
  release(address: string): void;
}

/** Returns a batch runner doing `n` allocate+release pairs with a ring of WINDOW live addresses. */
function churn(target: Churn): (n: number) => void {
  const ring: string[] = [];
  for (let i = 0; i < WINDOW; i++) ring.push(target.allocate());
  let head = 0;
  return (n) => {
    for (let i = 0; i < n; i++) {
      target.release(ring[head] as string);
      ring[head] = target.allocate();
      head = head + 1 === WINDOW ? 0 : head + 1;
    }
  };
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Length of unpadded base64url text for `bytes` bytes. */
function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 8) / 6);
}

/**
 * Byte length of `snapshot` (Ipam's canonical JSON) with each IPv4 pool's
 * `used` set written as a plain bitmap in base64url instead of our run-length
 * encoding: the same envelope, so the difference is only the used-set codec.
 * Undefined when a pool is IPv6 (a /64 bitmap would be 2^61 bytes).
 */
function asBitmapSnapshot(snapshot: string): number | undefined {
  const doc = JSON.parse(snapshot) as { pools: { subnet: string; used: string }[] };
  for (const pool of doc.pools) {
    if (pool.subnet.includes(':')) return undefined;
    const prefix = Number(pool.subnet.split('/')[1]);
    pool.used = 'A'.repeat(base64urlLength(2 ** (32 - prefix) / 8));
  }
  return bytes(JSON.stringify(doc));
}

export default async function ipamBench(ctx: BenchContext): Promise<BenchRow[]> {
  const ms = Math.max(100, Math.round(300 * ctx.scale));
  const rows: BenchRow[] = [];

  // 1. alloc+release throughput in a /16, interleaved rounds.
  const ipam = new Ipam();
  const { poolId } = ipam.requestPool({ subnet: '172.16.0.0/16' });
  const weft = churn({ allocate: () => ipam.allocate(poolId), release: (a) => ipam.release(poolId, a) });
  const bitmap = new BitmapAllocator(0xac100000, 65536);
  const base = churn(bitmap);
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const first = round % 2 === 0;
    const b0 = first ? 0 : opsPerSecond(base, ms);
    const w = opsPerSecond(weft, ms);
    const b = first ? opsPerSecond(base, ms) : b0;
    ours.push(w);
    theirs.push(b);
    ratios.push(w / b);
  }
  const churned = bytes(ipam.snapshot());
  const churnedBitmap = asBitmapSnapshot(ipam.snapshot())!;
  ctx.log(`alloc+release pairs/s: weft ${Math.round(median(ours))}, bitmap ${Math.round(median(theirs))}`);
  rows.push({
    name: 'ipam alloc+release /16',
    value: median(ours),
    unit: 'ops/s',
    baseline: median(theirs),
    baselineName: 'plain bitmap allocator, next-fit',
    ratio: median(ratios),
    spread: spreadOf(ratios, 'ratio'),
    note:
      `one op = one allocate plus one release (individual calls/s = 2 × value), each returning or parsing dotted-quad text, in 172.16.0.0/16 with ${WINDOW} live addresses, serial next-fit wrapping the /16. ` +
      `Ours: Ipam (run-length used sets, pool lookup by id, option/state checks). Baseline: a Uint32Array bitmap, one bit per address, next-fit by clz32 a word at a time, same serial order and text in/out. ` +
      `No speed target (allocation is bounded by Raft commits, not by this); what the runs buy is size: this churned /16 snapshots to ${churned} B, ${churnedBitmap} B with a bitmap used set. ` +
      `Medians of ${ROUNDS} interleaved ${ms} ms rounds, ratio = median of per-round ratios`,
  });

  // 2. a /16 with every address allocated.
  const full = new Ipam();
  const p16 = full.requestPool({ subnet: '10.1.0.0/16' }).poolId;
  for (let i = 0; i < 65533; i++) full.allocate(p16);
  if (full.pool(p16).free !== 0n) throw new Error('the /16 is not full');
  const fullSize = bytes(full.snapshot());
  const fullBitmap = asBitmapSnapshot(full.snapshot())!;
  rows.push({
    name: 'ipam snapshot full /16',
    value: fullSize,
    unit: 'bytes',
    baseline: fullBitmap,
    baselineName: 'same snapshot, used set as a base64url bitmap',
    ratio: fullSize / fullBitmap,
    target: '<= 16384 bytes',
    note: 'byte length of snapshot() (canonical ASCII JSON; used sets as run-length varints or packed bitset, base64url, whichever is shorter); 65,533 addresses + gateway; baseline: the same JSON with the used set as an 8 KiB bitmap in base64url',
  });

  // 3. 10.0.0.0/8 carved into 1,000 /24 networks, each with gateway + 10 containers.
  const many = new Ipam();
  for (let n = 0; n < 1000; n++) {
    const id = many.requestPool().poolId;
    for (let i = 0; i < 10; i++) many.allocate(id);
  }
  const manySize = bytes(many.snapshot());
  const manyBitmap = asBitmapSnapshot(many.snapshot())!;
  rows.push({
    name: 'ipam snapshot 1000 /24 in 10/8',
    value: manySize,
    unit: 'bytes',
    baseline: manyBitmap,
    baselineName: 'same snapshot, used sets as base64url bitmaps',
    ratio: manySize / manyBitmap,
    note: 'byte length of snapshot(); default pool 10.0.0.0/8 size 24, 1,000 networks × (gateway + 10 addresses); baseline: the same JSON with each used set as a 32-byte bitmap in base64url',
  });
  // 4. IPv6 /64 with 100,000 addresses (serial), plus 1,000 static addresses scattered over the /64.
  const v6 = new Ipam();
  const p64 = v6.requestPool({ subnet: 'fd00:1:2:3::/64' }).poolId;
  const count = Math.round(100_000 * Math.min(1, Math.max(0.1, ctx.scale)));
  for (let i = 0; i < count; i++) v6.allocate(p64);
  let sparse = 0;
  for (let i = 1; i <= 1000; i++) {
    const hi = ((i * 2654435761) >>> 0).toString(16);
    v6.allocate(p64, `fd00:1:2:3:${hi.slice(0, 4) || '0'}:${hi.slice(4) || '0'}:${(i & 0xffff).toString(16)}:1`);
    sparse++;
  }
  rows.push({
    name: 'ipam ipv6 /64 100k',
    value: bytes(v6.snapshot()),
    unit: 'bytes',
    note: `byte length of snapshot(); ${count} serial + ${sparse} scattered static addresses in fd00:1:2:3::/64; memory grows with runs in use, not with 2^64 (no bitmap baseline: a /64 bitmap would be 2^61 bytes)`,
  });
  return rows;
}
