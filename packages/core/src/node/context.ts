import { createHash, randomBytes as nodeRandomBytes, randomFillSync } from 'node:crypto';
import type { Store } from '@weft/interface';
import type { KeyLayout } from '../records/keys';

/** What the control-plane services share on one node. */
export interface CoreContext {
  /** The shared state. */
  readonly store: Store;
  /** Where records live in it. */
  readonly keys: KeyLayout;
  /** This node's id. */
  readonly nodeId: string;
  /** Wall-clock milliseconds, for `createdAt` fields and rotation intervals (injectable). */
  readonly now: () => number;
  /** Cryptographically strong random bytes, for ids and network secrets (injectable for replayable tests). */
  readonly randomBytes: (length: number) => Uint8Array;
}

const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let poolOffset = 0;

/**
 * Default random source: node:crypto's CSPRNG. Small requests (ids: one per
 * attach) are served from a 4 KiB buffer refilled by one `randomFillSync`,
 * as Node's own `randomUUID` does, because a system call per 16 bytes costs
 * more than the rest of an id; bytes handed out are zeroed in the buffer.
 */
export const cryptoRandomBytes = (length: number): Uint8Array => {
  if (length > 256) return new Uint8Array(nodeRandomBytes(length));
  if (poolOffset + length > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_BYTES));
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + length);
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
  return out;
};

/** 16 bytes as a 25-character lowercase base-36 id (Swarm's ids are 25 characters of [0-9a-z]). */
function idOf(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes.subarray(0, 16)) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(25, '0').slice(-25);
}

/** A fresh random id (25 characters of [0-9a-z]). */
export function newId(ctx: Pick<CoreContext, 'randomBytes'>): string {
  return idOf(ctx.randomBytes(16));
}

/**
 * The id an attach request gets on a network: derived (SHA-256) from the
 * network id and the request id, so every try of one request names the same
 * endpoint key — the txn's "endpoint missing" compare is the idempotency
 * check, and a retry finds the endpoint an earlier try created.
 */
export function endpointIdFor(networkId: string, requestId: string): string {
  return idOf(createHash('sha256').update(`weft/endpoint\0${networkId}\0${requestId}`).digest());
}
