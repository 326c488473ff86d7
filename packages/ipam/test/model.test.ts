/**
 * Property tests: the allocator against a naive model (Sets and linear scans)
 * over random command sequences, plus replica and restore determinism.
 */
import fc from 'fast-check';
import {
  Ipam,
  IpamStateMachine,
  encodeCommand,
  formatCidr,
  formatIp,
  isValidCidr,
  parseCidr,
  type Command,
  type CommandResult,
} from '../src/index';
import { tryParseIp } from '@weft/interface';

type Outcome = { ok: true; value: string } | { ok: false; name: string };

interface MPool {
  id: string;
  space: string;
  family: 4 | 6;
  start: bigint;
  end: bigint;
  usable: bigint[];
  cursor: number;
  used: Set<bigint>;
  reserved: Set<bigint>;
  quarantine: { v: bigint; seq: number; t: number }[];
}

const DEFAULT_POOLS = [
  { base: '10.0.0.64/26', size: 28 },
  { base: 'fd00:1::/122', size: 124 },
];

/** The naive model: every rule written out with Sets, arrays and linear scans. */
class Model {
  seq = 0;
  clock = 0;
  pools = new Map<string, MPool>();
  constructor(readonly q: { operations: number; ms: number }) {}

  run(cmd: Command): Outcome {
    const now = cmd.now === undefined ? this.clock : Math.max(this.clock, cmd.now);
    const r = this.step(cmd, now);
    if (r.ok) {
      this.seq++;
      this.clock = now;
    }
    return r;
  }

  private step(cmd: Command, now: number): Outcome {
    switch (cmd.op) {
      case 'requestPool':
        return this.requestPool(cmd.space ?? 'default', cmd.subnet, cmd.family ?? 4, cmd.gateway);
      case 'releasePool':
        if (!this.pools.delete(cmd.poolId)) return { ok: false, name: 'UnknownPoolError' };
        return { ok: true, value: cmd.poolId };
      case 'allocate':
      case 'release': {
        const p = this.pools.get(cmd.poolId);
        if (!p) return { ok: false, name: 'UnknownPoolError' };
        p.quarantine = p.quarantine.filter((e) => !(this.seq - e.seq >= this.q.operations && now - e.t >= this.q.ms));
        const quarantined = new Set(p.quarantine.map((e) => e.v));
        const taken = (v: bigint): boolean => p.used.has(v) || p.reserved.has(v) || quarantined.has(v);
        if (cmd.op === 'allocate' && cmd.address === undefined) {
          if (p.used.size + p.reserved.size + quarantined.size === p.usable.length) return { ok: false, name: 'PoolExhaustedError' };
          for (let k = 0; k < p.usable.length; k++) {
            const i = (p.cursor + k) % p.usable.length;
            const v = p.usable[i] as bigint;
            if (!taken(v)) {
              p.used.add(v);
              p.cursor = (i + 1) % p.usable.length;
              return { ok: true, value: formatIp({ family: p.family, value: v }) };
            }
          }
          throw new Error('model: no free address although not full');
        }
        const ip = tryParseIp(cmd.address as string);
        if (!ip || ip.family !== p.family) return { ok: false, name: 'InvalidAddressError' };
        if (!p.usable.includes(ip.value)) return { ok: false, name: 'AddressOutOfRangeError' };
        const text = formatIp(ip);
        if (cmd.op === 'allocate') {
          if (taken(ip.value)) return { ok: false, name: 'AddressInUseError' };
          p.used.add(ip.value);
          return { ok: true, value: text };
        }
        if (!p.used.has(ip.value)) return { ok: false, name: 'NotAllocatedError' };
        p.used.delete(ip.value);
        if (this.q.operations > 0 || this.q.ms > 0) p.quarantine.push({ v: ip.value, seq: this.seq + 1, t: now });
        return { ok: true, value: text };
      }
    }
  }

