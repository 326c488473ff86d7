/**
 * EtcdStore against a real etcd (one member per file, started here): every
 * Store conformance case, then what is specific to etcd — revision and key
 * mapping, multi-branch txns, namespaces, and faults injected with a TCP
 * proxy between the store and etcd (connection cuts, etcd unreachable, etcd
 * hung). Skipped, with the reason printed, only where /usr/bin/etcd is not
 * installed (and never on CI, which installs etcd-server).
 */
import { cmp, isWeftError, kv, textOf, type WatchEvent } from '@weft/interface';
import { EtcdRequestRefusedError, EtcdRevisionRangeError, EtcdStore } from '@weft/core/etcd';
import { Etcd3 } from 'etcd3';
import { describeWith } from '../../../../test-support/capabilities';
import { int64 } from '../../src/etcd/responses';
import { storeConformanceCases, type StoreHarness } from '../../src/testing/store-conformance';
import { EtcdServer, etcdCapability } from './etcd-server';
import { TcpProxy } from './tcp-proxy';

async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const b = (s: string): Buffer => Buffer.from(s);

describeWith(etcdCapability(), 'EtcdStore on a real etcd', () => {
  let server: EtcdServer | undefined;
  /** A plain etcd3 client straight to etcd (no proxy): compaction, and looking at etcd's own view. */
  let admin: Etcd3 | undefined;
  const cleanup: (() => Promise<void> | void)[] = [];
  let namespaces = 0;
  const freshNamespace = (): string => `weft-test/${++namespaces}/`;

  beforeAll(async () => {
    // Frequent progress notifications, so every watch in this file also sees them between events.
    server = await EtcdServer.start({ progressNotifyMs: 200 });
    admin = new Etcd3({ hosts: server.clientUrl });
  }, 40_000);

  afterAll(async () => {
    admin?.close();
    await server?.stop();
  });

  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function proxy(): Promise<TcpProxy> {
    const p = await TcpProxy.start({ host: '127.0.0.1', port: server!.port });
    cleanup.push(() => p.close());
    return p;
  }

  /** Compacts etcd's whole history up to its current revision and waits until that is physically done. */
  async function compactAll(): Promise<number> {
    const rev = (await admin!.kv.range({ key: b('\0'), keys_only: true, limit: 1 })).header.revision;
    await admin!.kv.compact({ revision: rev, physical: true });
    return Number(rev);
  }

  /** A store through its own proxy, in its own namespace of the shared etcd. */
  async function openStore(options: { requestTimeoutMs?: number; namespace?: string } = {}): Promise<{ store: EtcdStore; proxy: TcpProxy }> {
    const p = await proxy();
    const store = new EtcdStore({ endpoints: [p.url], namespace: options.namespace ?? freshNamespace(), requestTimeoutMs: options.requestTimeoutMs ?? 5000 });
    cleanup.push(() => store.close());
    return { store, proxy: p };
  }

  async function harness(): Promise<StoreHarness> {
    const { store, proxy: p } = await openStore();
    return {
      store,
      prefix: 'conf/',
      compact: async () => {
        await compactAll();
      },
      reconnect: async () => {
        const before = p.accepted;
        p.cut();
        // The client notices and connects again through the proxy on its next request.
        await until(async () => p.accepted > before && (await store.currentRevision().then(() => true, () => false)), 'the store to reconnect');
      },
      close: () => store.close(),
    };
  }

  describe('conformance', () => {
    for (const c of storeConformanceCases()) it(c.name, () => c.run(harness));
  });

  describe('mapping', () => {
    it('revisions, versions and keys are etcd\'s own, behind the namespace prefix', async () => {
      const ns = freshNamespace();
      const { store } = await openStore({ namespace: ns });
      const p1 = await store.put('a', 'one');
      const p2 = await store.put('a', 'two');
      const raw = await admin!.kv.range({ key: b(`${ns}a`) });
      expect(raw.kvs).toHaveLength(1);
      expect(raw.header.revision).toBe(String(p2.revision));
      expect(raw.kvs[0]!.create_revision).toBe(String(p1.revision));
      expect(raw.kvs[0]!.mod_revision).toBe(String(p2.revision));
      expect(raw.kvs[0]!.version).toBe('2');
      expect(raw.kvs[0]!.value.toString()).toBe('two');
      // Something else writing etcd moves the store's revision too: one global revision.
      const other = await admin!.kv.put({ key: b('weft-test/elsewhere'), value: b('x') });
      expect(await store.currentRevision()).toBe(Number(other.header.revision));
      const got = await store.get('a');
      expect(got).toMatchObject({ key: 'a', createRevision: p1.revision, modRevision: p2.revision, version: 2 });
      expect(Object.getPrototypeOf(got!.value)).toBe(Uint8Array.prototype);
    });

    it('int64 fields beyond 2^53 are refused with EtcdRevisionRangeError, not rounded', () => {
      expect(int64('header.revision', '9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
      expect(int64('header.revision', '0')).toBe(0);
      expect(() => int64('header.revision', '9007199254740993')).toThrow(EtcdRevisionRangeError);
      expect(() => int64('kv.mod_revision', '-1')).toThrow(expect.objectContaining({ name: 'EtcdRevisionRangeError', field: 'kv.mod_revision', text: '-1' }));
    });

    it('a txn with several compares and mixed ops runs the right branch, with a result per op', async () => {
      const { store } = await openStore();
      await store.put('t/a', 'A');
      const b1 = await store.put('t/b', 'B');
      const ok = await store.txn({
        compare: [cmp.value('t/a', 'equal', 'A'), cmp.modRevision('t/b', 'equal', b1.revision), cmp.missing('t/c')],
        success: [kv.put('t/c', 'C', { prevKv: true }), kv.put('t/a', 'A2', { prevKv: true }), kv.prefix('t/', { limit: 2 }), kv.delete('t/b', { prevKv: true }), kv.range({ start: 't/', end: 't/z' })],
        failure: [kv.put('t/failed', 'yes')],
      });
      expect(ok.succeeded).toBe(true);
      expect(ok.revision).toBe(b1.revision + 1);
      expect(ok.results.map((r) => r.op)).toEqual(['put', 'put', 'range', 'delete', 'range']);
      const [putC, putA, firstTwo, delB, all] = ok.results;
      expect(putC).toEqual({ op: 'put', revision: ok.revision });
      expect(putA?.op === 'put' && putA.prevKv && textOf(putA.prevKv)).toBe('A');
      expect(firstTwo).toMatchObject({ op: 'range', revision: ok.revision, count: 3, more: true });
      expect(firstTwo?.op === 'range' && firstTwo.kvs.map((x) => `${x.key}=${textOf(x)}`)).toEqual(['t/a=A2', 't/b=B']);
      expect(delB).toMatchObject({ op: 'delete', revision: ok.revision, deleted: 1 });
      expect(delB?.op === 'delete' && delB.prevKvs?.map((x) => textOf(x))).toEqual(['B']);
      expect(all?.op === 'range' && all.kvs.map((x) => x.key)).toEqual(['t/a', 't/c']);

      const no = await store.txn({
        compare: [cmp.version('t/a', 'greater', 5), cmp.value('t/a', 'equal', 'A2')],
        success: [kv.put('t/never', 'x')],
        failure: [kv.delete({ prefix: 't/' }, { prevKv: true }), kv.get('t/a')],
      });
      expect(no.succeeded).toBe(false);
      expect(no.results[0]).toMatchObject({ op: 'delete', deleted: 2 });
      expect(no.results[1]).toMatchObject({ op: 'range', count: 0, kvs: [] });
      expect((await store.range({ prefix: '' })).count).toBe(0);
    });

    it('value comparisons on a missing key are false for every operator, as etcd applies them', async () => {
      const { store } = await openStore();
      for (const op of ['equal', 'notEqual', 'greater', 'less'] as const) {
        const r = await store.txn({ compare: [cmp.value('missing', op, 'x')] });
        expect([op, r.succeeded]).toEqual([op, false]);
      }
      // Numeric targets of a missing key are 0.
      const zero = await store.txn({ compare: [cmp.version('missing', 'equal', 0), cmp.createRevision('missing', 'less', 1), cmp.modRevision('missing', 'equal', 0)] });
      expect(zero.succeeded).toBe(true);
    });

    it('namespaces isolate stores sharing one etcd: reads, deletes and watches', async () => {
      const { store: a } = await openStore({ namespace: 'weft-test/iso-a/' });
      const { store: bb } = await openStore({ namespace: 'weft-test/iso-a2/' });
      const seenA: WatchEvent[] = [];
      const seenB: WatchEvent[] = [];
      const wa = await a.watch('', (e) => seenA.push(...e));
      const wb = await bb.watch('', (e) => seenB.push(...e));
      await a.put('k', 'in a');
      await bb.put('k', 'in b');
      await a.put('', 'the empty key exists inside a namespace');
      expect(textOf((await a.get('k'))!)).toBe('in a');
      expect(textOf((await bb.get('k'))!)).toBe('in b');
      expect((await a.range({ prefix: '' })).kvs.map((x) => x.key)).toEqual(['', 'k']);
      expect((await a.range({ start: '' })).count).toBe(2);
      expect((await a.delete({ prefix: '' })).deleted).toBe(2);
      expect(textOf((await bb.get('k'))!)).toBe('in b');
      expect((await admin!.kv.range({ key: b('weft-test/iso-a/k') })).kvs).toHaveLength(0);
      expect((await admin!.kv.range({ key: b('weft-test/iso-a2/k') })).kvs).toHaveLength(1);
      await until(() => seenA.length === 4 && seenB.length === 1, 'events of both namespaces');
      await new Promise((r) => setTimeout(r, 50));
      expect(seenA.map((e) => `${e.type} ${JSON.stringify(e.kv.key)}`)).toEqual(['put "k"', 'put ""', 'delete ""', 'delete "k"']);
      expect(seenB.map((e) => `${e.type} ${e.kv.key}`)).toEqual(['put k']);
      wa.cancel();
      wb.cancel();
    });

    it('watch events carry prevKv, and a delete\'s kv is the key at the deletion\'s revision with version 0', async () => {
      const { store } = await openStore();
      const seen: WatchEvent[] = [];
      const w = await store.watch('p/', (e) => seen.push(...e));
      await store.put('p/x', 'first');
      await store.put('p/x', 'second');
      const del = await store.delete('p/x');
      await until(() => seen.length === 3, '3 events');
      expect(seen[0]!.prevKv).toBeUndefined();
      expect(seen[1]!.prevKv && textOf(seen[1]!.prevKv)).toBe('first');
      expect(seen[2]).toMatchObject({ type: 'delete', revision: del.revision, kv: { key: 'p/x', version: 0, modRevision: del.revision, createRevision: 0 } });
      expect(seen[2]!.kv.value.length).toBe(0);
      expect(seen[2]!.prevKv && textOf(seen[2]!.prevKv)).toBe('second');
      w.cancel();
    });
  });

  describe('watch under faults', () => {
    it('resumes after a connection cut from the revision after the last delivered event, with writes made while it was down', async () => {
      const ns = freshNamespace();
      const { store, proxy: p } = await openStore({ namespace: ns });
      const seen: WatchEvent[] = [];
      let error: unknown;
      const w = await store.watch('r/', (e) => seen.push(...e), { onError: (e) => (error = e) });
      for (let i = 0; i < 3; i++) await store.put(`r/${i}`, String(i));
      await until(() => seen.length === 3, 'first 3 events');
      p.mode = 'reject';
      p.cut();
      // Written straight into etcd while the store cannot reach it.
      for (let i = 3; i < 6; i++) await admin!.kv.put({ key: b(`${ns}r/${i}`), value: b(String(i)) });
      await new Promise((r) => setTimeout(r, 300));
      p.mode = 'pass';
      await until(() => seen.length >= 6, 'the events written during the outage');
      for (let i = 6; i < 8; i++) await store.put(`r/${i}`, String(i));
      await until(() => seen.length >= 8, 'events after the resume');
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.map((e) => textOf(e.kv))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
      const revs = seen.map((e) => e.revision);
      expect(revs).toEqual([...revs].sort((x, y) => x - y));
      expect(store.stats.watchResumes).toBeGreaterThanOrEqual(1);
      expect(store.stats.watchStreams).toBeGreaterThanOrEqual(2);
      expect(error).toBeUndefined();
      expect(w.active).toBe(true);
      w.cancel();
    });

    it('resumes a watch cut off in the middle of replaying history without losing the rest', async () => {
      const ns = freshNamespace();
      const { store, proxy: p } = await openStore({ namespace: ns });
      const first = await store.put('h/0', '0');
      // etcd replays at most 1000 revisions per watch response: 1200 revisions of history take two.
      const total = 1200;
      let written = 1;
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          while (written < total) {
            const i = written++;
            await admin!.kv.put({ key: b(`${ns}h/${i % 13}`), value: b(String(i)) });
          }
        }),
      );
      const batches: WatchEvent[][] = [];
      const w = await store.watch(
        'h/',
        (events) => {
          batches.push([...events]);
          if (batches.length === 1) p.cut(); // right after the first part of the history
        },
        { fromRevision: first.revision },
      );
      await until(() => batches.flat().length >= total, `all ${total} events of history`, 30_000);
      await new Promise((r) => setTimeout(r, 100));
      expect(batches[0]!.length).toBeLessThan(total);
      const revs = batches.flat().map((e) => e.revision);
      expect(revs).toEqual(Array.from({ length: total }, (_, i) => first.revision + i));
      expect(store.stats.watchResumes).toBeGreaterThanOrEqual(1);
      w.cancel();
    });

    it('ends with WatchCompactedError through onError when its resume revision was compacted while disconnected', async () => {
      const ns = freshNamespace();
      const { store, proxy: p } = await openStore({ namespace: ns });
      const seen: WatchEvent[] = [];
      const errors: unknown[] = [];
      const w = await store.watch('c/', (e) => seen.push(...e), { onError: (e) => errors.push(e) });
      const last = await store.put('c/1', 'a');
      await until(() => seen.length === 1, 'the first event');
      p.mode = 'reject';
      p.cut();
      await admin!.kv.put({ key: b(`${ns}c/2`), value: b('b') });
      await admin!.kv.put({ key: b(`${ns}c/3`), value: b('c') });
      const compactedAt = await compactAll();
      p.mode = 'pass';
      await until(() => errors.length > 0, 'onError');
      expect(errors).toHaveLength(1);
      expect(isWeftError(errors[0], 'WatchCompactedError')).toBe(true);
      expect(errors[0]).toMatchObject({ requestedRevision: last.revision + 1, compactRevision: compactedAt - 1 });
      expect(w.active).toBe(false);
      expect(seen).toHaveLength(1);
    });

    it('a quiet watch follows etcd\'s progress notifications, so a compaction while it is disconnected does not end it', async () => {
      const ns = freshNamespace();
      const { store, proxy: p } = await openStore({ namespace: ns });
      const seen: WatchEvent[] = [];
      const errors: unknown[] = [];
      const w = await store.watch('quiet/', (e) => seen.push(...e), { onError: (e) => errors.push(e) });
      // Writes outside the watch move the revision on.
      for (let i = 0; i < 5; i++) await admin!.kv.put({ key: b(`${ns}busy`), value: b(String(i)) });
      const after = store.stats.progressNotices;
      // Two notifications later, one was surely sent after the last write.
      await until(() => store.stats.progressNotices >= after + 2, 'two progress notifications');
      p.mode = 'reject';
      p.cut();
      await compactAll();
      p.mode = 'pass';
      for (let attempt = 0; ; attempt++) {
        try {
          await store.put('quiet/x', 'x');
          break;
        } catch (err) {
          if (!isWeftError(err, 'StoreUnavailableError') || attempt > 100) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await until(() => seen.length === 1 || errors.length > 0, 'the event after the resume');
      expect(errors).toEqual([]);
      expect(seen.map((e) => e.kv.key)).toEqual(['quiet/x']);
      expect(store.stats.watchResumes).toBeGreaterThanOrEqual(1);
      w.cancel();
    });

    it('a watch from a compacted revision rejects (with etcd\'s compact revision) instead of resolving', async () => {
      const { store } = await openStore();
      const first = await store.put('x', '1');
      await store.put('x', '2');
      const compactedAt = await compactAll();
      const err = await store.watch('x', () => undefined, { fromRevision: first.revision }).then(
        (w) => {
          w.cancel();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(isWeftError(err, 'WatchCompactedError')).toBe(true);
      expect(err).toMatchObject({ requestedRevision: first.revision, compactRevision: compactedAt - 1 });
      // etcd keeps the compaction revision itself: a watch from there is fine.
      const ok = await store.watch('x', () => undefined, { fromRevision: compactedAt });
      ok.cancel();
    });

    it('a listener that throws ends its watch through onError with that error; other watches go on', async () => {
      const { store } = await openStore();
      const boom = new Error('listener failed');
      let error: unknown;
      let calls = 0;
      const bad = await store.watch(
        'l/',
        () => {
          calls += 1;
          throw boom;
        },
        { onError: (e) => (error = e) },
      );
      const seen: WatchEvent[] = [];
      const good = await store.watch('l/', (e) => seen.push(...e));
      await store.put('l/1', '1');
      await store.put('l/2', '2');
      await until(() => seen.length === 2 && error !== undefined, 'the good watch to see both, the bad one to fail');
      expect(error).toBe(boom);
      expect(calls).toBe(1);
      expect(bad.active).toBe(false);
      expect(good.active).toBe(true);
      good.cancel();
    });

    it('close() ends watches without onError and rejects a watch being established', async () => {
      const { store } = await openStore();
      let error: unknown;
      const w = await store.watch('z/', () => undefined, { onError: (e) => (error = e) });
      await store.close();
      expect(w.active).toBe(false);
      expect(error).toBeUndefined();
      await expect(store.watch('z/', () => undefined)).rejects.toMatchObject({ name: 'StoreClosedError' });
    });
  });

  describe('errors', () => {
    it('etcd hung: a write times out with outcomeUnknown, a read without', async () => {
      const { store, proxy: p } = await openStore({ requestTimeoutMs: 600 });
      await store.put('k', 'v'); // the connection is up
      p.mode = 'stall';
      const put = await store.put('k', 'w').catch((e: unknown) => e);
      expect(put).toMatchObject({ name: 'StoreUnavailableError', outcomeUnknown: true });
      expect((put as Error).message).toMatch(/etcd put failed \(request timeout 600 ms\)/);
      const get = await store.get('k').catch((e: unknown) => e);
      expect(get).toMatchObject({ name: 'StoreUnavailableError', outcomeUnknown: false });
      const txn = await store.txn({ success: [kv.get('k')] }).catch((e: unknown) => e);
      expect(txn).toMatchObject({ name: 'StoreUnavailableError', outcomeUnknown: false });
      p.mode = 'pass';
      p.cut();
      await until(() => store.currentRevision().then(() => true, () => false), 'etcd to answer again');
    });

    it('etcd unreachable: connect() rejects, and even a write fails with outcome known (it never left the client)', async () => {
      const p = await proxy();
      p.mode = 'reject';
      await expect(EtcdStore.connect({ endpoints: [p.url], requestTimeoutMs: 500 })).rejects.toMatchObject({ name: 'StoreUnavailableError', outcomeUnknown: false });
      const store = new EtcdStore({ endpoints: [p.url], requestTimeoutMs: 500 });
      cleanup.push(() => store.close());
      await expect(store.put('k', 'v')).rejects.toMatchObject({ name: 'StoreUnavailableError', outcomeUnknown: false });
      await expect(store.watch('k', () => undefined)).rejects.toMatchObject({ name: 'StoreUnavailableError' });
      expect(store.stats.retries).toBeGreaterThan(0);
      // Once etcd is reachable again, the same store works.
      p.mode = 'pass';
      await until(() => store.currentRevision().then(() => true, () => false), 'etcd to answer again');
      expect((await store.put('k', 'v')).revision).toBeGreaterThan(0);
    });

    it('a write whose connection is cut while it waits for the answer rejects with outcomeUnknown; a read is re-sent', async () => {
      const { store, proxy: p } = await openStore();
      await store.put('k', 'v'); // the connection is up
      p.mode = 'stall'; // the requests leave the client but get no answer
      const put = store.put('k', 'w').then(
        () => undefined,
        (e: unknown) => e,
      );
      const get = store.get('k');
      await new Promise((r) => setTimeout(r, 200));
      p.mode = 'pass';
      p.cut();
      expect(await put).toMatchObject({ name: 'StoreUnavailableError', outcomeUnknown: true });
      // The read was retried on a new connection and answered (the stalled put never reached etcd).
      expect(textOf((await get)!)).toBe('v');
      expect(store.stats.retries).toBeGreaterThan(0);
    });

    it('requests etcd refuses reject with EtcdRequestRefusedError, never a raw gRPC error', async () => {
      const { store } = await openStore();
      const dup = await store.txn({ success: [kv.put('d', '1'), kv.put('d', '2')] }).catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(EtcdRequestRefusedError);
      expect(dup).toMatchObject({ name: 'EtcdRequestRefusedError', operation: 'txn', grpcCode: 3 });
      expect((dup as Error).message).toMatch(/duplicate key given in txn request/);
      const bare = new EtcdStore({ endpoints: [server!.clientUrl] });
      cleanup.push(() => bare.close());
      await expect(bare.put('', 'no empty key outside a namespace')).rejects.toMatchObject({ name: 'EtcdRequestRefusedError', reason: expect.stringMatching(/key is not provided/) });
      // Over etcd's --max-request-bytes (1.5 MiB): etcd refuses; over its gRPC limit (+512 KiB): gRPC refuses before etcd sees it.
      await expect(store.put('huge', new Uint8Array(1700 * 1024))).rejects.toMatchObject({ name: 'EtcdRequestRefusedError', reason: expect.stringMatching(/request is too large/) });
      await expect(store.put('huge', new Uint8Array(3 << 20))).rejects.toMatchObject({ name: 'EtcdRequestRefusedError', reason: expect.stringMatching(/larger than max/) });
      expect(await store.get('huge')).toBeUndefined();
    });

    it('after close every request rejects with StoreClosedError, including those in flight', async () => {
      const { store, proxy: p } = await openStore({ requestTimeoutMs: 5000 });
      await store.put('k', 'v');
      p.mode = 'stall';
      const inFlight = store.get('k');
      await new Promise((r) => setTimeout(r, 50));
      await store.close();
      await expect(inFlight).rejects.toMatchObject({ name: 'StoreClosedError' });
      await expect(store.range({ prefix: '' })).rejects.toMatchObject({ name: 'StoreClosedError' });
      await expect(store.txn({})).rejects.toMatchObject({ name: 'StoreClosedError' });
      await expect(store.delete('k')).rejects.toMatchObject({ name: 'StoreClosedError' });
      await store.close();
    });
  });

  describe('construction', () => {
    it('uses a client passed in, in a namespace, and leaves it open on close()', async () => {
      const client = new Etcd3({ hosts: server!.clientUrl });
      cleanup.push(() => client.close());
      const ns = freshNamespace();
      const store = new EtcdStore({ client, namespace: ns });
      await store.put('mine', 'yes');
      await store.close();
      const raw = await client.kv.range({ key: b(`${ns}mine`) });
      expect(raw.kvs[0]?.value.toString()).toBe('yes');
    });

    it('accepts endpoints as URLs or socket addresses, and connect() checks etcd answers', async () => {
      const store = await EtcdStore.connect({ endpoints: [{ host: '127.0.0.1', port: server!.port }], namespace: freshNamespace() });
      cleanup.push(() => store.close());
      expect((await store.put('a', 'b')).revision).toBeGreaterThan(0);
    });

    it('refuses bad options with InvalidOptionsError naming the field', () => {
      const bad = (options: unknown, field: string): void => {
        expect(() => new EtcdStore(options as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field }));
      };
      bad({}, 'endpoints');
      bad({ endpoints: [] }, 'endpoints');
      bad({ endpoints: ['127.0.0.1:2379'] }, 'endpoints.0');
      bad({ endpoints: ['http://127.0.0.1:0'] }, 'endpoints.0');
      bad({ endpoints: ['https://127.0.0.1:2379'] }, 'endpoints.0');
      bad({ endpoints: [{ host: '127.0.0.1', port: 70000 }] }, 'endpoints.0.port');
      bad({ endpoints: ['http://127.0.0.1:2379'], requestTimeoutMs: 0 }, 'requestTimeoutMs');
      bad({ endpoints: ['http://127.0.0.1:2379'], namespace: 7 }, 'namespace');
      bad({ endpoints: ['http://127.0.0.1:2379'], namepsace: 'typo/' }, 'namepsace');
      bad({ client: {} }, 'client');
      const client = new Etcd3({ hosts: 'http://127.0.0.1:1' });
      try {
        bad({ client: client.namespace('ns/') }, 'client');
        bad({ client, endpoints: ['http://127.0.0.1:2379'] }, 'client');
      } finally {
        client.close();
      }
    });
  });
});
