import fc from 'fast-check';
import { cmp, InvalidOptionsError, kv, utf8, WatchCompactedError, type StoreRequest, type WatchEvent } from '@weft/interface';
import { encodeKvRequest, KvCommandError, KvStore, type KvResult } from '../../src/kv';

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Applies through the bytes path, as Raft does. */
function apply(store: KvStore, req: StoreRequest): KvResult {
  return store.apply(encodeKvRequest(req), 0);
}

describe('KvStore revisions (etcd semantics)', () => {
  it('bumps the global revision once per write and tracks create/mod revision and version per key', () => {
    const s = new KvStore();
    expect(s.revision).toBe(0);
    expect(apply(s, kv.put('a', '1'))).toEqual({ op: 'put', revision: 1 });
    expect(apply(s, kv.put('b', '1')).revision).toBe(2);
    const r = apply(s, kv.put('a', '2', { prevKv: true }));
    expect(r).toMatchObject({ op: 'put', revision: 3, prevKv: { key: 'a', modRevision: 1, version: 1 } });
    const a = s.get('a');
    expect(a).toMatchObject({ key: 'a', createRevision: 1, modRevision: 3, version: 2 });
    expect(text(a?.value)).toBe('2');
  });

  it('deletes bump the revision only when a key existed, and a re-created key starts over', () => {
    const s = new KvStore();
    apply(s, kv.put('a', '1'));
    apply(s, kv.put('a', '2'));
    expect(apply(s, kv.delete('missing'))).toEqual({ op: 'delete', revision: 2, deleted: 0 });
    expect(apply(s, kv.delete('a', { prevKv: true }))).toMatchObject({ op: 'delete', revision: 3, deleted: 1, prevKvs: [{ key: 'a', version: 2 }] });
    expect(s.get('a')).toBeUndefined();
    apply(s, kv.put('a', '3'));
    expect(s.get('a')).toMatchObject({ createRevision: 4, modRevision: 4, version: 1 });
  });

  it('range reads by key, prefix and [start, end) in key order, with limit, count and more', () => {
    const s = new KvStore();
    for (const k of ['net/b', 'net/a', 'ip/1', 'net/c', 'nets', 'z']) apply(s, kv.put(k, k));
    const keys = (r: KvResult): string[] => (r.op === 'range' ? r.kvs.map((x) => x.key) : []);
    expect(keys(apply(s, kv.prefix('net/')))).toEqual(['net/a', 'net/b', 'net/c']);
    expect(keys(apply(s, kv.prefix('')))).toEqual(['ip/1', 'net/a', 'net/b', 'net/c', 'nets', 'z']);
    expect(keys(apply(s, kv.range({ start: 'net/b', end: 'nets' })))).toEqual(['net/b', 'net/c']);
    expect(keys(apply(s, kv.range({ start: 'nets' })))).toEqual(['nets', 'z']);
    expect(keys(apply(s, kv.get('ip/1')))).toEqual(['ip/1']);
    expect(keys(apply(s, kv.get('ip/2')))).toEqual([]);
    expect(apply(s, kv.prefix('net/', { limit: 2 }))).toMatchObject({ count: 3, more: true, revision: 6 });
    expect(keys(apply(s, kv.prefix('net/', { limit: 2 })))).toEqual(['net/a', 'net/b']);
    expect(s.range({ prefix: 'net/' }).count).toBe(3);
    expect(s.revision).toBe(6); // reads never bump
  });

  it('deletes a prefix in one revision', () => {
    const s = new KvStore();
    for (const k of ['p/1', 'p/2', 'q']) apply(s, kv.put(k, 'v'));
    expect(apply(s, kv.delete({ prefix: 'p/' }))).toEqual({ op: 'delete', revision: 4, deleted: 2 });
    expect(s.size).toBe(1);
  });
});

