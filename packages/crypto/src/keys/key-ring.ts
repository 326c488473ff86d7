import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { generationSchema, invalidArgument, nodeIdSchema, secretSchema, suiteSchema } from '../options';
import type { SuiteName } from '../suite';
import { derivePairKey, type PairKey } from './derive-pair-key';

/** The three phases of a key rotation, in order. */
export type RotationPhase = 'install' | 'activate' | 'retire';

/** Emitted by `KeyRing` after each phase has taken effect. */
export interface RotationEvent {
  readonly phase: RotationPhase;
  /** Generation the phase applied to. */
  readonly generation: number;
  /** Generation used for sending after the phase. */
  readonly sendGeneration: number;
}

/** Options of a `KeyRing`. */
export interface KeyRingOptions {
  /** Initial cluster secret, at least 32 bytes; copied. */
  secret: Uint8Array;
  /** Generation number of `secret`, 0 … 2^32 − 1; default 0. */
  generation?: number;
  /** AEAD suite of every key derived; default `aes-256-gcm`. */
  suite?: SuiteName;
}

const optionsSchema = z.object({
  secret: secretSchema,
  generation: generationSchema.default(0),
  suite: suiteSchema,
});
const installSchema = z.object({ generation: generationSchema, secret: secretSchema });
const generationArgSchema = z.object({ generation: generationSchema });
const pairKeySchema = z.object({ generation: generationSchema, from: nodeIdSchema, to: nodeIdSchema });

/**
 * A node's view of the cluster secrets, one per generation, and the per-pair
 * keys derived from them (HKDF-SHA256; see `derivePairKey`). A key for one
 * (from, to, generation) opens nothing sent under another.
 *
 * Rotation is three phases, each announced to listeners:
 * 1. `install(g, secret)`: every node accepts generation `g` for receiving.
 * 2. `activate(g)`: (once all nodes installed) nodes switch sending to `g`.
 * 3. `retire(old)`: (once all nodes activated and in-flight packets drained)
 *    the old generation is forgotten.
 * The cluster-wide ordering between phases is the control plane's job
 * (core runs each phase on every node before starting the next).
 */
export class KeyRing {
  /** Suite of every derived key. */
  readonly suite: SuiteName;
  private readonly secrets = new Map<number, Uint8Array>();
  private sendGen: number;
  private readonly listeners = new Set<(event: RotationEvent) => void>();

  /** @throws InvalidOptionsError whose `field` names the bad option. */
  constructor(options: KeyRingOptions) {
    const o = parseOptions(optionsSchema, options, 'KeyRing');
    this.suite = o.suite;
    this.sendGen = o.generation;
    this.secrets.set(o.generation, Uint8Array.from(o.secret));
  }

  /** Generation used for sending. */
  get sendGeneration(): number {
    return this.sendGen;
  }

  /** Generations accepted for receiving, ascending (always includes `sendGeneration`). */
  get receiveGenerations(): number[] {
    return [...this.secrets.keys()].sort((a, b) => a - b);
  }

  /**
   * Phase 1: accept `generation` for receiving. `generation` must be newer
   * than every installed one, and differ from them in its low 8 bits (they
   * are part of the SPI). `secret` (≥ 32 bytes) is copied.
   * @throws InvalidOptionsError otherwise, with `field` `generation` or `secret`.
   */
  install(generation: number, secret: Uint8Array): void {
    const a = parseOptions(installSchema, { generation, secret }, 'KeyRing.install');
    const g = a.generation;
    const newest = Math.max(...this.secrets.keys());
    if (g <= newest) throw invalidArgument('KeyRing.install', 'generation', `must be newer than installed generation ${newest}`, g);
    for (const live of this.secrets.keys()) {
      if ((live & 0xff) === (g & 0xff)) {
        throw invalidArgument('KeyRing.install', 'generation', `shares its SPI byte with live generation ${live}; retire ${live} first`, g);
      }
    }
    this.secrets.set(g, Uint8Array.from(a.secret));
    this.emit('install', g);
  }

  /**
   * Phase 2: send with `generation` from now on (must be installed and newer
   * than the current send generation).
   * @throws InvalidOptionsError otherwise, with `field` `generation`.
   */
  activate(generation: number): void {
    const g = parseOptions(generationArgSchema, { generation }, 'KeyRing.activate').generation;
    if (!this.secrets.has(g)) throw invalidArgument('KeyRing.activate', 'generation', 'is not installed', g);
    if (g <= this.sendGen) throw invalidArgument('KeyRing.activate', 'generation', `must be newer than the send generation ${this.sendGen}`, g);
    this.sendGen = g;
    this.emit('activate', g);
  }

  /**
   * Phase 3: forget `generation` (must be installed and older than the send generation).
   * @throws InvalidOptionsError otherwise, with `field` `generation`.
   */
  retire(generation: number): void {
    const g = parseOptions(generationArgSchema, { generation }, 'KeyRing.retire').generation;
    if (!this.secrets.has(g)) throw invalidArgument('KeyRing.retire', 'generation', 'is not installed', g);
    if (g >= this.sendGen) throw invalidArgument('KeyRing.retire', 'generation', `must be older than the send generation ${this.sendGen}`, g);
    this.secrets.get(g)!.fill(0);
    this.secrets.delete(g);
    this.emit('retire', g);
  }

  /**
   * Keying material for traffic `from` → `to` under `generation`.
   * @throws InvalidOptionsError for a generation that is not installed (`field` `generation`) or a node id
   * not 1–255 characters (`field` `from` or `to`).
   */
  pairKey(generation: number, from: string, to: string): PairKey {
    parseOptions(pairKeySchema, { generation, from, to }, 'KeyRing.pairKey');
    const secret = this.secrets.get(generation);
    if (!secret) throw invalidArgument('KeyRing.pairKey', 'generation', 'is not installed', generation);
    return derivePairKey(secret, this.suite, generation, from, to);
  }

  /**
   * Calls `listener` after every phase (synchronously, in registration
   * order). Returns a function that removes it.
   * @throws InvalidOptionsError (`field` `listener`) when `listener` is not a function.
   */
  on(listener: (event: RotationEvent) => void): () => void {
    if (typeof listener !== 'function') throw invalidArgument('KeyRing.on', 'listener', 'must be a function', listener);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(phase: RotationPhase, generation: number): void {
    const event: RotationEvent = { phase, generation, sendGeneration: this.sendGen };
    for (const l of [...this.listeners]) l(event);
  }
}
