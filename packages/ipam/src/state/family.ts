import { formatIpv4, formatIpv6, tryParseIpv4, tryParseIpv6 } from '@weft/interface';
import { bigintRuns, numberRuns, type RunOps } from '../alloc/runs';
import type { PoolState } from './types';

/** Per-family arithmetic and text conversion used by the generic pool logic. */
export interface FamilyOps<T> {
  readonly family: 4 | 6;
  readonly runs: RunOps<T>;
  /** Absolute address value of `text` in this family, or undefined. */
  parse(text: string): T | undefined;
  format(value: T): string;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  fromBig(x: bigint): T;
  toBig(x: T): bigint;
  /** True when every offset in [lo, hi] is used. */
  isFull(pool: PoolState<T>): boolean;
}

export const V4_OPS: FamilyOps<number> = {
  family: 4,
  runs: numberRuns,
  parse(text) {
    const v = tryParseIpv4(text);
    return v < 0 ? undefined : v;
  },
  format: formatIpv4,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  fromBig: (x) => Number(x),
  toBig: (x) => BigInt(x),
  isFull: (p) => p.usedCount >= p.hi - p.lo + 1,
};

export const V6_OPS: FamilyOps<bigint> = {
  family: 6,
  runs: bigintRuns,
  parse(text) {
    return text.includes(':') ? tryParseIpv6(text) : undefined;
  },
  format: formatIpv6,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  fromBig: (x) => x,
  toBig: (x) => x,
  isFull: (p) => BigInt(p.usedCount) >= p.hi - p.lo + 1n,
};
