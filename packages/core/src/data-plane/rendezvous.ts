/**
 * Rendezvous (highest random weight) hashing of flows onto VIP backends
 * (Thaler & Ravishankar, 1998): every backend gets a pseudo-random weight
 * from (flow, backend) and the flow goes to the heaviest. Adding a backend
 * moves only the flows it now outweighs for (to itself); removing one moves
 * only its own flows; the choice depends on the set of candidates, never on
 * their order. Pure, allocation-free, 32-bit integer arithmetic.
 */

function mix(h: number, word: number): number {
  // murmur3's 32-bit block step (as vxlan's flow hash): every input bit spreads.
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit hash of a flow's 5-tuple: IP protocol, client address and port,
 * VIP and VIP port (addresses unsigned 32-bit).
 */
export function flowHash(protocol: number, clientIp: number, clientPort: number, vip: number, vipPort: number): number {
  let h = mix(0x5746_4c42, protocol);
  h = mix(h, clientIp);
  h = mix(h, vip);
  h = mix(h, ((clientPort & 0xffff) << 16) | (vipPort & 0xffff));
  return finish(h);
}

/** The weight of `backend` (unsigned 32-bit address) for the flow hashed to `flow`: distinct backends get distinct weights. */
export function rendezvousWeight(flow: number, backend: number): number {
  return finish(mix(mix(0x2f1d_9b3e, flow), backend));
}

/**
 * The backend of `candidates` (unsigned 32-bit addresses) with the highest
 * weight for `flow`, skipping `exclude`; ties (impossible between distinct
 * addresses, kept for safety) go to the higher address. -1 when there is no
 * candidate. Independent of the candidates' order.
 */
export function chooseBackend(flow: number, candidates: ArrayLike<number>, exclude = -1): number {
  let best = -1;
  let bestWeight = -1;
  for (let i = 0; i < candidates.length; i++) {
    const b = candidates[i]!;
    if (b === exclude) continue;
    const w = rendezvousWeight(flow, b);
    if (w > bestWeight || (w === bestWeight && b > best)) {
      best = b;
      bestWeight = w;
    }
  }
  return best;
}
