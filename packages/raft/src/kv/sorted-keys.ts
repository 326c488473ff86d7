import type { KeySelector } from '@weft/interface';

/** Keys per chunk before it is split in two. */
const MAX_CHUNK = 1024;

/**
 * The store's keys in UTF-16 code unit order: a list of sorted chunks (each
 * at most {@link MAX_CHUNK} keys, none empty), so an insert or a remove moves
 * at most a chunk's worth of entries instead of the whole key set — O(√n)-ish
 * rather than O(n) for a store of many keys — and lookups stay binary
 * searches.
 */
export class SortedKeys {
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Index of the first chunk whose last key is ≥ `key` (chunks.length when none). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid] as string[];
      if ((c[c.length - 1] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position in `chunk` whose key is ≥ `key`. */
  private static lowerBound(chunk: readonly string[], key: string): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((chunk[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count = 1;
      return;
    }
    let ci = this.chunkFor(key);
    if (ci === this.chunks.length) ci -= 1; // after every key: append to the last chunk
    const chunk = this.chunks[ci] as string[];
    const i = SortedKeys.lowerBound(chunk, key);
    if (chunk[i] === key) return;
    chunk.splice(i, 0, key);
    this.count += 1;
    if (chunk.length > MAX_CHUNK) this.chunks.splice(ci + 1, 0, chunk.splice(chunk.length >>> 1));
  }

  remove(key: string): void {
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci];
    if (chunk === undefined) return;
    const i = SortedKeys.lowerBound(chunk, key);
    if (chunk[i] !== key) return;
    chunk.splice(i, 1);
    this.count -= 1;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  /** Calls `visit` for every key from the first ≥ `from` on, in order, until it returns false. */
  private walk(from: string, visit: (key: string) => boolean): void {
    let ci = this.chunkFor(from);
    if (ci === this.chunks.length) return;
    let i = SortedKeys.lowerBound(this.chunks[ci] as string[], from);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci] as string[];
      for (; i < chunk.length; i++) if (!visit(chunk[i] as string)) return;
    }
  }

  /** The selected keys in order (a new array, safe to iterate while mutating the store). */
  select(sel: KeySelector): string[] {
    if ('key' in sel) {
      const chunk = this.chunks[this.chunkFor(sel.key)];
      return chunk !== undefined && chunk[SortedKeys.lowerBound(chunk, sel.key)] === sel.key ? [sel.key] : [];
    }
    const out: string[] = [];
    if ('prefix' in sel) {
      this.walk(sel.prefix, (k) => k.startsWith(sel.prefix) && out.push(k) > 0);
      return out;
    }
    this.walk(sel.start, (k) => (sel.end === undefined || k < sel.end) && out.push(k) > 0);
    return out;
  }

  /** Every key in order (a new array). */
  all(): readonly string[] {
    return this.chunks.flat();
  }
}

/** Whether `key` falls in `sel`. */
export function selects(sel: KeySelector, key: string): boolean {
  if ('key' in sel) return key === sel.key;
  if ('prefix' in sel) return key.startsWith(sel.prefix);
  return key >= sel.start && (sel.end === undefined || key < sel.end);
}
