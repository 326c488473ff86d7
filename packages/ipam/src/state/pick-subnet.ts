import { familyBits, type IpFamily } from '@weft/interface';
import { firstAddress, lastAddress, parseCidr, type Cidr } from '../cidr/cidr';
import { PoolExhaustedError } from '../errors';
import type { IpamState } from './types';

interface Interval {
  start: bigint;
  end: bigint;
}

/** Address intervals of the pools of `family` in `space`, sorted by start. */
export function spaceIntervals(state: IpamState, space: string, family: IpFamily): Interval[] {
  const out: Interval[] = [];
  for (const id in state.pools) {
    const p = state.pools[id];
    if (p === undefined || p.space !== space || p.family !== family) continue;
    const start = BigInt(p.base);
    out.push({ start, end: start + (1n << BigInt(familyBits(family) - p.prefix)) - 1n });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/**
 * The first /size block of the default pools (in list order, then address
 * order) that overlaps no pool already in `space` — Docker's behaviour, so a
 * released subnet is the first one handed out again.
 * @throws {PoolExhaustedError} naming the default pools when every block is taken.
 */
export function pickDefaultSubnet(state: IpamState, space: string, family: IpFamily): Cidr {
  const taken = spaceIntervals(state, space, family);
  const bits = familyBits(family);
  const candidates = state.options.defaultPools.filter((p) => parseCidr(p.base).family === family);
  for (const spec of candidates) {
    const base = parseCidr(spec.base);
    const step = 1n << BigInt(bits - spec.size);
    const first = firstAddress(base).value;
    const end = lastAddress(base).value;
    let c = first;
    let j = 0;
    // Each round either returns or moves c past one taken interval: bounded by taken.length + 1.
    while (c + step - 1n <= end) {
      while (j < taken.length && (taken[j] as Interval).end < c) j++;
      const t = taken[j];
      if (t === undefined || t.start > c + step - 1n) return { family, address: c, prefix: spec.size };
      const next = t.end + 1n;
      c = first + ((next - first + step - 1n) / step) * step;
    }
  }
  const names = candidates.map((p) => `${p.base} size ${p.size}`).join(', ');
  throw new PoolExhaustedError(
    `${space}: ${names || `no IPv${family} default pools`}`,
    `ipam: no free IPv${family} subnet in address space ${JSON.stringify(space)}: ${names ? `default pools ${names} are exhausted` : `no IPv${family} default pool is configured`}`,
  );
}

