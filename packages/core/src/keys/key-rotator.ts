import { cmp, kv } from '@weft/interface';
import { NetworkNotFoundError } from '../errors';
import type { CoreContext } from '../node/context';
import { encodeRecord, parseRecord, parseVersioned, type Versioned } from '../records/codec';
import { endpointRecordSchema, keyAckSchema, keysRecordSchema, networkRecordSchema, type KeysRecord } from '../records/schemas';
import { Conflict, retryConflicts } from '../store/retry';
import { NETWORK_SECRET_BYTES } from '../network/create-network';

/** Settings of a {@link KeyRotator}. */
export interface KeyRotatorSettings {
  /** Rotate every network's key this often (ms). */
  readonly intervalMs: number;
  /** Wait at most this long for every active node's acknowledgement of a phase (ms). */
  readonly ackTimeoutMs: number;
  /** After switching sending to the new key, wait this long before retiring the old one (ms). */
  readonly drainMs: number;
}

/** Counters of a {@link KeyRotator}. */
export interface KeyRotatorStats {
  /** Rotations completed. */
  rotations: number;
  /** Phases that went ahead without every active node's acknowledgement (a node was down or cut off). */
  ackTimeouts: number;
}

/**
 * Rotates encrypted networks' secrets in three phases, each written to the
 * network's key record with compare-and-set (so concurrent rotators cannot
 * both act), each started only once every node active on the network has
 * acknowledged the previous one (or `ackTimeoutMs` passed: a dead or cut-off
 * node catches up from the record when it returns — swarmkit#1954):
 * 1. install: a new generation is accepted for receiving everywhere;
 * 2. activate: everyone sends with it (then a drain pause for packets in flight);
 * 3. retire: the old generation is forgotten.
 * No node ever sends with a key another active node cannot open, so no
 * packet is lost to a rotation.
 */
export class KeyRotator {
  readonly stats: KeyRotatorStats = { rotations: 0, ackTimeouts: 0 };
  private timer: NodeJS.Timeout | undefined;
  private readonly active = new Map<string, Promise<number>>();
  private stopped = false;

  constructor(
    private readonly ctx: CoreContext,
    private readonly settings: KeyRotatorSettings,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Checks every `checkMs` whether a network's key is due (default: a tenth of the interval, at most 60 s). */
  start(checkMs = Math.min(60_000, Math.max(20, Math.floor(this.settings.intervalMs / 10)))): void {
    this.timer = setInterval(() => void this.rotateDue().catch((err: unknown) => this.onError(err)), checkMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.active.values()]);
  }

  /** Rotates every encrypted network whose last rotation is older than the interval. */
  async rotateDue(): Promise<void> {
    const r = await this.ctx.store.range({ prefix: `${this.ctx.keys.root}keys/` });
    const now = this.ctx.now();
    for (const x of r.kvs) {
      const rec = parseRecord(keysRecordSchema, x);
      if (rec === undefined || this.active.has(rec.networkId)) continue;
      if (rec.rotation !== undefined || now - rec.rotatedAtMs >= this.settings.intervalMs) {
        void this.rotate(rec.networkId).catch((err: unknown) => this.onError(err));
      }
    }
  }

  /**
   * Rotates one network's key now (or finishes a rotation in progress);
   * resolves with the new send generation once the old one is retired.
   * Concurrent calls for one network share one rotation.
   * @throws NetworkNotFoundError when the network does not exist or is not encrypted.
   */
  rotate(networkId: string): Promise<number> {
    const running = this.active.get(networkId);
    if (running !== undefined) return running;
    const p = this.run(networkId).finally(() => this.active.delete(networkId));
    this.active.set(networkId, p);
    return p;
  }

  private async read(networkId: string): Promise<Versioned<KeysRecord>> {
    const rec = parseVersioned(keysRecordSchema, await this.ctx.store.get(this.ctx.keys.networkKeys(networkId)));
    if (rec === undefined) throw new NetworkNotFoundError(networkId);
    return rec;
  }

