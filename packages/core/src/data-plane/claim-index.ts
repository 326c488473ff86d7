/**
 * Which ids claim each value (a MAC or an IP), in the order they claimed it:
 * O(1) lookups for the plane's conflict checks and "newest claimer" rules,
 * where a scan of every endpoint would make each call O(n). A value almost
 * always has one claimer, kept as a plain string (no array per entry).
 */
export class ClaimIndex {
  private readonly claims = new Map<string, string | string[]>();

  /** Records that `id` claims `value` now (the newest claim: moved to the end if it already claimed it). */
  claim(value: string, id: string): void {
    const cur = this.claims.get(value);
    if (cur === undefined || cur === id) {
      this.claims.set(value, id);
      return;
    }
    const list = typeof cur === 'string' ? [cur] : cur;
    const i = list.indexOf(id);
    if (i >= 0) list.splice(i, 1);
    list.push(id);
    this.claims.set(value, list);
  }

  /** Drops `id`'s claim on `value`. */
  release(value: string, id: string): void {
    const cur = this.claims.get(value);
    if (cur === undefined) return;
    if (typeof cur === 'string') {
      if (cur === id) this.claims.delete(value);
      return;
    }
    const i = cur.indexOf(id);
    if (i >= 0) cur.splice(i, 1);
    if (cur.length === 1) this.claims.set(value, cur[0]!);
    else if (cur.length === 0) this.claims.delete(value);
  }

  /** The newest claimer of `value`. */
  newest(value: string): string | undefined {
    const cur = this.claims.get(value);
    return typeof cur === 'string' ? cur : cur?.[cur.length - 1];
  }

  /** A claimer of `value` other than `except`, if any. */
  other(value: string, except?: string): string | undefined {
    const cur = this.claims.get(value);
    if (cur === undefined) return undefined;
    if (typeof cur === 'string') return cur === except ? undefined : cur;
    return cur.find((id) => id !== except);
  }

  clear(): void {
    this.claims.clear();
  }
}