describe('KvStore txn', () => {
  it('compares value, version, createRevision and modRevision and runs the right branch', () => {
    const s = new KvStore();
    apply(s, kv.put('k', 'v1')); // rev 1
    apply(s, kv.put('k', 'v2')); // rev 2, version 2
    const cases: [ReturnType<typeof cmp.value>, boolean][] = [
      [cmp.value('k', 'equal', 'v2'), true],
      [cmp.value('k', 'equal', 'v1'), false],
      [cmp.value('k', 'greater', 'v1'), true],
      [cmp.value('k', 'less', 'v1'), false],
      [cmp.value('k', 'notEqual', 'v1'), true],
      [cmp.value('missing', 'notEqual', 'x'), false],
      [cmp.version('k', 'equal', 2), true],
      [cmp.version('missing', 'equal', 0), true],
      [cmp.createRevision('k', 'equal', 1), true],
      [cmp.modRevision('k', 'equal', 2), true],
      [cmp.modRevision('k', 'less', 2), false],
      [cmp.modRevision('k', 'greater', 1), true],
    ];
    for (const [c, expected] of cases) {
      const r = apply(s, kv.txn({ compare: [c], success: [kv.get('k')], failure: [] }));
      expect({ c, succeeded: r.op === 'txn' && r.succeeded }).toEqual({ c, succeeded: expected });
    }
    expect(s.revision).toBe(2);
  });

  it('applies several writes atomically at one revision, later ops seeing earlier ones', () => {
    const s = new KvStore();
    apply(s, kv.put('x', '0'));
    const r = apply(
      s,
      kv.txn({
        compare: [cmp.version('lock', 'equal', 0)],
        success: [kv.put('lock', 'me'), kv.put('x', '1'), kv.get('lock'), kv.delete('x')],
        failure: [kv.get('lock')],
      }),
    );
    expect(r.op).toBe('txn');
    if (r.op !== 'txn') return;
    expect(r.succeeded).toBe(true);
    expect(r.revision).toBe(2);
    expect(r.results.map((x) => x.revision)).toEqual([2, 2, 2, 2]);
    const read = r.results[2];
    expect(read?.op === 'range' && text(read.kvs[0]?.value)).toBe('me');
    expect(s.get('lock')).toMatchObject({ createRevision: 2, modRevision: 2, version: 1 });
    expect(s.get('x')).toBeUndefined();
    // the same txn now fails and runs the failure branch without bumping the revision
    const again = apply(s, kv.txn({ compare: [cmp.version('lock', 'equal', 0)], success: [kv.put('lock', 'other')], failure: [kv.get('lock')] }));
    expect(again).toMatchObject({ op: 'txn', succeeded: false, revision: 2 });
  });

  it('an empty compare list always succeeds', () => {
    const s = new KvStore();
    expect(apply(s, kv.txn({ success: [kv.put('a', '1')] }))).toMatchObject({ succeeded: true, revision: 1 });
  });
});

