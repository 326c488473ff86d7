/** The largest VNI (24 bits). */
export const MAX_VNI = 0xffffff;

/**
 * The next VNI to hand out, serially: the first one after `cursor` that is
 * not in use, wrapping from {@link MAX_VNI} back to `start`. Serial like
 * Swarm's VNI allocator, so a VNI freed by a removed network is not reused
 * at once (a peer with stale state would deliver into the new network).
 * @returns undefined when every VNI from `start` on is in use.
 */
export function nextVni(cursor: number | undefined, start: number, inUse: ReadonlySet<number>): number | undefined {
  const span = MAX_VNI - start + 1;
  let v = cursor === undefined || cursor < start || cursor >= MAX_VNI ? start : cursor + 1;
  for (let i = 0; i < span; i++) {
    if (!inUse.has(v)) return v;
    v = v >= MAX_VNI ? start : v + 1;
  }
  return undefined;
}
