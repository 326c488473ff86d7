import { MalformedPacketError, parseOptions } from '@weft/interface';
import { z } from 'zod';
import { AuthenticationError, ReplayError, SequenceExhaustedError, UnknownSpiError } from '../errors';
import { bytesSchema, maxSequenceSchema, suiteSchema } from '../options';
import { REPLAY_DUPLICATE, REPLAY_OK, ReplayWindow, replayWindowSchema } from '../replay/replay-window';
import { createAeadCipher, IV_LENGTH, KEY_LENGTH, SALT_LENGTH, type AeadCipher, type SuiteName } from '../suite';
import {
  AAD_LENGTH,
  PACKET_OVERHEAD,
  openPacket as openPacketImport,
  readSequenceLow as readSequenceLowImport,
  readSpi as readSpiImport,
  sealPacket as sealPacketImport,
} from './packet';

const TWO_32 = 2 ** 32;
// Local copies of imported bindings used per packet (imports compile to getters under CJS interop).
const OVERHEAD = PACKET_OVERHEAD;
const OK = REPLAY_OK;
const DUPLICATE = REPLAY_DUPLICATE;
const openPacket = openPacketImport;
const readSequenceLow = readSequenceLowImport;
const readSpi = readSpiImport;
const sealPacket = sealPacketImport;

/** Options of a `SecurityAssociation`. */
export interface SecurityAssociationOptions {
  /** Security Parameters Index, 256 … 2^32 − 1 (0–255 are reserved by RFC 4303). */
  spi: number;
  /** AEAD suite; default `aes-256-gcm`. */
  suite?: SuiteName;
  /** 32-byte key; copied. */
  key: Uint8Array;
  /** 4-byte salt (implicit nonce prefix); copied. */
  salt: Uint8Array;
  /** Anti-replay window, packets (multiple of 32, 32 … 65536); default 2048. */
  replayWindow?: number;
  /** Last sequence number `seal` may use; default and maximum 2^53 − 1. Lower it to force earlier rekeys. */
  maxSequence?: number;
  /**
   * Sequence number of the next `seal` (to resume a persisted SA), 1 … 2^53;
   * default 1. A value past `maxSequence` makes an exhausted SA (every `seal` throws).
   */
  nextSequence?: number;
  /**
   * To resume a persisted SA's window: every sequence number up to this one
   * counts as already received, so none of them is accepted again; default 0.
   */
  highestReceived?: number;
}