  private requestPool(space: string, subnet: string | undefined, family: 4 | 6, gateway: string | null | undefined): Outcome {
    const inSpace = [...this.pools.values()].filter((p) => p.space === space);
    const free = (start: bigint, end: bigint, fam: 4 | 6): MPool | undefined =>
      inSpace.find((p) => p.family === fam && p.start <= end && start <= p.end);
    let chosen: { family: 4 | 6; start: bigint; prefix: number } | undefined;
    if (subnet !== undefined) {
      if (!isValidCidr(subnet, { strict: true })) return { ok: false, name: 'InvalidCidrError' };
      const c = parseCidr(subnet);
      const end = c.address + (1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix)) - 1n;
      if (free(c.address, end, c.family)) return { ok: false, name: 'OverlapError' };
      chosen = { family: c.family, start: c.address, prefix: c.prefix };
    } else {
      for (const d of DEFAULT_POOLS) {
        const base = parseCidr(d.base);
        if (base.family !== family || chosen) continue;
        const bits = family === 4 ? 32 : 128;
        const step = 1n << BigInt(bits - d.size);
        const baseEnd = base.address + (1n << BigInt(bits - base.prefix)) - 1n;
        for (let s = base.address; s + step - 1n <= baseEnd; s += step) {
          if (!free(s, s + step - 1n, family)) {
            chosen = { family, start: s, prefix: d.size };
            break;
          }
        }
      }
      if (!chosen) return { ok: false, name: 'PoolExhaustedError' };
    }
    const bits = chosen.family === 4 ? 32 : 128;
    const end = chosen.start + (1n << BigInt(bits - chosen.prefix)) - 1n;
    const small = chosen.family === 4 ? chosen.prefix >= 31 : chosen.prefix >= 127;
    const usable: bigint[] = [];
    const last = small || chosen.family === 6 ? end : end - 1n;
    for (let v = small ? chosen.start : chosen.start + 1n; v <= last; v++) usable.push(v);
    const id = `${space}/${formatCidr({ family: chosen.family, address: chosen.start, prefix: chosen.prefix })}`;
    const reserved = new Set<bigint>();
    if (gateway === undefined) reserved.add(usable[0] as bigint);
    this.pools.set(id, { id, space, family: chosen.family, start: chosen.start, end, usable, cursor: 0, used: new Set(), reserved, quarantine: [] });
    return { ok: true, value: id };
  }
}

// ---- command generation: abstract picks resolved against the live model at run time ----

const SUBNETS = ['10.0.0.0/28', '10.0.0.16/29', '10.0.0.0/27', '10.0.0.24/30', '10.0.0.30/31', '10.0.0.40/32', '10.0.0.64/28', 'fd00::/125', 'fd00::8/126', 'fd00::/124', '10.0.0.1/28', '10.0.0.0/33'];
const JUNK = ['bogus', '10.0.0.300', '::g', '10.0.0.255', 'fd00::ffff', '11.0.0.1'];

type Abstract =
  | { kind: 'pool'; space: string; subnet: string | undefined; family: 4 | 6; noGateway: boolean; dt: number }
  | { kind: 'releasePool'; pick: number; dt: number }
  | { kind: 'alloc'; pick: number; static: number | undefined; dt: number }
  | { kind: 'release'; pick: number; addr: number; junk: number | undefined; dt: number };

const abstractArb: fc.Arbitrary<Abstract> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('pool' as const),
      space: fc.constantFrom('default', 'b'),
      subnet: fc.option(fc.constantFrom(...SUBNETS), { nil: undefined }),
      family: fc.constantFrom(4 as const, 6 as const),
      noGateway: fc.boolean(),
      dt: fc.nat(20),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('releasePool' as const), pick: fc.nat(), dt: fc.nat(20) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('alloc' as const), pick: fc.nat(), static: fc.option(fc.nat(40), { nil: undefined, freq: 4 }), dt: fc.nat(20) }) },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat(), addr: fc.nat(), junk: fc.option(fc.nat(JUNK.length - 1), { nil: undefined, freq: 8 }), dt: fc.nat(20) }),
  },
);

function resolve(a: Abstract, model: Model, live: Map<string, string[]>, now: number): Command {
  const ids = [...model.pools.keys()].sort();
  const poolId = (pick: number): string => (ids.length === 0 || pick % 17 === 16 ? 'default/10.99.0.0/24' : (ids[pick % ids.length] as string));
  switch (a.kind) {
    case 'pool':
      return {
        op: 'requestPool',
        space: a.space,
        ...(a.subnet !== undefined ? { subnet: a.subnet } : { family: a.family }),
        ...(a.noGateway ? { gateway: null } : {}),
        now,
      };
    case 'releasePool':
      return { op: 'releasePool', poolId: poolId(a.pick), now };
    case 'alloc': {
      const id = poolId(a.pick);
      if (a.static === undefined) return { op: 'allocate', poolId: id, now };
      const p = model.pools.get(id);
      const base = p ? p.start : 0n;
      return { op: 'allocate', poolId: id, address: formatIp({ family: p?.family ?? 4, value: base + BigInt(a.static % 20) }), now };
    }
    case 'release': {
      // Mostly release from pools that have live addresses, so releases succeed often.
      const withLive = ids.filter((x) => (live.get(x)?.length ?? 0) > 0);
      const id = withLive.length > 0 && a.pick % 4 !== 3 ? (withLive[a.pick % withLive.length] as string) : poolId(a.pick);
      const addrs = live.get(id) ?? [];
      const address = a.junk !== undefined || addrs.length === 0 ? (JUNK[a.junk ?? 0] as string) : (addrs[a.addr % addrs.length] as string);
      return { op: 'release', poolId: id, address, now };
    }
  }
}

