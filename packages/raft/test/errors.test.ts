/**
 * The error model: every error class @weft/raft exports extends RaftError
 * (a WeftError), has the class name as `name` and a distinct stable code.
 */
import { isWeftError, WeftError } from '@weft/interface';
import * as raft from '../src';
import * as testing from '../src/testing';

type ErrorClass = new (...args: unknown[]) => Error & { code: string };

const raftErrors: [string, ErrorClass][] = Object.entries({ ...raft, ...testing } as Record<string, unknown>)
  .filter(([, v]) => typeof v === 'function' && (v === raft.RaftError || (v as ErrorClass).prototype instanceof raft.RaftError))
  .map(([n, v]) => [n, v as ErrorClass]);

describe('RaftError and its subclasses', () => {
  it('covers the six part roots and their subclasses', () => {
    const names = raftErrors.map(([n]) => n);
    for (const root of ['RaftCoreError', 'RaftNodeError', 'StorageError', 'TransportError', 'KvError', 'RaftTestingError']) expect(names).toContain(root);
    expect(names.length).toBeGreaterThanOrEqual(25);
  });

  it.each(raftErrors)('%s: a WeftError with its own name and an ERR_RAFT code', (name, Class) => {
    const err = new Class('x');
    expect(err).toBeInstanceOf(WeftError);
    expect(err).toBeInstanceOf(raft.RaftError);
    expect(isWeftError(err, err.code)).toBe(true);
    expect(err.name).toBe(name);
    expect(err.code).toMatch(/^ERR_RAFT(_[A-Z]+)*$/);
  });

  it('codes are distinct', () => {
    const codes = raftErrors.map(([, Class]) => new Class('x').code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('NotLeaderError carries the leader as a SocketAddress and formats it', () => {
    const err = new raft.NotLeaderError('n2', { host: '::1', port: 7001 });
    expect(err.leaderAddress).toEqual({ host: '::1', port: 7001 });
    expect(err.message).toBe('not the leader; leader is n2 at [::1]:7001');
    expect(new raft.NotLeaderError(null, undefined).message).toBe('not the leader, and no leader is known');
  });
});
