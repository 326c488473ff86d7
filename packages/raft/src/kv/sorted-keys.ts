import type { KeySelector } from '@weft/interface';

/** The store's keys in UTF-16 code unit order, with binary search (O(log n) lookup, O(n) insert). */
export class SortedKeys {
  private keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** First position whose key is ≥ `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] !== key) this.keys.splice(i, 0, key);
  }

  remove(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }

  clear(): void {
    this.keys = [];
  }

  /** The selected keys in order (a new array, safe to iterate while mutating the store). */
  select(sel: KeySelector): string[] {
    if ('key' in sel) {
      const i = this.lowerBound(sel.key);
      return this.keys[i] === sel.key ? [sel.key] : [];
    }
    if ('prefix' in sel) {
      const out: string[] = [];
      for (let i = this.lowerBound(sel.prefix); i < this.keys.length; i++) {
        const k = this.keys[i] as string;
        if (!k.startsWith(sel.prefix)) break;
        out.push(k);
      }
      return out;
    }
    const out: string[] = [];
    for (let i = this.lowerBound(sel.start); i < this.keys.length; i++) {
      const k = this.keys[i] as string;
      if (sel.end !== undefined && k >= sel.end) break;
      out.push(k);
    }
    return out;
  }

  /** Every key in order (the internal array: do not mutate). */
  all(): readonly string[] {
    return this.keys;
  }
}

/** Whether `key` falls in `sel`. */
export function selects(sel: KeySelector, key: string): boolean {
  if ('key' in sel) return key === sel.key;
  if ('prefix' in sel) return key.startsWith(sel.prefix);
  return key >= sel.start && (sel.end === undefined || key < sel.end);
}