function valueOf(r: CommandResult): string {
  switch (r.op) {
    case 'requestPool':
    case 'releasePool':
      return r.poolId;
    case 'allocate':
    case 'release':
      return r.address;
  }
}

function viaMethods(ipam: Ipam, cmd: Command): Outcome {
  try {
    switch (cmd.op) {
      case 'allocate':
        return { ok: true, value: ipam.allocate(cmd.poolId, cmd.address) };
      case 'release':
        ipam.release(cmd.poolId, cmd.address);
        return { ok: true, value: formatIp(tryParseIp(cmd.address) ?? { family: 4, value: 0n }) };
      default:
        return { ok: true, value: valueOf(ipam.execute(cmd)) };
    }
  } catch (e) {
    return { ok: false, name: (e as Error).name };
  }
}

const quarantineArb = fc.record({ operations: fc.constantFrom(0, 0, 1, 3, 8), ms: fc.constantFrom(0, 0, 15, 60) });

describe('allocator vs naive model (fast-check)', () => {
  it('same results as the model; no address twice while allocated; each release accepted exactly once; replicas and restores agree byte for byte', () => {
    fc.assert(
      fc.property(quarantineArb, fc.array(abstractArb, { minLength: 20, maxLength: 150, size: 'max' }), fc.nat(150), (q, script, restoreAt) => {
        const options = { defaultPools: DEFAULT_POOLS, quarantine: q };
        let now = 0;
        const model = new Model(q);
        const a = new Ipam(options, { clock: { now: () => now } });
        const b = new IpamStateMachine(options);
        let c: Ipam | undefined;
        const live = new Map<string, string[]>();
        // Every run starts with one IPv4 and one IPv6 pool from the default pools.
        const opening: Abstract[] = [
          { kind: 'pool', space: 'default', subnet: undefined, family: 4, noGateway: false, dt: 0 },
          { kind: 'pool', space: 'default', subnet: undefined, family: 6, noGateway: true, dt: 0 },
        ];
        [...opening, ...script].forEach((step, i) => {
          now += step.dt;
          if (i === restoreAt % (script.length + 2)) c = Ipam.restore(a.snapshot());
          const cmd = resolve(step, model, live, now);
          const expected = model.run(cmd);
          const got = viaMethods(a, cmd);
          const outB = b.apply(encodeCommand(cmd));
          const gotB: Outcome = outB.ok ? { ok: true, value: valueOf(outB.result) } : { ok: false, name: outB.error.name };
          expect({ i, cmd, got }).toEqual({ i, cmd, got: expected });
          expect(gotB).toEqual(expected);
          if (c) {
            const outC = c.apply(cmd);
            expect(outC.ok ? { ok: true, value: valueOf(outC.result) } : { ok: false, name: outC.error.name }).toEqual(expected);
          }
          // Independent invariants from results alone.
          if (cmd.op === 'allocate') {
            const list = live.get(cmd.poolId) ?? [];
            if (got.ok) {
              expect(list).not.toContain(got.value);
              list.push(got.value);
              live.set(cmd.poolId, list);
            }
          } else if (cmd.op === 'release') {
            const list = live.get(cmd.poolId) ?? [];
            const idx = list.indexOf(cmd.address);
            expect(got.ok).toBe(idx >= 0);
            if (idx >= 0) list.splice(idx, 1);
          } else if (cmd.op === 'releasePool' && got.ok) {
            live.delete(cmd.poolId);
          } else if (cmd.op === 'requestPool' && got.ok) {
            live.delete(got.value);
          }
          if (i % 8 === 0 || i === script.length + 1) {
            const snap = a.snapshot();
            expect(new TextDecoder().decode(b.snapshot())).toBe(snap);
            if (c) expect(c.snapshot()).toBe(snap);
          }
        });
        expect(Ipam.restore(a.snapshot()).snapshot()).toBe(a.snapshot());
      }),
      { numRuns: 100 },
    );
  });
});
