import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '@weft/raft';
import { LevelStorage } from '@weft/raft/level';
import { entry, range, storesContract } from './stores-contract';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), `weft-raft-level-${process.pid}-`));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storesContract('LevelStorage', () => LevelStorage.open(freshDir()));

describe('LevelStorage: durability across reopen', () => {
  test('log, hard state, metadata and snapshot survive close + reopen', async () => {
    const dir = freshDir();
    const a = await LevelStorage.open(dir);
    await a.writeReady({ entries: range(1, 100, 1), hardState: { term: 1, vote: 'n1', commit: 90 } });
    await a.writeReady({ entries: [entry(95, 2, 'x')] });
    await a.set('meta', Uint8Array.of(5));
    await a.save({ meta: { index: 50, term: 1, confState: { voters: ['n1'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: Uint8Array.of(42) });
    await a.deleteRange(1, 51);
    await a.close();

    const b = await LevelStorage.open(dir);
    expect(await b.firstIndex()).toBe(51);
    expect(await b.lastIndex()).toBe(95);
    const last = (await b.getEntries(95, 96))[0]!;
    expect(last.term).toBe(2);
    expect(new TextDecoder().decode(last.data)).toBe('x');
    expect(await b.getHardState()).toEqual({ term: 1, vote: 'n1', commit: 90 });
    expect(Array.from((await b.get('meta'))!)).toEqual([5]);
    expect((await b.latest())?.meta.index).toBe(50);
    expect(Array.from((await b.latest())!.data)).toEqual([42]);
    await b.close();
  });

  test('a second open of the same directory fails while the first holds the lock', async () => {
    const dir = freshDir();
    const a = await LevelStorage.open(dir);
    await expect(LevelStorage.open(dir)).rejects.toThrow();
    await a.close();
  });

  test('use after close throws StorageError, the same class the main entry exports', async () => {
    const a = await LevelStorage.open(freshDir());
    await a.close();
    await expect(a.getEntries(1, 2)).rejects.toBeInstanceOf(StorageError);
    await expect(a.getEntries(1, 2)).rejects.toMatchObject({ name: 'StorageError', code: 'ERR_RAFT_STORAGE' });
  });

  test('bad options reject with InvalidOptionsError naming the field', async () => {
    await expect(LevelStorage.open('')).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'path' });
    await expect(LevelStorage.open(freshDir(), { sync: 'yes' } as never)).rejects.toMatchObject({ name: 'InvalidOptionsError', field: 'sync' });
  });
});
