import { ClaimIndex } from '../../src/data-plane/claim-index';

describe('ClaimIndex', () => {
  it('keeps claims in order, the newest last, through claims, re-claims and releases', () => {
    const c = new ClaimIndex();
    expect(c.newest('ip')).toBeUndefined();
    c.claim('ip', 'a');
    expect(c.newest('ip')).toBe('a');
    expect(c.other('ip', 'a')).toBeUndefined();
    expect(c.other('ip')).toBe('a');
    c.claim('ip', 'b');
    expect(c.newest('ip')).toBe('b');
    expect(c.other('ip', 'b')).toBe('a');
    c.claim('ip', 'a'); // re-claimed: newest again
    expect(c.newest('ip')).toBe('a');
    c.release('ip', 'a');
    expect(c.newest('ip')).toBe('b');
    c.release('ip', 'b');
    expect(c.newest('ip')).toBeUndefined();
    c.release('ip', 'b'); // nothing to release
    c.claim('mac', 'x');
    c.clear();
    expect(c.newest('mac')).toBeUndefined();
  });
});
