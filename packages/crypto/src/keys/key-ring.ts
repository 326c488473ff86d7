import { z } from 'zod';
import { InvalidOptionsError } from '../errors';
import type { SuiteName } from '../suite';
import { nodeIdSchema, suiteSchema, validateOptions } from '../validate-options';
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

const secretSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= 32, {
  message: 'must be a Uint8Array of at least 32 bytes',
});
const generationSchema = z.number().int().min(0).max(0xffffffff);
const optionsSchema = z.object({
  secret: secretSchema,
  generation: generationSchema.default(0),
  suite: suiteSchema,
});

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

  /** @throws InvalidOptionsError naming the bad field. */
  constructor(options: KeyRingOptions) {
    const o = validateOptions(optionsSchema, options, 'KeyRing');
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
   * @throws InvalidOptionsError otherwise.
   */
  install(generation: number, secret: Uint8Array): void {
    const g = validateOptions(generationSchema, generation, 'KeyRing.install generation');
    validateOptions(secretSchema, secret, 'KeyRing.install secret');
    const newest = Math.max(...this.secrets.keys());
    if (g <= newest) throw new InvalidOptionsError(`KeyRing.install generation: must be newer than ${newest}, got ${g}`);
    for (const live of this.secrets.keys()) {
      if ((live & 0xff) === (g & 0xff)) {
        throw new InvalidOptionsError(`KeyRing.install generation: ${g} shares its SPI byte with live generation ${live}; retire ${live} first`);
      }
    }
    this.secrets.set(g, Uint8Array.from(secret));
    this.emit('install', g);
  }

  /**
   * Phase 2: send with `generation` from now on (must be installed and newer
   * than the current send generation).
   * @throws InvalidOptionsError otherwise.
   */
  activate(generation: number): void {
    if (!this.secrets.has(generation)) throw new InvalidOptionsError(`KeyRing.activate generation: ${generation} is not installed`);
    if (generation <= this.sendGen) {
      throw new InvalidOptionsError(`KeyRing.activate generation: must be newer than the send generation ${this.sendGen}, got ${generation}`);
    }
    this.sendGen = generation;
    this.emit('activate', generation);
  }

  /**
   * Phase 3: forget `generation` (must be installed and older than the send generation).
   * @throws InvalidOptionsError otherwise.
   */
  retire(generation: number): void {
    if (!this.secrets.has(generation)) throw new InvalidOptionsError(`KeyRing.retire generation: ${generation} is not installed`);
    if (generation >= this.sendGen) {
      throw new InvalidOptionsError(`KeyRing.retire generation: must be older than the send generation ${this.sendGen}, got ${generation}`);
    }
    this.secrets.get(generation)!.fill(0);
    this.secrets.delete(generation);
    this.emit('retire', generation);
  }

  /**
   * Keying material for traffic `from` → `to` under `generation`.
   * @throws InvalidOptionsError for an unknown generation or a node id not 1–255 characters.
   */
  pairKey(generation: number, from: string, to: string): PairKey {
    const secret = this.secrets.get(generation);
    if (!secret) throw new InvalidOptionsError(`KeyRing.pairKey generation: ${generation} is not installed`);
    validateOptions(nodeIdSchema, from, 'KeyRing.pairKey from');
    validateOptions(nodeIdSchema, to, 'KeyRing.pairKey to');
    return derivePairKey(secret, this.suite, generation, from, to);
  }

  /**
   * Calls `listener` after every phase (synchronously, in registration
   * order). Returns a function that removes it.
   */
  on(listener: (event: RotationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(phase: RotationPhase, generation: number): void {
    const event: RotationEvent = { phase, generation, sendGeneration: this.sendGen };
    for (const l of [...this.listeners]) l(event);
  }
}
