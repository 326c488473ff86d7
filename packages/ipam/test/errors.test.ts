/** The error model: one root class, fixed names, stable codes, shared option and address errors. */
import { InvalidAddressError as SharedInvalidAddressError, InvalidOptionsError as SharedInvalidOptionsError, WeftError, isWeftError } from '@weft/interface';
import * as ipam from '../src/index';
import {
  AddressInUseError,
  AddressOutOfRangeError,
  InvalidAddressError,
  InvalidCidrError,
  InvalidCommandError,
  InvalidOptionsError,
  InvalidSnapshotError,
  Ipam,
  IpamError,
  IpamStateMachine,
  NotAllocatedError,
  OverlapError,
  PoolExhaustedError,
  UnknownPoolError,
  createState,
  resolveOptions,
} from '../src/index';

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('ipam errors', () => {
  const samples: [IpamError, string, string][] = [
    [new InvalidCidrError('10.0.0.0/33', 'prefix too long'), 'InvalidCidrError', 'ERR_INVALID_CIDR'],
    [new InvalidCommandError('poolId', 'is required'), 'InvalidCommandError', 'ERR_INVALID_COMMAND'],
    [new InvalidSnapshotError('not JSON'), 'InvalidSnapshotError', 'ERR_INVALID_SNAPSHOT'],
    [new PoolExhaustedError('default/10.0.0.0/30'), 'PoolExhaustedError', 'ERR_POOL_EXHAUSTED'],
    [new OverlapError('10.0.0.0/24', '10.0.0.0/16', 'default'), 'OverlapError', 'ERR_OVERLAP'],
    [new AddressInUseError('10.0.0.2', 'default/10.0.0.0/24'), 'AddressInUseError', 'ERR_ADDRESS_IN_USE'],
    [new AddressOutOfRangeError('10.0.1.2', 'default/10.0.0.0/24', 'outside'), 'AddressOutOfRangeError', 'ERR_ADDRESS_OUT_OF_RANGE'],
    [new NotAllocatedError('10.0.0.2', 'default/10.0.0.0/24'), 'NotAllocatedError', 'ERR_NOT_ALLOCATED'],
    [new UnknownPoolError('nope'), 'UnknownPoolError', 'ERR_UNKNOWN_POOL'],
  ];

  it.each(samples)('%s extends IpamError and WeftError with a fixed name and a stable code', (err, name, code) => {
    expect(err).toBeInstanceOf(IpamError);
    expect(err).toBeInstanceOf(WeftError);
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
    expect(isWeftError(err, code)).toBe(true);
    expect(err.message).toMatch(/^ipam: /);
    expect(err.message).not.toContain('\n');
  });

  it('covers every error class the package exports, each code distinct', () => {
    const exported = Object.entries(ipam).filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error);
    const own = exported.filter(([, v]) => (v as { prototype: unknown }).prototype instanceof IpamError).map(([k]) => k);
    expect(own.sort()).toEqual(samples.map(([, name]) => name).sort());
    expect(new Set(samples.map(([, , code]) => code)).size).toBe(samples.length);
    expect(new IpamError('x').code).toBe('ERR_IPAM');
  });

  it('re-exports the shared InvalidAddressError and InvalidOptionsError of @weft/interface (one class each, not copies)', () => {
    expect(InvalidAddressError).toBe(SharedInvalidAddressError);
    expect(InvalidOptionsError).toBe(SharedInvalidOptionsError);
    const i = new Ipam();
    const bad = caught(() => i.allocate(i.requestPool().poolId, '10.0.0.300'));
    expect(bad).toBeInstanceOf(SharedInvalidAddressError);
    expect((bad as SharedInvalidAddressError).kind).toBe('IP');
    expect(bad.message).toBe('invalid IP address "10.0.0.300": not an IPv4 address (pool default/10.0.0.0/24)');
  });
});

