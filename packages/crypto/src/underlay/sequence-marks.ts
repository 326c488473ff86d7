import { InvalidOptionsError } from '@weft/interface';

/** The highest sequence number accepted from a peer in one of its epochs. */
interface ReceivedMark {
  readonly epoch: string;
  readonly highest: number;
}

const markKey = (generation: number, peerId: string): string => `${generation} ${peerId}`;

/**
 * How far the security associations of an `EncryptedUnderlay` got, kept
 * beyond the SAs themselves: per (generation, peer), the highest sequence
 * number sent, and the highest accepted from the peer in its current epoch.
 *
 * An SA's key is fixed by (secret, suite, generation, both node ids, both
 * epochs), and its IV is its sequence number. When a peer is removed and
 * added again, changes address, or its network is taken down and brought
 * back on the same node (a new `EncryptedUnderlay`, the same epoch, the same
 * keys), a fresh outbound SA resumes after the mark instead of at 1 — so no
 * (key, IV) pair is ever used twice — and a fresh inbound SA refuses
 * everything at or below the mark, so packets captured before are not
 * accepted again.
 *
 * Every `EncryptedUnderlay` has marks of its own by default. Pass one
 * `SequenceMarks` to each successive `EncryptedUnderlay` of the same network
 * on the same node and epoch (the option `sequenceMarks`) to carry them
 * across. One open underlay at a time may use it (it is claimed by the
 * constructor and released by `close()`); it belongs to one node id and
 * epoch. Marks are recorded when an SA is dropped (peer removed or replaced,
 * a generation activated, the underlay closed) and forgotten when the
 * generation is retired — a retired generation never sends again (a
 * `KeyRing` only moves forward; across rings sharing these marks the control
 * plane must, and the claim refuses a ring whose send generation was retired here).
 * Memory: one entry per (live generation, peer ever registered) and direction.
 */
export class SequenceMarks {
  private readonly sentMarks = new Map<string, number>();
  private readonly receivedMarks = new Map<string, ReceivedMark>();
  private retiredMax = -1;
  private owner: object | undefined;
  private identity: { readonly localId: string; readonly localEpoch: string } | undefined;

  /** Highest sequence number sent to `peerId` under `generation` (0: none recorded). */
  sent(generation: number, peerId: string): number {
    return this.sentMarks.get(markKey(generation, peerId)) ?? 0;
  }

  /** Highest sequence number accepted from `peerId` in its epoch `peerEpoch` under `generation` (0: none recorded, or only in another epoch). */
  received(generation: number, peerId: string, peerEpoch: string): number {
    const m = this.receivedMarks.get(markKey(generation, peerId));
    return m !== undefined && m.epoch === peerEpoch ? m.highest : 0;
  }

  /** How many marks are held (both directions). */
  get size(): number {
    return this.sentMarks.size + this.receivedMarks.size;
  }

  /** The newest generation retired while these marks were in use, or undefined: no generation up to it may send with them again (the claim refuses such a key ring). */
  get retiredThrough(): number | undefined {
    return this.retiredMax < 0 ? undefined : this.retiredMax;
  }

  /** True while an open `EncryptedUnderlay` uses these marks. */
  get claimed(): boolean {
    return this.owner !== undefined;
  }

  /** @internal Raises the sent mark of (generation, peer) to `highest`. */
  recordSent(generation: number, peerId: string, highest: number): void {
    if (highest <= 0) return;
    const k = markKey(generation, peerId);
    if (highest > (this.sentMarks.get(k) ?? 0)) this.sentMarks.set(k, highest);
  }

  /** @internal Records the received mark of (generation, peer) in `peerEpoch`; a new epoch replaces the old one's. */
  recordReceived(generation: number, peerId: string, peerEpoch: string, highest: number): void {
    const k = markKey(generation, peerId);
    const m = this.receivedMarks.get(k);
    if (m !== undefined && m.epoch === peerEpoch && m.highest >= highest) return;
    if (highest <= 0) this.receivedMarks.delete(k);
    else this.receivedMarks.set(k, { epoch: peerEpoch, highest });
  }

  /** @internal Forgets every mark of `generation` (retired: it never seals or opens again). */
  retire(generation: number): void {
    const prefix = `${generation} `;
    for (const k of this.sentMarks.keys()) if (k.startsWith(prefix)) this.sentMarks.delete(k);
    for (const k of this.receivedMarks.keys()) if (k.startsWith(prefix)) this.receivedMarks.delete(k);
    if (generation > this.retiredMax) this.retiredMax = generation;
  }

  /**
   * @internal Called by the `EncryptedUnderlay` constructor.
   * @throws InvalidOptionsError (`field` `sequenceMarks`) when another open underlay holds them, they belong to
   * another node id or epoch, or `sendGeneration` was retired here.
   */
  claim(owner: object, localId: string, localEpoch: string, sendGeneration: number): void {
    const refuse = (problem: string): InvalidOptionsError => new InvalidOptionsError('sequenceMarks', `EncryptedUnderlay: option "sequenceMarks" ${problem}`);
    if (this.owner !== undefined && this.owner !== owner) throw refuse('are used by another open EncryptedUnderlay; close it first');
    const id = this.identity;
    if (id !== undefined && (id.localId !== localId || id.localEpoch !== localEpoch)) {
      throw refuse(`belong to node ${JSON.stringify(id.localId)} in epoch ${id.localEpoch} (got node ${JSON.stringify(localId)} in epoch ${localEpoch})`);
    }
    if (sendGeneration <= this.retiredMax) {
      throw refuse(`retired generation ${this.retiredMax}, so they cannot vouch for send generation ${sendGeneration} (got a key ring sending with ${sendGeneration})`);
    }
    this.owner = owner;
    this.identity = { localId, localEpoch };
  }

  /** @internal Called by `EncryptedUnderlay.close()` after it recorded its marks. */
  release(owner: object): void {
    if (this.owner === owner) this.owner = undefined;
  }
}