describe('KvStore watch', () => {
  it('delivers ordered events per revision for a prefix, with prevKv, until cancelled', () => {
    const s = new KvStore();
    const got: WatchEvent[][] = [];
    const w = s.watch('net/', (evs) => got.push([...evs]));
    apply(s, kv.put('net/a', '1'));
    apply(s, kv.put('other', '1'));
    apply(s, kv.txn({ success: [kv.put('net/b', '1'), kv.put('net/a', '2'), kv.put('other', '2')] }));
    apply(s, kv.delete({ prefix: 'net/' }));
    w.cancel();
    apply(s, kv.put('net/c', '1'));
    expect(w.active).toBe(false);
    expect(got.map((b) => b.map((e) => `${e.revision}:${e.type}:${e.kv.key}`))).toEqual([
      ['1:put:net/a'],
      ['3:put:net/b', '3:put:net/a'],
      ['4:delete:net/a', '4:delete:net/b'],
    ]);
    const second = got[1]?.[1];
    expect(text(second?.prevKv?.value)).toBe('1');
    expect(got[2]?.[0]?.kv).toMatchObject({ modRevision: 4, version: 0 });
  });

  it('replays history from a revision before returning', () => {
    const s = new KvStore();
    for (let i = 1; i <= 5; i++) apply(s, kv.put(`k${i % 2}`, String(i)));
    const revs: number[] = [];
    s.watch('k1', (evs) => revs.push(...evs.map((e) => e.revision)), { fromRevision: 2 });
    expect(revs).toEqual([3, 5]);
    apply(s, kv.put('k1', 'x'));
    expect(revs).toEqual([3, 5, 6]);
  });

  it('throws WatchCompactedError for revisions outside the bounded history', () => {
    const s = new KvStore({ historyLimit: 3 });
    for (let i = 1; i <= 10; i++) apply(s, kv.put('k', String(i)));
    expect(s.compactRevision).toBe(7);
    expect(() => s.watch('', () => undefined, { fromRevision: 7 })).toThrow(
      expect.objectContaining({ name: 'WatchCompactedError', requestedRevision: 7, compactRevision: 7 }),
    );
    const revs: number[] = [];
    s.watch('', (evs) => revs.push(...evs.map((e) => e.revision)), { fromRevision: 8 });
    expect(revs).toEqual([8, 9, 10]);
    expect(() => s.watch('', () => undefined, { fromRevision: 0 })).toThrow(InvalidOptionsError);
    expect(() => s.watch('', () => undefined, { fromRevision: 0 })).toThrow(/^KvStore.watch: option "fromRevision" .*\(got 0\)$/);
  });

  it('never replays part of a revision: a revision partly trimmed from history counts as compacted', () => {
    const s = new KvStore({ historyLimit: 3 });
    apply(s, kv.txn({ success: [kv.put('a', '1'), kv.put('b', '1')] })); // rev 1: 2 events
    apply(s, kv.txn({ success: [kv.put('a', '2'), kv.put('b', '2')] })); // rev 2: 2 events; rev 1 partly trimmed
    expect(s.compactRevision).toBe(1);
    const batches: number[][] = [];
    s.watch('', (evs) => batches.push(evs.map((e) => e.revision)), { fromRevision: 2 });
    expect(batches).toEqual([[2, 2]]);
    apply(s, kv.put('c', '3')); // rev 3: events of revs 2-3 fit in 3
    expect(s.compactRevision).toBe(1);
    apply(s, kv.put('d', '4')); // rev 4: one event of rev 2 must go, so all of rev 2 goes
    expect(s.compactRevision).toBe(2);
    const replay: number[][] = [];
    s.watch('', (evs) => replay.push(evs.map((e) => e.revision)), { fromRevision: 3 });
    expect(replay).toEqual([[3], [4]]);
    expect(() => s.watch('', () => undefined, { fromRevision: 2 })).toThrow(expect.objectContaining({ name: 'WatchCompactedError' }));
  });

  it('a throwing listener is cancelled and reported, without breaking apply or other watchers', () => {
    const s = new KvStore();
    const errors: unknown[] = [];
    const bad = s.watch('', () => {
      throw new Error('boom');
    }, { onError: (e) => errors.push(e) });
    let seen = 0;
    s.watch('', (evs) => (seen += evs.length));
    expect(apply(s, kv.put('a', '1')).op).toBe('put');
    apply(s, kv.put('a', '2'));
    expect(bad.active).toBe(false);
    expect(errors).toHaveLength(1);
    expect(seen).toBe(2);
  });
});

describe('KvStore snapshot and restore', () => {
  const script = (s: KvStore): void => {
    apply(s, kv.put('b', 'x'));
    apply(s, kv.put('a', utf8('y')));
    apply(s, kv.delete('b'));
    apply(s, kv.txn({ compare: [cmp.version('c', 'equal', 0)], success: [kv.put('c', new Uint8Array([0, 255]))] }));
  };

  it('is byte-identical for the same commands and restores to an equal store', () => {
    const a = new KvStore();
    const b = new KvStore({ historyLimit: 1 });
    script(a);
    script(b);
    const snap = a.snapshot();
    expect(Buffer.from(b.snapshot()).equals(Buffer.from(snap))).toBe(true);
    const c = new KvStore();
    apply(c, kv.put('junk', 'j'));
    c.restore(snap);
    expect(c.revision).toBe(4);
    expect(c.get('junk')).toBeUndefined();
    expect(c.get('c')).toEqual(a.get('c'));
    expect(Buffer.from(c.snapshot()).equals(Buffer.from(snap))).toBe(true);
    // after restore, the next write behaves the same on both
    expect(apply(c, kv.put('a', 'z'))).toEqual(apply(a, kv.put('a', 'z')));
    expect(c.compactRevision).toBe(4);
  });

  it('rejects a corrupt snapshot and stays unchanged; active watches end with WatchCompactedError', () => {
    const s = new KvStore();
    script(s);
    const snap = s.snapshot();
    const errors: unknown[] = [];
    s.watch('', () => undefined, { onError: (e) => errors.push(e) });
    expect(() => s.restore(snap.subarray(0, snap.length - 1))).toThrow(KvCommandError);
    expect(() => s.restore(new Uint8Array([1, 2, 3]))).toThrow(/bad magic/);
    expect(s.revision).toBe(4);
    s.restore(snap);
    expect(errors).toEqual([expect.objectContaining({ name: 'WatchCompactedError' })]);
  });
});

