/**
 * A set of integers kept as sorted, disjoint, non-adjacent inclusive runs
 * `[starts[i], ends[i]]` in two parallel arrays (plain data, so a pool's state
 * stays a structured-cloneable value). Because runs are maximal, the same set
 * always has the same representation, and `ends[i] + 1` is never in the set.
 *
 * Two instantiations exist: `numberRuns` for IPv4 offsets (< 2^32) and
 * `bigintRuns` for IPv6 offsets (< 2^128). The algorithms are identical;
 * they are written out twice so the IPv4 hot path stays monomorphic on numbers.
 */
export interface Runs<T> {
  starts: T[];
  ends: T[];
}

/** Operations on {@link Runs} for one offset type. Callers uphold the preconditions; they are not re-checked. */
export interface RunOps<T> {
  /** 0 or 0n. */
  readonly zero: T;
  /** x + 1 */
  inc(x: T): T;
  has(r: Runs<T>, x: T): boolean;
  /** Adds x; x must be absent. */
  add(r: Runs<T>, x: T): void;
  /** Removes x; x must be present. */
  remove(r: Runs<T>, x: T): void;
  /**
   * The first value not in the set at or after `from` within [lo, hi],
   * wrapping to lo. The caller guarantees one exists.
   */
  nextFree(r: Runs<T>, from: T, lo: T, hi: T): T;
  /** Number of values in the set. */
  count(r: Runs<T>): number;
  /** Converts an offset to a number (exact below 2^53). */
  toNumber(x: T): number;
}

/** Index of the last run starting at or before x, or −1. */
function findNum(r: Runs<number>, x: number): number {
  const s = r.starts;
  let lo = 0;
  let hi = s.length - 1;
  // Fast path: the allocator mostly works at the end of the last run.
  if (hi >= 0 && (s[hi] as number) <= x) return hi;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((s[mid] as number) <= x) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/** {@link RunOps} over plain numbers (exact for offsets below 2^53; used for IPv4). */
export const numberRuns: RunOps<number> = {
  zero: 0,
  inc: (x) => x + 1,
  has(r, x) {
    const i = findNum(r, x);
    return i >= 0 && (r.ends[i] as number) >= x;
  },
  add(r, x) {
    const { starts, ends } = r;
    const i = findNum(r, x);
    const n = starts.length;
    const left = i >= 0 && ends[i] === x - 1;
    const right = i + 1 < n && starts[i + 1] === x + 1;
    if (left && right) {
      ends[i] = ends[i + 1] as number;
      starts.splice(i + 1, 1);
      ends.splice(i + 1, 1);
    } else if (left) {
      ends[i] = x;
    } else if (right) {
      starts[i + 1] = x;
    } else if (i + 1 === n) {
      starts.push(x);
      ends.push(x);
    } else {
      starts.splice(i + 1, 0, x);
      ends.splice(i + 1, 0, x);
    }
  },
  remove(r, x) {
    const { starts, ends } = r;
    const i = findNum(r, x);
    const s = starts[i] as number;
    const e = ends[i] as number;
    if (s === e) {
      starts.splice(i, 1);
      ends.splice(i, 1);
    } else if (x === s) {
      starts[i] = x + 1;
    } else if (x === e) {
      ends[i] = x - 1;
    } else {
      ends[i] = x - 1;
      starts.splice(i + 1, 0, x + 1);
      ends.splice(i + 1, 0, e);
    }
  },
  nextFree(r, from, lo, hi) {
    let x = from < lo || from > hi ? lo : from;
    let i = findNum(r, x);
    if (i >= 0 && (r.ends[i] as number) >= x) {
      x = (r.ends[i] as number) + 1;
      if (x > hi) {
        x = lo;
        i = findNum(r, x);
        if (i >= 0 && (r.ends[i] as number) >= x) x = (r.ends[i] as number) + 1;
      }
    }
    return x;
  },
  count(r) {
    let c = 0;
    for (let i = 0; i < r.starts.length; i++) c += (r.ends[i] as number) - (r.starts[i] as number) + 1;
    return c;
  },
  toNumber: (x) => x,
};

function findBig(r: Runs<bigint>, x: bigint): number {
  const s = r.starts;
  let lo = 0;
  let hi = s.length - 1;
  if (hi >= 0 && (s[hi] as bigint) <= x) return hi;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((s[mid] as bigint) <= x) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/** {@link RunOps} over bigints (used for IPv6, where a /64 has 2^64 offsets). */
export const bigintRuns: RunOps<bigint> = {
  zero: 0n,
  inc: (x) => x + 1n,
  has(r, x) {
    const i = findBig(r, x);
    return i >= 0 && (r.ends[i] as bigint) >= x;
  },
  add(r, x) {
    const { starts, ends } = r;
    const i = findBig(r, x);
    const n = starts.length;
    const left = i >= 0 && ends[i] === x - 1n;
    const right = i + 1 < n && starts[i + 1] === x + 1n;
    if (left && right) {
      ends[i] = ends[i + 1] as bigint;
      starts.splice(i + 1, 1);
      ends.splice(i + 1, 1);
    } else if (left) {
      ends[i] = x;
    } else if (right) {
      starts[i + 1] = x;
    } else if (i + 1 === n) {
      starts.push(x);
      ends.push(x);
    } else {
      starts.splice(i + 1, 0, x);
      ends.splice(i + 1, 0, x);
    }
  },
  remove(r, x) {
    const { starts, ends } = r;
    const i = findBig(r, x);
    const s = starts[i] as bigint;
    const e = ends[i] as bigint;
    if (s === e) {
      starts.splice(i, 1);
      ends.splice(i, 1);
    } else if (x === s) {
      starts[i] = x + 1n;
    } else if (x === e) {
      ends[i] = x - 1n;
    } else {
      ends[i] = x - 1n;
      starts.splice(i + 1, 0, x + 1n);
      ends.splice(i + 1, 0, e);
    }
  },
  nextFree(r, from, lo, hi) {
    let x = from < lo || from > hi ? lo : from;
    let i = findBig(r, x);
    if (i >= 0 && (r.ends[i] as bigint) >= x) {
      x = (r.ends[i] as bigint) + 1n;
      if (x > hi) {
        x = lo;
        i = findBig(r, x);
        if (i >= 0 && (r.ends[i] as bigint) >= x) x = (r.ends[i] as bigint) + 1n;
      }
    }
    return x;
  },
  count(r) {
    let c = 0n;
    for (let i = 0; i < r.starts.length; i++) c += (r.ends[i] as bigint) - (r.starts[i] as bigint) + 1n;
    return Number(c);
  },
  toNumber: (x) => Number(x),
};
