/**
 * Which ids claim each value (a MAC or an IP), in the order they claimed it:
 * O(1) lookups for the plane's conflict checks and "newest claimer" rules,
 * where a scan of every endpoint would make each call O(n).
 */
export class ClaimIndex {
  private readonly claims = new Map<string, string[]>();

  /** Records that `id` claims `value` now (the newest claim: moved to the end if it already claimed it). */
  claim(value: string, id: string): void {
    const list = this.claims.get(value);
    if (list === undefined) {
      this.claims.set(value, [id]);
      return;
    }
    const i = list.indexOf(id);
    if (i >= 0) list.splice(i, 1);
    list.push(id);
  }

  /** Drops `id`'s claim on `value`. */
  release(value: string, id: string): void {
    const list = this.claims.get(value);
    if (list === undefined) return;
    const i = list.indexOf(id);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.claims.delete(value);
  }

  /** The newest claimer of `value`. */
  newest(value: string): string | undefined {
    const list = this.claims.get(value);
    return list === undefined ? undefined : list[list.length - 1];
  }

  /** A claimer of `value` other than `except`, if any. */
  other(value: string, except?: string): string | undefined {
    for (const id of this.claims.get(value) ?? []) if (id !== except) return id;
    return undefined;
  }

  clear(): void {
    this.claims.clear();
  }
}
