import { ManualClock } from '@weft/interface';
import { AddressInUseError, Ipam, NotAllocatedError, PoolExhaustedError } from '../src/index';

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('quarantine', () => {
  it('by operations: a released address comes back only after N further commands', () => {
    const ipam = new Ipam({ quarantine: { operations: 3 } });
    const { poolId } = ipam.requestPool({ subnet: '10.5.0.0/30' }); // gateway .1, one address .2
    expect(ipam.allocate(poolId)).toBe('10.5.0.2');
    ipam.release(poolId, '10.5.0.2'); // command #3; reusable once 3 more commands were applied
    expect(ipam.pool(poolId)).toMatchObject({ allocated: 0, quarantined: 1, free: 0n });
    expect(caught(() => ipam.allocate(poolId)).message).toContain('1 released addresses still quarantined');
    const other = ipam.requestPool({ subnet: '10.6.0.0/24' }).poolId; // 1
    ipam.allocate(other); // 2
    ipam.allocate(other); // 3
    expect(ipam.isAllocated(poolId, '10.5.0.2')).toBe(false);
    expect(ipam.allocate(poolId)).toBe('10.5.0.2');
  });

  it('by time from an injected clock: commands carry `now`, replicas never read a clock', () => {
    const clock = new ManualClock(1_000);
    const ipam = new Ipam({ quarantine: { ms: 30_000 } }, { clock });
    const { poolId } = ipam.requestPool({ subnet: '10.5.0.0/30' });
    ipam.allocate(poolId);
    ipam.release(poolId, '10.5.0.2');
    clock.advance(29_999);
    expect(caught(() => ipam.allocate(poolId))).toBeInstanceOf(PoolExhaustedError);
    const quarantined = caught(() => ipam.allocate(poolId, '10.5.0.2'));
    expect(quarantined).toBeInstanceOf(AddressInUseError);
    expect((quarantined as AddressInUseError).reason).toBe('quarantined');
    expect(caught(() => ipam.release(poolId, '10.5.0.2'))).toBeInstanceOf(NotAllocatedError);
    clock.advance(1);
    expect(ipam.allocate(poolId)).toBe('10.5.0.2');
    expect(ipam.state.clock).toBe(31_000);
  });

  it('a clock that goes backwards does not move command time backwards', () => {
    let now = 50_000;
    const ipam = new Ipam({ quarantine: { ms: 10 } }, { clock: { now: () => now } });
    const { poolId } = ipam.requestPool({ subnet: '10.5.0.0/30' });
    ipam.allocate(poolId);
    now = 10;
    ipam.release(poolId, '10.5.0.2');
    expect(ipam.state.clock).toBe(50_000);
    now = 50_009;
    expect(caught(() => ipam.allocate(poolId))).toBeInstanceOf(PoolExhaustedError);
    now = 50_010;
    expect(ipam.allocate(poolId)).toBe('10.5.0.2');
  });

  it('both bounds must pass; oldest released first', () => {
    let now = 0;
    const ipam = new Ipam({ quarantine: { operations: 1, ms: 100 } }, { clock: { now: () => now } });
    const { poolId } = ipam.requestPool({ subnet: '10.5.0.0/29' }); // .2-.6 free
    const got = [1, 2, 3, 4, 5].map(() => ipam.allocate(poolId));
    ipam.release(poolId, got[3] as string); // .5 first
    now = 50;
    ipam.release(poolId, got[1] as string); // .3 second
    now = 100;
    expect(ipam.allocate(poolId)).toBe('10.5.0.5');
    expect(caught(() => ipam.allocate(poolId))).toBeInstanceOf(PoolExhaustedError);
    now = 150;
    expect(ipam.allocate(poolId)).toBe('10.5.0.3');
  });

  it('quarantine survives snapshot/restore', () => {
    let now = 0;
    const ipam = new Ipam({ quarantine: { ms: 100 } }, { clock: { now: () => now } });
    const { poolId } = ipam.requestPool({ subnet: '10.5.0.0/30' });
    ipam.allocate(poolId);
    ipam.release(poolId, '10.5.0.2');
    const snap = ipam.snapshot();
    expect(snap).toContain('"quarantine":[["10.5.0.2",3,0]]');
    const copy = Ipam.restore(snap, { clock: { now: () => now } });
    now = 99;
    expect(caught(() => copy.allocate(poolId))).toBeInstanceOf(PoolExhaustedError);
    now = 100;
    expect(copy.allocate(poolId)).toBe('10.5.0.2');
  });
});