const optionsSchema = z.object({
  spi: z.number().int().min(256).max(0xffffffff),
  suite: suiteSchema,
  key: bytesSchema(KEY_LENGTH),
  salt: bytesSchema(SALT_LENGTH),
  replayWindow: replayWindowSchema,
  maxSequence: maxSequenceSchema,
  // 2^53 itself is allowed (an exhausted SA); zod's int() stops at 2^53 − 1.
  nextSequence: z
    .number()
    .refine((v) => Number.isInteger(v) && v >= 1 && v <= Number.MAX_SAFE_INTEGER + 1, 'must be an integer from 1 to 2^53')
    .default(1),
  highestReceived: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

/**
 * One direction of an ESP-style security association: an SPI, an AEAD suite
 * with its key and salt, a 64-bit sequence number of which only the low 32
 * bits travel (ESN, RFC 4303 §2.2.1), and an anti-replay window.
 *
 * The sender side uses `seal`; the receiver side `open`. The same object can
 * do both only for tests (a real peer pair has one SA per direction).
 */
export class SecurityAssociation {
  /** Security Parameters Index. */
  readonly spi: number;
  /** AEAD suite. */
  readonly suite: SuiteName;
  /** Last sequence number `seal` may use. */
  readonly maxSequence: number;
  private readonly cipher: AeadCipher;
  private readonly window: ReplayWindow;
  private nextSeq: number;
  private readonly iv = new Uint8Array(IV_LENGTH);
  private readonly aad = new Uint8Array(AAD_LENGTH);

  /** @throws InvalidOptionsError whose `field` names the bad option. */
  constructor(options: SecurityAssociationOptions) {
    const o = parseOptions(optionsSchema, options, 'SecurityAssociation');
    this.spi = o.spi;
    this.suite = o.suite;
    this.maxSequence = o.maxSequence;
    this.nextSeq = o.nextSequence;
    this.cipher = createAeadCipher(o.suite, o.key, o.salt);
    this.window = new ReplayWindow(o.replayWindow);
    this.window.resumeAfter(o.highestReceived);
  }

  /** Sequence number the next `seal` will use. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  /** How many more packets `seal` may send before `SequenceExhaustedError`. */
  get remaining(): number {
    return Math.max(0, this.maxSequence - this.nextSeq + 1);
  }

  /** Highest sequence number `open` has accepted (0 before the first). */
  get highestReceived(): number {
    return this.window.top;
  }

  /** Anti-replay window size, packets. */
  get replayWindow(): number {
    return this.window.size;
  }

  /**
   * Seals `plaintext` (read during the call only) into a new packet of
   * `plaintext.length + 32` bytes owned by the caller (no other packet uses
   * those bytes). The packet is a `subarray` view into a shared 64 KiB slab,
   * not a buffer of its own (packets over 16 KiB excepted): its `byteOffset`
   * is usually non-zero and its `.buffer` holds other packets, so pass the
   * view itself, never `packet.buffer`; holding it keeps its slab reachable.
   * The IV is the full 64-bit sequence number, so it never repeats under one key.
   * @throws SequenceExhaustedError once `maxSequence` has been used.
   */
  seal(plaintext: Uint8Array): Uint8Array {
    const seq = this.nextSeq;
    if (seq > this.maxSequence) throw new SequenceExhaustedError(this.spi, this.maxSequence);
    this.nextSeq = seq + 1;
    const low = seq % TWO_32;
    const high = (seq - low) / TWO_32;
    const iv = this.iv;
    iv[0] = high >>> 24;
    iv[1] = high >>> 16;
    iv[2] = high >>> 8;
    iv[3] = high;
    iv[4] = low >>> 24;
    iv[5] = low >>> 16;
    iv[6] = low >>> 8;
    iv[7] = low;
    return sealPacket(this.cipher, this.spi, high, low, iv, plaintext, this.aad);
  }

  /**
   * Opens a packet: SPI check, ESN inference, anti-replay check, tag
   * verification, and only then the window moves (RFC 4303 §3.4.3). Returns a
   * new plaintext buffer owned by the caller; `packet` is read during the call
   * only. Throws only the typed errors below, whatever the bytes.
   * @throws MalformedPacketError (layer `esp`) shorter than 32 bytes.
   * @throws UnknownSpiError the SPI is not this SA's.
   * @throws ReplayError duplicate, or older than the window.
   * @throws AuthenticationError the tag does not verify.
   */
  open(packet: Uint8Array): Uint8Array {
    if (!(packet instanceof Uint8Array) || packet.length < OVERHEAD) {
      throw new MalformedPacketError('esp', `packet of ${packet?.length ?? 0} bytes is shorter than the ${PACKET_OVERHEAD}-byte minimum`);
    }
    const spi = readSpi(packet);
    if (spi !== this.spi) throw new UnknownSpiError(spi);
    const low = readSequenceLow(packet);
    const seq = this.window.inferSequence(low);
    if (seq < 0) throw new ReplayError(spi, seq, 'old');
    const check = this.window.check(seq);
    if (check !== OK) throw new ReplayError(spi, seq, check === DUPLICATE ? 'duplicate' : 'old');
    const high = (seq - low) / TWO_32;
    const plaintext = openPacket(this.cipher, packet, high, this.aad);
    if (plaintext === null) {
      // Appendix A2.2 case A infers a low value below the window as the next
      // 2^32 subspace. If the packet verifies one subspace lower instead, it is
      // a genuine packet older than the window: report it as a replay.
      if (seq - this.window.top > 2 ** 31 && high > 0 && openPacket(this.cipher, packet, high - 1, this.aad) !== null) {
        throw new ReplayError(spi, seq - TWO_32, 'old');
      }
      throw new AuthenticationError(spi, seq);
    }
    this.window.accept(seq);
    return plaintext;
  }
}
