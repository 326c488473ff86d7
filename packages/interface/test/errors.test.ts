import { z } from 'zod';
import {
  DataPlaneError,
  InvalidAddressError,
  InvalidOptionsError,
  MalformedPacketError,
  StoreClosedError,
  StoreUnavailableError,
  UnderlayClosedError,
  WatchCompactedError,
  WeftError,
  isWeftError,
  parseOptions,
} from '../src/index';

describe('WeftError', () => {
  const samples: [WeftError, string, string][] = [
    [new InvalidOptionsError('mtu', 'Vtep: option "mtu" is too small (got 10)'), 'InvalidOptionsError', 'ERR_INVALID_OPTIONS'],
    [new MalformedPacketError('vxlan', 'truncated header'), 'MalformedPacketError', 'ERR_MALFORMED_PACKET'],
    [new InvalidAddressError('IP', '1.2.3', 'too short'), 'InvalidAddressError', 'ERR_INVALID_ADDRESS'],
    [new UnderlayClosedError('127.0.0.1:4789'), 'UnderlayClosedError', 'ERR_UNDERLAY_CLOSED'],
    [new WatchCompactedError(3, 10), 'WatchCompactedError', 'ERR_WATCH_COMPACTED'],
    [new StoreUnavailableError('no leader', true), 'StoreUnavailableError', 'ERR_STORE_UNAVAILABLE'],
    [new StoreClosedError('closed'), 'StoreClosedError', 'ERR_STORE_CLOSED'],
    [new DataPlaneError('ip failed'), 'DataPlaneError', 'ERR_DATA_PLANE'],
  ];

  it.each(samples)('%s has a fixed name and a stable code', (err, name, code) => {
    expect(err).toBeInstanceOf(WeftError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
    expect(isWeftError(err)).toBe(true);
    expect(isWeftError(err, name)).toBe(true);
    expect(isWeftError(err, code)).toBe(true);
    expect(isWeftError(err, 'SomethingElse')).toBe(false);
    expect(String(err)).toContain(name);
  });

  it('is recognised across two installed copies of the package, where instanceof fails', () => {
    let other: typeof import('../src/index') | undefined;
    jest.isolateModules(() => {
      other = require('../src/index') as typeof import('../src/index');
    });
    const foreign = new other!.InvalidOptionsError('port', 'bad port');
    expect(other!.InvalidOptionsError).not.toBe(InvalidOptionsError);
    expect(foreign instanceof InvalidOptionsError).toBe(false);
    expect(isWeftError(foreign)).toBe(true);
    expect(isWeftError(foreign, 'InvalidOptionsError')).toBe(true);
    expect(isWeftError(foreign, 'ERR_INVALID_OPTIONS')).toBe(true);
  });

  it('is not fooled by plain errors or look-alikes without the brand', () => {
    expect(isWeftError(new Error('x'))).toBe(false);
    expect(isWeftError({ name: 'InvalidOptionsError', code: 'ERR_INVALID_OPTIONS' }, 'InvalidOptionsError')).toBe(false);
    expect(isWeftError(null)).toBe(false);
    expect(isWeftError('InvalidOptionsError')).toBe(false);
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new MalformedPacketError('ipv4', 'bad checksum', { cause }).cause).toBe(cause);
  });
});

describe('parseOptions', () => {
  const schema = z.object({
    mtu: z.number().int().min(68).default(1500),
    peers: z.array(z.object({ host: z.string().min(1), port: z.number().int().max(65535) })).default([]),
  });

  it('returns the parsed options with defaults, treating undefined as {}', () => {
    expect(parseOptions(schema, undefined, 'Thing')).toEqual({ mtu: 1500, peers: [] });
    expect(parseOptions(schema, { mtu: 9000 }, 'Thing').mtu).toBe(9000);
  });

  it('throws InvalidOptionsError naming the dotted field, on one line, with the value', () => {
    let err: unknown;
    try {
      parseOptions(schema, { peers: [{ host: 'a', port: 70000 }] }, 'Thing');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOptionsError);
    const e = err as InvalidOptionsError;
    expect(e.field).toBe('peers.0.port');
    expect(e.message).toMatch(/^Thing: option "peers\.0\.port" .* \(got 70000\)$/);
    expect(e.message).not.toContain('\n');
    expect(e.cause).toBeInstanceOf(z.ZodError);
  });

  it('names an unknown key of a strict object as the field', () => {
    const strict = z.object({ quarantine: z.object({ ms: z.number() }).strict().optional() }).strict();
    let err: InvalidOptionsError | undefined;
    try {
      parseOptions(strict, { quarantine: { ms: 1, msec: 5 } }, 'Thing');
    } catch (e) {
      err = e as InvalidOptionsError;
    }
    expect(err?.field).toBe('quarantine.msec');
    expect(err?.message).toBe('Thing: option "quarantine.msec" is not a known option (got 5)');
    expect(() => parseOptions(strict, { bogus: 1 }, 'Thing')).toThrow(/option "bogus" is not a known option/);
  });

  it('names "(options)" when the options object itself is wrong', () => {
    expect(() => parseOptions(schema, 42, 'Thing')).toThrow(/Thing: option "\(options\)" .*\(got 42\)/);
    try {
      parseOptions(schema, 'x', 'Thing');
    } catch (e) {
      expect((e as InvalidOptionsError).field).toBe('(options)');
    }
  });
});
