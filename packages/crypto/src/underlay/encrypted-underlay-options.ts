import type { Underlay } from '@weft/interface';
import { z } from 'zod';
import type { KeyRing } from '../keys/key-ring';
import { maxSequenceSchema, nodeIdSchema, socketAddressSchema } from '../options';
import { replayWindowSchema } from '../replay/replay-window';

/** Options of an `EncryptedUnderlay`. */
export interface EncryptedUnderlayOptions {
  /**
   * The underlay that carries the sealed packets; closed by `close()`. The
   * encrypted underlay installs its receive handler on it. To share one UDP
   * socket among several encrypted underlays, give each its own `Underlay`
   * object whose handler a demultiplexer calls (see `EncryptedUnderlay.accepts`).
   */
  underlay: Underlay;
  /** Keys; the underlay follows its rotation events. Not closed by `close()`. */
  keyRing: KeyRing;
  /** This node's id (1–255 characters), the `from` of what it sends. */
  localId: string;
  /** Anti-replay window of every inbound SA, packets; default 2048. */
  replayWindow?: number;
  /** Last sequence number of every outbound SA (default 2^53 − 1); lower it to force rotations sooner. */
  maxSequence?: number;
  /** Called (synchronously) when an outbound SA ran out of sequence numbers; rotate keys then. */
  onRekeyNeeded?: (peerId: string) => void;
}

/** Counters of an `EncryptedUnderlay`; every dropped packet is counted under exactly one reason. */
export interface EncryptedUnderlayCounters {
  /** Packets sealed and handed to the inner underlay. */
  txPackets: number;
  /** Sends to an address with no registered peer (dropped: no plaintext leaves). */
  txNoPeer: number;
  /** Sends dropped because the outbound SA's sequence numbers are exhausted. */
  txSequenceExhausted: number;
  /** Packets opened and delivered to the receive handler. */
  rxPackets: number;
  /**
   * Packets from an address with no registered peer, except those from another
   * port of a peer's host that carry one of that peer's live SPIs (see `accepts`).
   */
  rxUnknownPeer: number;
  /** Packets shorter than the 32-byte minimum (includes short cleartext). */
  rxMalformed: number;
  /** Packets whose SPI no live inbound SA of that peer has (includes cleartext, e.g. a bare VXLAN header, and retired keys). */
  rxUnknownSpi: number;
  /** Packets whose tag did not verify. */
  rxAuthFailed: number;
  /** Duplicates and packets older than the anti-replay window. */
  rxReplayed: number;
}

/** @internal zod schema of {@link EncryptedUnderlayOptions}. */
export const encryptedUnderlayOptionsSchema = z.object({
  underlay: z.custom<Underlay>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as Underlay).send === 'function' &&
      typeof (v as Underlay).onReceive === 'function' &&
      typeof (v as Underlay).close === 'function' &&
      typeof (v as Underlay).local === 'object' &&
      (v as Underlay).local !== null,
    { message: 'must be an Underlay (send, onReceive, close, local)' },
  ),
  keyRing: z.custom<KeyRing>((v) => typeof v === 'object' && v !== null && typeof (v as KeyRing).pairKey === 'function', {
    message: 'must be a KeyRing',
  }),
  localId: nodeIdSchema,
  replayWindow: replayWindowSchema,
  maxSequence: maxSequenceSchema,
  onRekeyNeeded: z.custom<(peerId: string) => void>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
});

/** @internal zod schema of the arguments of `EncryptedUnderlay.addPeer`. */
export const addPeerSchema = z.object({ id: nodeIdSchema, address: socketAddressSchema });
