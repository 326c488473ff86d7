import assert from 'node:assert/strict';
import { cmp, isWeftError, jsonOf, kv, textOf, type Store, type WatchEvent } from '@weft/interface';

/** What the conformance cases need of a backend under test. */
export interface StoreHarness {
  /** A fresh, empty store (or an empty key space of a shared one: the cases only touch keys under `prefix`). */
  readonly store: Store;
  /** Every key a case writes starts with this (lets backends share one server across cases). */
  readonly prefix: string;
  /** Makes every revision up to the current one unavailable to new watches (etcd's compaction; a small history for the others). */
  compact(): Promise<void>;
  /** Drops the connection under the store, as a network fault would (backends without one: undefined). */
  readonly reconnect?: () => Promise<void>;
  /** Releases the backend. */
  close(): Promise<void>;
}

/** One conformance case: a name and a body that throws (node:assert) when the backend breaks the `Store` contract. */
export interface StoreConformanceCase {
  readonly name: string;
  run(open: () => Promise<StoreHarness>): Promise<void>;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Collects watch batches; `until` waits (bounded) for a condition on what arrived. */
class Collector {
  readonly batches: WatchEvent[][] = [];
  error: unknown;
  readonly listener = (events: readonly WatchEvent[]): void => {
    this.batches.push([...events]);
  };
  readonly onError = (err: unknown): void => {
    this.error = err;
  };
  get events(): WatchEvent[] {
    return this.batches.flat();
  }
  async until(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new assert.AssertionError({ message: `timed out waiting for ${what}; got ${JSON.stringify(this.summary())}` });
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  summary(): string[] {
    return this.events.map((e) => `${e.type} ${e.kv.key}@${e.revision}`);
  }
}

async function withStore(open: () => Promise<StoreHarness>, body: (h: StoreHarness) => Promise<void>): Promise<void> {
  const h = await open();
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/**
 * The `Store` contract as executable cases, framework-agnostic (they throw
 * `node:assert` errors): run each in your test runner against a backend's
 * harness — every Weft store backend passes all of them. Keys are written
 * only under `harness.prefix`.
 *
 * @example
 * for (const c of storeConformanceCases()) it(c.name, () => c.run(openMyStore));
 */
export function storeConformanceCases(): StoreConformanceCase[] {
  const cases: StoreConformanceCase[] = [];
  const add = (name: string, body: (h: StoreHarness) => Promise<void>): void => {
    cases.push({ name, run: (open) => withStore(open, body) });
  };

  add('put then get returns the value with create/mod revision and version', async ({ store, prefix }) => {
    assert.equal(await store.get(`${prefix}missing`), undefined);
    const p1 = await store.put(`${prefix}a`, 'one');
    const a1 = await store.get(`${prefix}a`);
    assert.ok(a1);
    assert.equal(textOf(a1), 'one');
    assert.equal(a1.createRevision, p1.revision);
    assert.equal(a1.modRevision, p1.revision);
    assert.equal(a1.version, 1);
    const p2 = await store.put(`${prefix}a`, bytes('two'), { prevKv: true });
    assert.ok(p2.revision > p1.revision);
    assert.equal(p2.prevKv && textOf(p2.prevKv), 'one');
    const a2 = await store.get(`${prefix}a`);
    assert.equal(a2?.createRevision, p1.revision);
    assert.equal(a2?.modRevision, p2.revision);
    assert.equal(a2?.version, 2);
  });

  add('values round-trip byte for byte (every byte value, empty, 1 MiB)', async ({ store, prefix }) => {
    const all = new Uint8Array(256).map((_, i) => i);
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    await store.put(`${prefix}all`, all);
    await store.put(`${prefix}empty`, new Uint8Array(0));
    await store.put(`${prefix}big`, big);
    // Compared as plain Uint8Arrays: a backend may hand out a Buffer (which is one).
    const plain = (v: Uint8Array | undefined): Uint8Array | undefined => (v === undefined ? undefined : Uint8Array.from(v));
    const got = (await store.get(`${prefix}all`))?.value;
    assert.ok(got instanceof Uint8Array);
    assert.deepEqual(plain(got), all);
    assert.equal((await store.get(`${prefix}empty`))?.value.length, 0);
    assert.deepEqual(plain((await store.get(`${prefix}big`))?.value), big);
  });

  add('range by prefix is in key order with count, limit and more; other prefixes are excluded', async ({ store, prefix }) => {
    for (const k of ['b', 'a', 'c', 'ab']) await store.put(`${prefix}r/${k}`, k);
    await store.put(`${prefix}rx`, 'other');
    const all = await store.range({ prefix: `${prefix}r/` });
    assert.deepEqual(
      all.kvs.map((x) => x.key),
      ['a', 'ab', 'b', 'c'].map((k) => `${prefix}r/${k}`),
    );
    assert.equal(all.count, 4);
    assert.equal(all.more, false);
    const two = await store.range({ prefix: `${prefix}r/` }, { limit: 2 });
    assert.equal(two.kvs.length, 2);
    assert.equal(two.count, 4);
    assert.equal(two.more, true);
    const span = await store.range({ start: `${prefix}r/ab`, end: `${prefix}r/c` });
    assert.deepEqual(
      span.kvs.map((x) => x.key),
      [`${prefix}r/ab`, `${prefix}r/b`],
    );
    const one = await store.range({ key: `${prefix}r/b` });
    assert.equal(one.kvs.length, 1);
    assert.ok(all.revision >= (await store.get(`${prefix}rx`))!.modRevision);
  });

  add('delete removes one key or a prefix, reports the count and previous values', async ({ store, prefix }) => {
    for (const k of ['x', 'y', 'z']) await store.put(`${prefix}d/${k}`, k);
    const one = await store.delete(`${prefix}d/x`, { prevKv: true });
    assert.equal(one.deleted, 1);
    assert.equal(one.prevKvs?.[0] && textOf(one.prevKvs[0]), 'x');
    assert.equal(await store.get(`${prefix}d/x`), undefined);
    const none = await store.delete(`${prefix}d/nothing`);
    assert.equal(none.deleted, 0);
    const rest = await store.delete({ prefix: `${prefix}d/` });
    assert.equal(rest.deleted, 2);
    assert.equal((await store.range({ prefix: `${prefix}d/` })).count, 0);
    await store.put(`${prefix}d/x`, 'again');
    const again = await store.get(`${prefix}d/x`);
    assert.equal(again?.version, 1, 'a re-created key starts at version 1');
  });

  add('txn compares value, version, createRevision and modRevision and runs the matching branch', async ({ store, prefix }) => {
    const k = `${prefix}t`;
    const created = await store.put(k, 'v1');
    const yes = await store.txn({
      compare: [
        cmp.value(k, 'equal', 'v1'),
        cmp.version(k, 'equal', 1),
        cmp.createRevision(k, 'equal', created.revision),
        cmp.modRevision(k, 'less', created.revision + 1),
        cmp.value(k, 'notEqual', 'v0'),
        cmp.value(k, 'greater', 'v0'),
        cmp.version(`${prefix}none`, 'equal', 0),
      ],
      success: [kv.put(k, 'v2'), kv.get(k)],
      failure: [kv.put(k, 'wrong')],
    });
    assert.equal(yes.succeeded, true);
    assert.equal(yes.results.length, 2);
    const read = yes.results[1];
    assert.ok(read?.op === 'range');
    assert.equal(textOf(read.kvs[0]!), 'v2', 'later ops in a txn see earlier writes');
    const no = await store.txn({
      compare: [cmp.value(k, 'equal', 'v1')],
      success: [kv.put(k, 'wrong')],
      failure: [kv.get(k), kv.put(`${prefix}t2`, 'else')],
    });
    assert.equal(no.succeeded, false);
    assert.equal(textOf((await store.get(k))!), 'v2');
    assert.equal(textOf((await store.get(`${prefix}t2`))!), 'else');
    const missingValue = await store.txn({ compare: [cmp.value(`${prefix}none`, 'notEqual', 'x')], success: [], failure: [] });
    assert.equal(missingValue.succeeded, false, 'a value comparison on a missing key is false');
  });

  add('a txn with several writes is one revision; a read-only txn changes none', async ({ store, prefix }) => {
    const before = await store.put(`${prefix}m0`, '0');
    const r = await store.txn({ success: [kv.put(`${prefix}m1`, '1'), kv.put(`${prefix}m2`, '2'), kv.delete(`${prefix}m0`)] });
    assert.equal(r.revision, before.revision + 1);
    assert.equal((await store.get(`${prefix}m1`))?.modRevision, r.revision);
    assert.equal((await store.get(`${prefix}m2`))?.modRevision, r.revision);
    const ro = await store.txn({ success: [kv.get(`${prefix}m1`)] });
    assert.equal(ro.revision, r.revision);
  });

  add('compare-and-set from concurrent writers loses no update', async ({ store, prefix }) => {
    const k = `${prefix}counter`;
    await store.put(k, JSON.stringify(0));
    const writers = 8;
    const perWriter = 10;
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let done = 0; done < perWriter; ) {
          const cur = (await store.get(k))!;
          const r = await store.txn({
            compare: [cmp.modRevision(k, 'equal', cur.modRevision)],
            success: [kv.putJson(k, jsonOf<number>(cur) + 1)],
          });
          if (r.succeeded) done++;
          else if (++conflicts > 10_000) throw new Error('compare-and-set never converged');
        }
      }),
    );
    assert.equal(jsonOf<number>((await store.get(k))!), writers * perWriter);
  });

  add('watch delivers every change under its prefix once, in order, events of one revision together', async ({ store, prefix }) => {
    const c = new Collector();
    const w = await store.watch({ prefix: `${prefix}w/` }, c.listener, { onError: c.onError });
    await store.put(`${prefix}w/a`, '1');
    await store.put(`${prefix}other`, 'not watched');
    await store.txn({ success: [kv.put(`${prefix}w/b`, '2'), kv.put(`${prefix}w/c`, '3')] });
    await store.delete(`${prefix}w/a`);
    await c.until(() => c.events.length >= 4, '4 events');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      c.events.map((e) => `${e.type} ${e.kv.key.slice(prefix.length)}`),
      ['put w/a', 'put w/b', 'put w/c', 'delete w/a'],
    );
    const revs = c.events.map((e) => e.revision);
    assert.ok(revs[0]! < revs[1]! && revs[1] === revs[2] && revs[2]! < revs[3]!);
    const txnBatch = c.batches.find((b) => b.some((e) => e.kv.key.endsWith('w/b')));
    assert.ok(txnBatch?.some((e) => e.kv.key.endsWith('w/c')), 'the events of one txn arrive in one batch');
    assert.equal(c.events[0]!.kv.modRevision, c.events[0]!.revision);
    assert.equal(textOf(c.events[1]!.kv), '2');
    assert.equal(c.events[3]!.kv.version, 0);
    w.cancel();
    assert.equal(w.active, false);
    await store.put(`${prefix}w/z`, 'after cancel');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.events.length, 4, 'nothing after cancel');
    assert.equal(c.error, undefined);
  });

  add('watch from a past revision replays history first, then live changes', async ({ store, prefix }) => {
    const first = await store.put(`${prefix}h/1`, 'a');
    await store.put(`${prefix}h/2`, 'b');
    await store.put(`${prefix}h/1`, 'c');
    const c = new Collector();
    const w = await store.watch(`${prefix}h/`, c.listener, { fromRevision: first.revision + 1, onError: c.onError });
    await store.put(`${prefix}h/3`, 'd');
    await c.until(() => c.events.length >= 3, '3 events');
    assert.deepEqual(
      c.events.map((e) => `${e.kv.key.slice(prefix.length)}=${textOf(e.kv)}`),
      ['h/2=b', 'h/1=c', 'h/3=d'],
    );
    w.cancel();
  });

  add('watch from a compacted revision is refused with WatchCompactedError', async (h) => {
    const { store, prefix } = h;
    const first = await store.put(`${prefix}c/1`, 'a');
    for (let i = 0; i < 5; i++) await store.put(`${prefix}c/1`, `v${i}`);
    await h.compact();
    // Refused at once (the promise rejects) or ended at once (onError): both are the contract.
    const err = await new Promise<unknown>((resolve) => {
      store.watch(`${prefix}c/`, () => undefined, { fromRevision: first.revision, onError: resolve }).then((w) => {
        setTimeout(() => {
          w.cancel();
          resolve(undefined);
        }, 3000);
      }, resolve);
    });
    assert.ok(isWeftError(err, 'WatchCompactedError'), `expected WatchCompactedError, got ${String(err)}`);
  });

  add('a watch survives a reconnect of the store: no event lost or duplicated', async (h) => {
    const { store, prefix } = h;
    const c = new Collector();
    const w = await store.watch(`${prefix}rc/`, c.listener, { onError: c.onError });
    for (let i = 0; i < 5; i++) await store.put(`${prefix}rc/${i}`, String(i));
    await c.until(() => c.events.length >= 5, 'first 5 events');
    await h.reconnect?.();
    for (let i = 5; i < 10; i++) {
      // Writes right after a reconnect may find the connection still coming back: retry those that were not applied.
      for (let attempt = 0; ; attempt++) {
        try {
          await store.put(`${prefix}rc/${i}`, String(i));
          break;
        } catch (err) {
          if (!isWeftError(err, 'StoreUnavailableError') || attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    await c.until(() => new Set(c.events.map((e) => e.kv.key)).size >= 10, '10 distinct keys');
    await new Promise((r) => setTimeout(r, 100));
    const revs = c.events.map((e) => e.revision);
    assert.deepEqual(revs, [...new Set(revs)].sort((a, b) => a - b), 'strictly increasing: no duplicate, no reordering');
    assert.deepEqual(
      [...new Set(c.events.map((e) => e.kv.key.slice(prefix.length)))].sort(),
      Array.from({ length: 10 }, (_, i) => `rc/${i}`).sort(),
    );
    assert.equal(c.error, undefined);
    w.cancel();
  });

  add('requests after close reject with StoreClosedError', async ({ store, prefix }) => {
    await store.put(`${prefix}x`, '1');
    await store.close();
    await assert.rejects(store.get(`${prefix}x`), (e: unknown) => isWeftError(e, 'StoreClosedError'));
    await assert.rejects(store.put(`${prefix}x`, '2'), (e: unknown) => isWeftError(e, 'StoreClosedError'));
    await store.close();
  });

  return cases;
}