describe('KvStore against a model (fast-check)', () => {
  const opArb = fc.oneof(
    fc.record({ t: fc.constant('put' as const), k: fc.constantFrom('a', 'a/1', 'a/2', 'b', 'c'), v: fc.string({ maxLength: 3 }) }),
    fc.record({ t: fc.constant('del' as const), k: fc.constantFrom('a', 'a/1', 'b') }),
    fc.record({ t: fc.constant('delp' as const), k: fc.constantFrom('a', 'a/', '') }),
    fc.record({ t: fc.constant('cas' as const), k: fc.constantFrom('a', 'b'), ver: fc.nat(3), v: fc.string({ maxLength: 3 }) }),
  );

  it('matches a Map model, and a restored snapshot continues identically', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.nat(), (ops, cut) => {
        const s = new KvStore();
        const model = new Map<string, { v: string; version: number }>();
        let rev = 0;
        let restored: KvStore | undefined;
        ops.forEach((op, i) => {
          if (i === cut % (ops.length + 1)) {
            restored = new KvStore();
            restored.restore(s.snapshot());
          }
          let req: StoreRequest;
          if (op.t === 'put') {
            req = kv.put(op.k, op.v);
            rev++;
            model.set(op.k, { v: op.v, version: (model.get(op.k)?.version ?? 0) + 1 });
          } else if (op.t === 'del' || op.t === 'delp') {
            const hit = [...model.keys()].filter((k) => (op.t === 'del' ? k === op.k : k.startsWith(op.k)));
            req = op.t === 'del' ? kv.delete(op.k) : kv.delete({ prefix: op.k });
            if (hit.length > 0) rev++;
            for (const k of hit) model.delete(k);
          } else {
            req = kv.txn({ compare: [cmp.version(op.k, 'equal', op.ver)], success: [kv.put(op.k, op.v)] });
            const cur = model.get(op.k)?.version ?? 0;
            if (cur === op.ver) {
              rev++;
              model.set(op.k, { v: op.v, version: cur + 1 });
            }
          }
          const r1 = apply(s, req);
          if (restored) expect(apply(restored, req)).toEqual(r1);
          expect(r1.revision).toBe(rev);
        });
        const all = s.range({ prefix: '' });
        expect(all.kvs.map((x) => [x.key, text(x.value), x.version])).toEqual(
          [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, m]) => [k, m.v, m.version]),
        );
        if (restored) expect(Buffer.from(restored.snapshot()).equals(Buffer.from(s.snapshot()))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('KvStore options and watch arguments', () => {
  it.each([
    [{ historyLimit: 0 }, 'historyLimit'],
    [{ historyLimit: 1.5 }, 'historyLimit'],
    [{ historyLimit: 'many' }, 'historyLimit'],
  ])('new KvStore(%j) throws InvalidOptionsError naming the field', (bad, field) => {
    expect(() => new KvStore(bad as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', code: 'ERR_INVALID_OPTIONS', field }));
  });

  it('refuses a bad selector or listener, and a compacted start is the shared WatchCompactedError', () => {
    const s = new KvStore({ historyLimit: 1 });
    expect(() => s.watch({ key: '' }, () => undefined)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'keys' }));
    expect(() => s.watch('', 'nope' as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'listener' }));
    apply(s, kv.put('a', '1'));
    apply(s, kv.put('a', '2'));
    expect(() => s.watch('', () => undefined, { fromRevision: 1 })).toThrow(WatchCompactedError);
  });
});