describe('bad options name the field on one line, from every constructor and factory', () => {
  const factories: [string, (options: unknown) => unknown][] = [
    ['Ipam', (o) => new Ipam(o as never)],
    ['IpamStateMachine', (o) => new IpamStateMachine(o as never)],
    ['createState', (o) => createState(o as never)],
    ['resolveOptions', (o) => resolveOptions(o as never)],
  ];
  const cases: [unknown, string, RegExp][] = [
    [{ defaultPools: [{ base: '10.0.0.0/8', size: 7 }] }, 'defaultPools.0.size', /must be at least the base prefix length .*\(got 7\)$/],
    [{ defaultPools: [{ base: '10.0.0.1/8', size: 24 }] }, 'defaultPools.0.base', /must be a CIDR without host bits.*\(got "10\.0\.0\.1\/8"\)$/],
    [{ defaultPools: 'x' }, 'defaultPools', /must be an array/],
    [{ quarantine: { operations: -1 } }, 'quarantine.operations', /must not be negative \(got -1\)$/],
    [{ quarantine: { ms: 1.5 } }, 'quarantine.ms', /must be a whole number \(got 1\.5\)$/],
    [{ quarantine: { msec: 1000 } }, 'quarantine.msec', /is not a known option \(got 1000\)$/],
    [{ bogus: 1 }, 'bogus', /is not a known option \(got 1\)$/],
    [42, '(options)', /must be an options object \(got 42\)$/],
    [null, '(options)', /\(got null\)$/],
  ];

  for (const [what, make] of factories) {
    it.each(cases)(`${what}(%j) → field %s`, (options, field, message) => {
      const err = caught(() => make(options));
      expect(err).toBeInstanceOf(InvalidOptionsError);
      expect(isWeftError(err, 'ERR_INVALID_OPTIONS')).toBe(true);
      expect((err as InvalidOptionsError).field).toBe(field);
      expect(err.message.startsWith(`${what}: option "${field}" `)).toBe(true);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('\n');
    });
    it(`${what}() with no options uses the defaults`, () => {
      expect(() => make(undefined)).not.toThrow();
    });
  }

  it('Ipam and Ipam.restore validate deps: clock must be a Clock', () => {
    const snap = new Ipam().snapshot();
    for (const [what, make] of [
      ['Ipam', (d: unknown) => new Ipam(undefined, d as never)],
      ['Ipam.restore', (d: unknown) => Ipam.restore(snap, d as never)],
    ] as const) {
      const err = caught(() => make({ clock: () => 5 }));
      expect(err).toBeInstanceOf(InvalidOptionsError);
      expect((err as InvalidOptionsError).field).toBe('clock');
      expect(err.message).toMatch(new RegExp(`^${what.replace('.', '\\.')}: option "clock" must be a Clock`));
      expect(() => make({ clock: { now: () => 5 }, logger: {} })).not.toThrow(); // a shared components bag is fine
      expect((caught(() => make('x')) as InvalidOptionsError).field).toBe('(options)');
    }
  });

  it('a snapshot with bad options is an InvalidSnapshotError, not an options error', () => {
    const err = caught(() => Ipam.restore('{"format":"weft-ipam/1","seq":0,"clock":0,"options":{"quarantine":{"ms":-5}},"pools":[]}'));
    expect(err).toBeInstanceOf(InvalidSnapshotError);
    expect(err.message).toContain('"quarantine.ms"');
  });
});

describe('bad command arguments', () => {
  it('name the argument, on one line, whatever the value', () => {
    const i = new Ipam();
    for (const value of [undefined, null, 5, 5n, {}, '', Symbol('s')]) {
      const err = caught(() => i.allocate(value as never));
      expect(err).toBeInstanceOf(InvalidCommandError);
      expect((err as InvalidCommandError).field).toBe('poolId');
      expect(err.message).not.toContain('\n');
    }
    const unknown = caught(() => i.requestPool({ subnett: '10.0.0.0/24' } as never));
    expect((unknown as InvalidCommandError).field).toBe('subnett');
  });
});