  /** Writes `next` if the record is still at `prev`'s revision. */
  private async write(prev: Versioned<KeysRecord>, next: KeysRecord): Promise<Versioned<KeysRecord>> {
    const key = this.ctx.keys.networkKeys(next.networkId);
    const r = await this.ctx.store.txn({ compare: [cmp.modRevision(key, 'equal', prev.modRevision)], success: [kv.put(key, encodeRecord(next))] });
    if (!r.succeeded) throw new Conflict('the key record changed');
    return { value: next, modRevision: r.revision, version: prev.version + 1 };
  }

  private async run(networkId: string): Promise<number> {
    const net = parseVersioned(networkRecordSchema, await this.ctx.store.get(this.ctx.keys.network(networkId)));
    if (net === undefined || !net.value.encrypted) throw new NetworkNotFoundError(networkId);
    // Phase 1: install (or resume a rotation another manager left half-way).
    let rec = await retryConflicts('key rotation install', async () => {
      const cur = await this.read(networkId);
      if (cur.value.rotation !== undefined) return cur;
      const generation = Math.max(...cur.value.keys.map((k) => k.generation)) + 1;
      const secret = Buffer.from(this.ctx.randomBytes(NETWORK_SECRET_BYTES)).toString('base64url');
      return this.write(cur, {
        ...cur.value,
        keys: [...cur.value.keys, { generation, secret }],
        rotation: { phase: 'install', generation, startedAtMs: this.ctx.now() },
      });
    });
    const generation = rec.value.rotation!.generation;
    if (rec.value.rotation!.phase === 'install') {
      await this.awaitAcks(networkId, (ack) => ack.receive.includes(generation));
      rec = await retryConflicts('key rotation activate', async () => {
        const cur = await this.read(networkId);
        if (cur.value.rotation?.generation !== generation || cur.value.rotation.phase !== 'install') return cur;
        return this.write(cur, { ...cur.value, sendGeneration: generation, rotation: { ...cur.value.rotation, phase: 'activate' } });
      });
    }
    // Phase 2 done once everyone sends with the new key; then drain and retire.
    await this.awaitAcks(networkId, (ack) => ack.send === generation);
    if (this.settings.drainMs > 0 && !this.stopped) await new Promise((r) => setTimeout(r, this.settings.drainMs));
    await retryConflicts('key rotation retire', async () => {
      const cur = await this.read(networkId);
      if (cur.value.rotation?.generation !== generation) return cur;
      const { rotation: _done, ...rest } = cur.value;
      return this.write(cur, { ...rest, keys: cur.value.keys.filter((k) => k.generation >= generation), rotatedAtMs: this.ctx.now() });
    });
    this.stats.rotations += 1;
    return generation;
  }

  /** Waits until every node with an endpoint on the network acknowledges `ok`, or the ack timeout. */
  private async awaitAcks(networkId: string, ok: (ack: { receive: number[]; send: number }) => boolean): Promise<void> {
    const k = this.ctx.keys;
    const deadline = performance.now() + this.settings.ackTimeoutMs;
    while (!this.stopped) {
      const [eps, acks] = await Promise.all([this.ctx.store.range({ prefix: k.endpoints(networkId) }), this.ctx.store.range({ prefix: k.keyAcks(networkId) })]);
      const nodes = new Set<string>();
      for (const x of eps.kvs) {
        const ep = parseRecord(endpointRecordSchema, x);
        if (ep !== undefined) nodes.add(ep.nodeId);
      }
      const acked = new Set<string>();
      for (const x of acks.kvs) {
        const a = parseRecord(keyAckSchema, x);
        if (a !== undefined && ok(a)) acked.add(a.nodeId);
      }
      if ([...nodes].every((n) => acked.has(n))) return;
      if (performance.now() > deadline) {
        this.stats.ackTimeouts += 1;
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
