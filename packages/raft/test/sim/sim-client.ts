import { cmp, kv } from '@weft/interface';
import type { NodeId } from '../../src/core/types';
import { encodeKvRequest, type KvResult, type KvStore } from '../../src/kv';
import type { KvModelInput, KvModelOutput, Operation, Prng } from '../../src/testing';
import type { NodeReply } from './sim-node';

/** What a client needs from the simulation. */
export interface ClientWorld {
  readonly nodeIds: readonly NodeId[];
  /** A strictly increasing stamp for call/return times (virtual time order, ties broken by event order). */
  stamp(): number;
  schedule(delayMs: number, run: () => void): void;
  /** Sends a request to a node over the client link (with delay); the node answers through `reply`. */
  request(node: NodeId, kind: 'write', reqId: number, command: Uint8Array, reply: (r: NodeReply) => void): void;
  request(node: NodeId, kind: 'read', reqId: number, serve: (s: KvStore) => unknown, reply: (r: NodeReply) => void): void;
  nextRequestId(): number;
  /** Whether clients keep starting operations. */
  readonly running: boolean;
}

export interface ClientOptions {
  readonly keys: readonly string[];
  readonly opTimeoutMs: number;
  readonly thinkMs: number;
  readonly retryMs: number;
}

const text = new TextDecoder();

/**
 * A closed-loop client: one operation at a time (put, get, cas or delete on a
 * random key), sent to the node it believes is the leader, retried elsewhere
 * on "not leader" / "unavailable" (those mean the request was not accepted),
 * given up after `opTimeoutMs`. A write given up is recorded as unknown (it
 * may still commit); a read given up is left out (it had no effect).
 */
export class SimClient {
  readonly history: Operation<KvModelInput, KvModelOutput>[] = [];
  private target: NodeId;
  private seq = 0;
  private readonly lastSeen = new Map<string, string | null>();
  completed = 0;
  timedOut = 0;

  constructor(
    readonly id: number,
    private readonly world: ClientWorld,
    private readonly prng: Prng,
    private readonly opts: ClientOptions,
  ) {
    this.target = prng.pick(world.nodeIds);
    world.schedule(prng.next() * opts.thinkMs, () => this.next());
  }

  private chooseInput(): KvModelInput {
    const key = this.prng.pick(this.opts.keys);
    const value = `${this.id}.${this.seq++}`;
    const r = this.prng.next();
    if (r < 0.4) return { op: 'get', key };
    if (r < 0.7) return { op: 'put', key, value };
    if (r < 0.95) {
      const expected = this.prng.chance(0.8) ? (this.lastSeen.get(key) ?? null) : null;
      return { op: 'cas', key, expected, value };
    }
    return { op: 'delete', key };
  }

  private next(): void {
    if (!this.world.running) return;
    const input = this.chooseInput();
    const call = this.world.stamp();
    let done = false;
    const finish = (output: KvModelOutput): void => {
      if (done) return;
      done = true;
      this.completed++;
      this.history.push({ clientId: this.id, input, call, return: this.world.stamp(), output });
      if (input.op === 'get') this.lastSeen.set(input.key, output as string | null);
      else if (input.op === 'put') this.lastSeen.set(input.key, input.value);
      else if (input.op === 'delete') this.lastSeen.set(input.key, null);
      else if (output === true) this.lastSeen.set(input.key, input.value);
      this.world.schedule(this.prng.next() * this.opts.thinkMs, () => this.next());
    };
    this.world.schedule(this.opts.opTimeoutMs, () => {
      if (done) return;
      done = true;
      this.timedOut++;
      if (input.op !== 'get') this.history.push({ clientId: this.id, input, call, unknown: true });
      this.target = this.prng.pick(this.world.nodeIds);
      this.next();
    });
    const attempt = (): void => {
      if (done) return;
      const onReply = (r: NodeReply): void => {
        if (done) return;
        if (r.kind === 'ok') return finish(outputOf(input, r.result));
        this.target = r.kind === 'not-leader' && r.leader !== null && r.leader !== this.target ? r.leader : this.prng.pick(this.world.nodeIds);
        this.world.schedule(this.opts.retryMs * (0.5 + this.prng.next()), attempt);
      };
      const reqId = this.world.nextRequestId();
      if (input.op === 'get') {
        const key = input.key;
        this.world.request(this.target, 'read', reqId, (s) => readValue(s, key), onReply);
      } else this.world.request(this.target, 'write', reqId, commandOf(input), onReply);
    };
    attempt();
  }
}

function readValue(store: KvStore, key: string): string | null {
  const kvv = store.get(key);
  return kvv ? text.decode(kvv.value) : null;
}

function commandOf(input: KvModelInput): Uint8Array {
  switch (input.op) {
    case 'put':
      return encodeKvRequest(kv.put(input.key, input.value));
    case 'delete':
      return encodeKvRequest(kv.delete(input.key));
    case 'cas':
      return encodeKvRequest(
        kv.txn({
          compare: [input.expected === null ? cmp.version(input.key, 'equal', 0) : cmp.value(input.key, 'equal', input.expected)],
          success: [kv.put(input.key, input.value)],
        }),
      );
    case 'get':
      return encodeKvRequest(kv.get(input.key));
  }
}

function outputOf(input: KvModelInput, result: unknown): KvModelOutput {
  if (input.op === 'get') return result as string | null;
  const r = result as KvResult;
  if (r.op === 'error') throw new Error(`sim: the store rejected a client command: ${r.error.message}`);
  if (input.op === 'cas') return r.op === 'txn' && r.succeeded;
  return undefined;
}
