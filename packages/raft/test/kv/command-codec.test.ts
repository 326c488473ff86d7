import fc from 'fast-check';
import { cmp, kv, type StoreRequest, type TxnOp } from '@weft/interface';
import { decodeKvRequest, encodeKvRequest, InvalidKvRequestError, KvCommandError, KvStore } from '../../src/kv';

describe('KV command codec', () => {
  it('pins the byte layout of a put (format stability)', () => {
    // version 1, tag 2 (put), key "ab" (len 2), value [0xff] (len 1), flags 1 (prevKv)
    expect(Buffer.from(encodeKvRequest(kv.put('ab', new Uint8Array([0xff]), { prevKv: true }))).toString('hex')).toBe(
      '010202616201ff01',
    );
    // version 1, tag 1 (range), selector 1 (prefix) "n/", limit 300 as LEB128 (ac 02)
    expect(Buffer.from(encodeKvRequest(kv.prefix('n/', { limit: 300 }))).toString('hex')).toBe('010101026e2fac02');
  });

  it('round-trips every request kind', () => {
    const reqs: StoreRequest[] = [
      kv.get('k'),
      kv.prefix('p/', { limit: 3 }),
      kv.range({ start: 'a', end: 'b' }),
      kv.range({ start: 'a' }),
      kv.put('k', 'v'),
      kv.put('ключ', new Uint8Array([0, 1, 2]), { prevKv: true }),
      kv.delete('k'),
      kv.delete({ prefix: '' }, { prevKv: true }),
      kv.txn({
        compare: [cmp.value('a', 'equal', 'x'), cmp.version('b', 'greater', 2 ** 40), cmp.createRevision('c', 'less', 0), cmp.modRevision('d', 'notEqual', 7)],
        success: [kv.put('a', 'y'), kv.get('b')],
        failure: [kv.delete({ start: 'a', end: 'z' })],
      }),
    ];
    for (const r of reqs) expect(decodeKvRequest(encodeKvRequest(r))).toEqual(r);
  });

  it('round-trips random requests (fast-check)', () => {
    const key = fc.string({ minLength: 1, maxLength: 6 });
    const bound = fc.string({ maxLength: 6 });
    const sel = fc.oneof(
      key.map((k) => ({ key: k })),
      bound.map((p) => ({ prefix: p })),
      fc.record({ start: bound, end: bound }),
      fc.record({ start: bound }),
    );
    const op: fc.Arbitrary<TxnOp> = fc.oneof(
      fc.record({ keys: sel, limit: fc.nat() }).map(({ keys, limit }) => kv.range(keys, { limit })),
      fc.record({ k: key, v: fc.uint8Array({ maxLength: 8 }), p: fc.boolean() }).map(({ k, v, p }) => kv.put(k, v, { prevKv: p })),
      fc.record({ keys: sel, p: fc.boolean() }).map(({ keys, p }) => kv.delete(keys, { prevKv: p })),
    );
    const req: fc.Arbitrary<StoreRequest> = fc.oneof(
      op,
      fc.record({ s: fc.array(op, { maxLength: 3 }), f: fc.array(op, { maxLength: 3 }), k: key, n: fc.maxSafeNat() }).map(({ s, f, k, n }) =>
        kv.txn({ compare: [cmp.version(k, 'equal', n)], success: s, failure: f }),
      ),
    );
    fc.assert(fc.property(req, (r) => expect(decodeKvRequest(encodeKvRequest(r))).toEqual(r)), { numRuns: 500 });
  });

  it('rejects malformed bytes with KvCommandError naming the problem and offset', () => {
    const good = encodeKvRequest(kv.put('k', 'v'));
    expect(() => decodeKvRequest(good.subarray(0, good.length - 1))).toThrow(KvCommandError);
    expect(() => decodeKvRequest(new Uint8Array([...good, 0]))).toThrow(/trailing bytes .*at byte 7/);
    expect(() => decodeKvRequest(new Uint8Array([2, 1]))).toThrow(/unsupported command version 2/);
    expect(() => decodeKvRequest(new Uint8Array([1, 9]))).toThrow(/unknown op tag 9/);
    expect(() => decodeKvRequest(new Uint8Array([1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/longer than 8 bytes/);
    expect(() => decodeKvRequest(new Uint8Array([1, 2, 5, 0x61]))).toThrow(/length 5 exceeds/);
    expect(() => decodeKvRequest(new Uint8Array([1, 2, 1, 0xff, 0, 0]))).toThrow(/invalid UTF-8/);
    expect(() => decodeKvRequest(new Uint8Array([1, 2, 0, 0, 0]))).toThrow(/empty key/);
  });

  it('never lets garbage throw out of KvStore.apply (an error result, store unchanged)', () => {
    const s = new KvStore();
    s.apply(encodeKvRequest(kv.put('a', '1')), 1);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        const before = s.snapshot();
        const r = s.apply(bytes, 2);
        if (r.op === 'error') {
          expect(r.error.name).toBe('KvCommandError');
          expect(Buffer.from(s.snapshot()).equals(Buffer.from(before))).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects bad request objects with InvalidKvRequestError naming the field', () => {
    expect(() => encodeKvRequest(kv.prefix('p', { limit: -1 }))).toThrow(InvalidKvRequestError);
    expect(() => encodeKvRequest(kv.put('', 'v'))).toThrow(/request\.key must not be empty/);
    expect(() => encodeKvRequest(kv.get(''))).toThrow(/request\.keys\.key must not be empty/);
    expect(encodeKvRequest(kv.prefix(''))).toBeInstanceOf(Uint8Array); // an empty prefix selects every key
    expect(() => encodeKvRequest(kv.txn({ compare: [cmp.version('k', 'equal', 1.5)] }))).toThrow(/compare\[0\]\.value must be a non-negative safe integer, got 1.5/);
    expect(() => encodeKvRequest({ op: 'put', key: 'k', value: 'v' as unknown as Uint8Array })).toThrow(/request\.value must be a Uint8Array/);
    expect(() => encodeKvRequest(kv.txn({ success: [{ op: 'txn' } as unknown as TxnOp] }))).toThrow(/success\[0\]\.op must be range, put or delete/);
  });
});

describe('decoded values are copies', () => {
  it('a value decoded from a Buffer is a plain Uint8Array that does not share its memory', () => {
    const encoded = Buffer.from(encodeKvRequest(kv.put('k', new Uint8Array([1, 2, 3]))));
    const decoded = decodeKvRequest(encoded);
    if (decoded.op !== 'put') throw new Error('expected a put');
    expect(Object.getPrototypeOf(decoded.value)).toBe(Uint8Array.prototype);
    encoded.fill(0);
    expect(Array.from(decoded.value)).toEqual([1, 2, 3]);
  });
});
