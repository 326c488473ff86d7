import { IpamStateMachine, apply, createState, encodeCommand } from '../src/index';

describe('commands as a replicated state machine', () => {
  it('apply validates with zod and returns typed error names instead of throwing', () => {
    const s = createState();
    expect(apply(s, { op: 'allocate' })).toEqual({ ok: false, error: { name: 'InvalidCommandError', message: expect.stringContaining('poolId') as unknown as string } });
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
    expect(outcomes[4]?.[0]).toMatchObject({ ok: false, error: { name: 'InvalidCommandError' } });
    expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
    const c = new IpamStateMachine();
    c.restore(a.snapshot());
    expect(Buffer.from(c.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
    expect(c.apply(encodeCommand({ op: 'allocate', poolId: 'default/10.0.0.0/24' }))).toEqual(a.apply(encodeCommand({ op: 'allocate', poolId: 'default/10.0.0.0/24' })));
    expect(() => c.restore(new Uint8Array([0xff, 0xfe]))).toThrow('invalid snapshot');
  });
});
