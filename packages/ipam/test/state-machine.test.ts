import type { StateMachine } from '@weft/interface';
import { IpamStateMachine, apply, createState, encodeCommand, execute, type ApplyOutcome, type PoolResult } from '../src/index';

describe('commands as a replicated state machine', () => {
  it('apply validates with zod and returns typed error names instead of throwing', () => {
    const s = createState();
    expect(apply(s, { op: 'allocate' })).toEqual({
      ok: false,
      error: { name: 'InvalidCommandError', code: 'ERR_INVALID_COMMAND', message: expect.stringContaining('poolId') as unknown as string },
    });
    expect(apply(s, { op: 'explode' }).ok).toBe(false);
    expect(apply(s, null).ok).toBe(false);
    expect(apply(s, { op: 'requestPool', space: 'has space' })).toMatchObject({ ok: false, error: { name: 'InvalidCommandError' } });
    expect(apply(s, { op: 'allocate', poolId: 'default/10.0.0.0/24' })).toMatchObject({ ok: false, error: { name: 'UnknownPoolError' } });
    expect(apply(s, { op: 'requestPool', subnet: '10.0.0.0/24', family: 6 })).toMatchObject({ ok: false, error: { name: 'InvalidCommandError' } });
    expect(apply(s, JSON.parse('{"op":"requestPool","auxAddresses":{"__proto__":"10.0.0.9"}}'))).toMatchObject({ ok: false, error: { name: 'InvalidCommandError' } });
    expect(s.seq).toBe(0); // refused commands change nothing
    expect(apply(s, { op: 'requestPool' })).toEqual({ ok: true, result: { op: 'requestPool', poolId: 'default/10.0.0.0/24', subnet: '10.0.0.0/24', gateway: '10.0.0.1' } });
    expect(s.seq).toBe(1);
  });

  it('refuses bad address text with the shared InvalidAddressError as data, never a throw', () => {
    const s = createState();
    const { poolId } = execute(s, { op: 'requestPool' }) as PoolResult;
    for (const address of ['10.0.0.256', '10.0.0.01', 'fd00::1']) {
      expect(apply(s, { op: 'allocate', poolId, address })).toEqual({
        ok: false,
        error: { name: 'InvalidAddressError', code: 'ERR_INVALID_ADDRESS', message: expect.stringContaining(JSON.stringify(address)) as unknown as string },
      });
      expect(apply(s, { op: 'release', poolId, address })).toMatchObject({ ok: false, error: { code: 'ERR_INVALID_ADDRESS' } });
    }
    expect(apply(s, { op: 'requestPool', subnet: '10.1.0.0/24', gateway: 'nope' })).toMatchObject({ ok: false, error: { code: 'ERR_INVALID_ADDRESS' } });
    expect(s.seq).toBe(1);
  });

  it('every refusal carries the code of the typed error', () => {
    const s = createState({ defaultPools: [{ base: '10.0.0.0/30', size: 30 }] });
    const { poolId } = execute(s, { op: 'requestPool' }) as PoolResult; // gateway .1, one address .2
    expect(apply(s, { op: 'allocate', poolId })).toMatchObject({ ok: true });
    const codes = [
      apply(s, { op: 'allocate', poolId }),
      apply(s, { op: 'requestPool' }),
      apply(s, { op: 'requestPool', subnet: '10.0.0.0/24' }),
      apply(s, { op: 'requestPool', subnet: '10.0.0.5/24' }),
      apply(s, { op: 'allocate', poolId: 'default/10.9.0.0/24' }),
      apply(s, { op: 'allocate', poolId, address: '10.0.0.2' }),
      apply(s, { op: 'allocate', poolId, address: '10.0.0.3' }),
      apply(s, { op: 'release', poolId, address: '10.0.0.1' }),
    ].map((o) => (o.ok ? 'ok' : `${o.error.name} ${o.error.code}`));
    expect(codes).toEqual([
      'PoolExhaustedError ERR_POOL_EXHAUSTED',
      'PoolExhaustedError ERR_POOL_EXHAUSTED',
      'OverlapError ERR_OVERLAP',
      'InvalidCidrError ERR_INVALID_CIDR',
      'UnknownPoolError ERR_UNKNOWN_POOL',
      'AddressInUseError ERR_ADDRESS_IN_USE',
      'AddressOutOfRangeError ERR_ADDRESS_OUT_OF_RANGE',
      'NotAllocatedError ERR_NOT_ALLOCATED',
    ]);
  });

  it('two state machines fed the same bytes hold byte-identical snapshots; restore replaces the state', () => {
    const a = new IpamStateMachine({ quarantine: { operations: 2 } });
    const b = new IpamStateMachine({ quarantine: { operations: 2 } });
    const log = [
      encodeCommand({ op: 'requestPool' }),
      encodeCommand({ op: 'allocate', poolId: 'default/10.0.0.0/24' }),
      encodeCommand({ op: 'allocate', poolId: 'default/10.0.0.0/24', address: '10.0.0.200' }),
      encodeCommand({ op: 'release', poolId: 'default/10.0.0.0/24', address: '10.0.0.2' }),
      new TextEncoder().encode('not json'),
      encodeCommand({ op: 'requestPool', subnet: '2001:db8::/64' }),
    ];
    const outcomes = log.map((entry, i) => [a.apply(entry, i + 1), b.apply(entry, i + 1)]);
    for (const [x, y] of outcomes) expect(y).toEqual(x);
    expect(outcomes[4]?.[0]).toMatchObject({ ok: false, error: { name: 'InvalidCommandError', code: 'ERR_INVALID_COMMAND', message: expect.stringContaining('not UTF-8 JSON') } });
    expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
    const c = new IpamStateMachine();
    c.restore(a.snapshot());
    expect(Buffer.from(c.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
    expect(c.apply(encodeCommand({ op: 'allocate', poolId: 'default/10.0.0.0/24' }))).toEqual(a.apply(encodeCommand({ op: 'allocate', poolId: 'default/10.0.0.0/24' })));
    expect(() => c.restore(new Uint8Array([0xff, 0xfe]))).toThrow('invalid snapshot');
  });

  it("is @weft/interface's StateMachine", () => {
    const sm: StateMachine<ApplyOutcome> = new IpamStateMachine();
    expect(sm.apply(encodeCommand({ op: 'requestPool' }), 1)).toMatchObject({ ok: true, result: { poolId: 'default/10.0.0.0/24' } });
    const copy: StateMachine = new IpamStateMachine();
    copy.restore(sm.snapshot());
    expect(Buffer.from(copy.snapshot()).equals(Buffer.from(sm.snapshot()))).toBe(true);
  });
});
