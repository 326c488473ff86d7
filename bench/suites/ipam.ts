/**
 * @weft/ipam benchmark: serial allocate+release throughput in a /16 against a
 * naive Set<string> allocator measured in the same run, and snapshot sizes.
 */
import { Ipam } from '@weft/ipam';
import { opsPerSecond, type BenchContext, type BenchRow } from '../row';

/** Live addresses kept while churning: each step allocates one and releases the one allocated WINDOW steps before. */
const WINDOW = 1000;

/** The baseline: next-fit over integers, each candidate formatted and looked up in a Set<string>. */
class NaiveAllocator {
  readonly used = new Set<string>();
  cursor = 1;
  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    this.used.add(this.text(1)); // gateway
  }
  text(offset: number): string {
    const v = this.base + offset;
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  allocate(): string {
    const usable = this.size - 2;
    for (let tries = 0; tries < usable; tries++) {
      const off = this.cursor;
      this.cursor = off + 1 >= this.size - 1 ? 1 : off + 1;
      const t = this.text(off);
      if (!this.used.has(t)) {
        this.used.add(t);
        return t;
      }
    }
    throw new Error('exhausted');
  }
  release(address: string): void {
    if (!this.used.delete(address)) throw new Error(`not allocated: ${address}`);
  }
}

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

export default async function ipamBench(ctx: BenchContext): Promise<BenchRow[]> {
  const ms = Math.max(300, Math.round(1500 * ctx.scale));
  const rows: BenchRow[] = [];

  // 1. alloc+release throughput in a /16; measured twice each, interleaved, best run kept.
  const ipam = new Ipam();
  const { poolId } = ipam.requestPool({ subnet: '172.16.0.0/16' });
  const weft = churn({ allocate: () => ipam.allocate(poolId), release: (a) => ipam.release(poolId, a) });
  const naive = new NaiveAllocator(0xac100000, 65536);
  const base = churn(naive);
  let weftPairs = 0;
  let naivePairs = 0;
  for (let round = 0; round < 2; round++) {
    weftPairs = Math.max(weftPairs, opsPerSecond(weft, ms));
    naivePairs = Math.max(naivePairs, opsPerSecond(base, ms));
  }
  ctx.log(`alloc+release pairs/s: weft ${Math.round(weftPairs)}, naive ${Math.round(naivePairs)}`);
  rows.push({
    name: 'ipam alloc+release /16',
    value: weftPairs,
    unit: 'ops/s',
    baseline: naivePairs,
    baselineName: 'naive Set<string> next-fit',
    ratio: weftPairs / naivePairs,
    target: '>= 2,000,000 ops/s',
    note: `one op = one allocate plus one release (individual calls/s = 2 × value); Ipam class in 172.16.0.0/16, ${WINDOW} live addresses, serial next-fit wrapping the /16; best of 2 × ${ms} ms`,
  });

  // 2. a /16 with every address allocated.
  const full = new Ipam();
  const p16 = full.requestPool({ subnet: '10.1.0.0/16' }).poolId;
  for (let i = 0; i < 65533; i++) full.allocate(p16);
  if (full.pool(p16).free !== 0n) throw new Error('the /16 is not full');
  const fullSize = bytes(full.snapshot());
  rows.push({
    name: 'ipam snapshot full /16',
    value: fullSize,
    unit: 'bytes',
    target: '<= 16384 bytes',
    note: 'byte length of snapshot() (canonical ASCII JSON; used sets as run-length varints or packed bitset, base64url, whichever is shorter); 65,533 addresses + gateway',
  });

  // 3. 10.0.0.0/8 carved into 1,000 /24 networks, each with gateway + 10 containers.
  const many = new Ipam();
  for (let n = 0; n < 1000; n++) {
    const id = many.requestPool().poolId;
    for (let i = 0; i < 10; i++) many.allocate(id);
  }
  rows.push({
    name: 'ipam snapshot 1000 /24 in 10/8',
    value: bytes(many.snapshot()),
    unit: 'bytes',
    note: 'byte length of snapshot(); default pool 10.0.0.0/8 size 24, 1,000 networks × (gateway + 10 addresses)',
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
    note: `byte length of snapshot(); ${count} serial + ${sparse} scattered static addresses in fd00:1:2:3::/64; memory grows with runs in use, not with 2^64`,
  });
  return rows;
}
