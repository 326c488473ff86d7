import type { KeySelector } from '@weft/interface';

/** An etcd key interval: `[key, rangeEnd)`, or just `key` when `rangeEnd` is undefined (etcd's encoding). */
export interface EtcdRange {
  readonly key: Buffer;
  readonly rangeEnd?: Buffer;
}

/** etcd's "to the end of the key space" range end (and, with key `\0`, "every key"). */
const ZERO = Buffer.from([0]);

/** The smallest key after every key starting with `prefix` (etcd's prefix range end); `\0` when there is none. */
export function prefixEnd(prefix: Uint8Array): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return ZERO;
}

/**
 * Maps the store's string keys into one etcd key space: UTF-8 bytes behind an
 * optional namespace prefix, and back. Key order is etcd's, bytewise on UTF-8
 * (code point order), which equals the store's UTF-16 order except between
 * astral characters and U+E000–U+FFFF.
 */
export class KeySpace {
  /** The namespace as bytes (empty: the whole etcd key space). */
  readonly prefix: Buffer;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(namespace: string) {
    this.prefix = Buffer.from(namespace, 'utf8');
  }

  /** The etcd key of a store key. */
  key(key: string): Buffer {
    const bytes = Buffer.from(key, 'utf8');
    return this.prefix.length === 0 ? bytes : Buffer.concat([this.prefix, bytes]);
  }

  /** The etcd range a selector covers, within the namespace. */
  range(keys: KeySelector): EtcdRange {
    if ('key' in keys) return { key: this.key(keys.key) };
    if ('prefix' in keys) {
      const start = this.key(keys.prefix);
      return start.length === 0 ? { key: ZERO, rangeEnd: ZERO } : { key: start, rangeEnd: prefixEnd(start) };
    }
    let start = this.key(keys.start);
    if (start.length === 0) start = ZERO; // etcd has no empty key; "\0" is the smallest
    if (keys.end === undefined) return { key: start, rangeEnd: this.prefix.length === 0 ? ZERO : prefixEnd(this.prefix) };
    const end = this.key(keys.end);
    // An empty range end would mean "just the key" to etcd; [start, "") selects nothing, as [k, k) does.
    return end.length === 0 ? { key: start, rangeEnd: start } : { key: start, rangeEnd: end };
  }

  /**
   * The store key of an etcd key etcd returned for a request in this
   * namespace. Bytes that are not UTF-8 (written by something else) decode
   * with U+FFFD replacements.
   */
  keyOf(raw: Uint8Array): string {
    const n = this.prefix.length;
    if (n > 0 && (raw.length < n || Buffer.compare(this.prefix, raw.subarray(0, n)) !== 0)) {
      // etcd only returns keys inside the requested range: this is a bug, not an input error.
      throw new Error(`etcd store: key ${JSON.stringify(Buffer.from(raw).toString('utf8'))} is outside namespace ${JSON.stringify(this.prefix.toString('utf8'))}`);
    }
    return this.decoder.decode(raw.subarray(n));
  }
}
