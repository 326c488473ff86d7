import { randomBytes as nodeRandomBytes } from 'node:crypto';
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

/** Default random source: node:crypto. */
export const cryptoRandomBytes = (length: number): Uint8Array => new Uint8Array(nodeRandomBytes(length));

/** A 25-character lowercase base-36-ish id from 16 random bytes (Swarm's ids are 25 characters of [0-9a-z]). */
export function newId(ctx: Pick<CoreContext, 'randomBytes'>): string {
  const bytes = ctx.randomBytes(16);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(25, '0').slice(-25);
}
