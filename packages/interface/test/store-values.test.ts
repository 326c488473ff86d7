import { MalformedPacketError, cmp, jsonBytes, jsonOf, kv, textOf, utf8, valueBytes } from '../src/index';

describe('store value helpers', () => {
  it('encodes and decodes text and JSON', () => {
    expect(textOf(utf8('héllo'))).toBe('héllo');
    expect(jsonOf<{ a: number[] }>(jsonBytes({ a: [1, 2] }))).toEqual({ a: [1, 2] });
    expect(jsonOf({ value: jsonBytes('x') })).toBe('x');
    const b = new Uint8Array([1, 2]);
    expect(valueBytes(b)).toBe(b);
  });

  it('throws MalformedPacketError for bytes that are not UTF-8 or not JSON', () => {
    expect(() => textOf(new Uint8Array([0xff, 0xfe]))).toThrow(MalformedPacketError);
    expect(() => jsonOf(utf8('{nope'))).toThrow(/json: value is not JSON/);
  });
});

describe('request builders', () => {
  it('build txn parts', () => {
    const t = kv.txn({ compare: [cmp.missing('a')], success: [kv.putJson('a', { n: 1 })], failure: [kv.get('a')] });
    expect(t.compare).toEqual([{ key: 'a', target: 'version', result: 'equal', value: 0 }]);
    expect(t.success[0]).toMatchObject({ op: 'put', key: 'a' });
    expect(jsonOf((t.success[0] as { value: Uint8Array }).value)).toEqual({ n: 1 });
    expect(kv.delete({ prefix: 'p/' }, { prevKv: true })).toEqual({ op: 'delete', keys: { prefix: 'p/' }, prevKv: true });
    expect(kv.range('k', { limit: 2 })).toEqual({ op: 'range', keys: { key: 'k' }, limit: 2 });
    expect(kv.txn({})).toEqual({ op: 'txn', compare: [], success: [], failure: [] });
  });
});
