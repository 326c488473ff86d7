import type { Clock, PeerNode, SocketAddress } from '@weft/interface';
import { EncryptedUnderlay, type SequenceMarks } from '@weft/crypto';
import { KeyTransitionError } from './errors';
import { Vtep, type AddSegmentOptions, type Segment } from '@weft/vxlan';
import type { EncryptedDemux } from './encrypted-demux';
import { NetworkKeys } from './network-keys';
import type { ServiceSettings } from './network-services';
import type { Encryption } from './spec-schemas';

/** What every network's stack is built from: the plane's shared parts. */
export interface PlaneParts {
  /** This node's id (local id of per-pair keys). */
  readonly nodeId: string;
  /** This start's data-plane epoch (local epoch of per-pair keys). */
  readonly epoch: string;
  /**
   * The sequence marks of a network's sealed traffic under a suite, the same
   * object for every stack the network gets on this plane: a network taken
   * down and brought back (same epoch, same keys) resumes its sequence numbers.
   */
  readonly sequenceMarks: (networkId: string, suite: string) => SequenceMarks;
  readonly clock: Clock;
  /** The one VTEP of every plain network (on the guarded plain socket). */
  readonly plainVtep: Vtep;
  /** The shared encrypted socket's demultiplexer. */
  readonly demux: EncryptedDemux;
  /** What every network's service shims share: flow settings, clock, the plane's DNS handler. */
  readonly services: ServiceSettings;
}

/** The sealing half of an encrypted network's stack. */
export interface SealedParts {
  readonly keys: NetworkKeys;
  readonly enc: EncryptedUnderlay;
}

/**
 * What forwards one network's frames: its segment on a VTEP — the shared
 * plain VTEP, or (encrypted) a VTEP of its own over its own
 * `EncryptedUnderlay` on a port of the shared encrypted socket.
 */
export interface NetworkStack {
  readonly vtep: Vtep;
  readonly segment: Segment;
  /** Present on encrypted networks only. */
  readonly sealed: SealedParts | undefined;
}

/**
 * Segment settings of every network: the control plane programs FDB and
 * neighbour entries, so no learning; ARP answered from the neighbour table;
 * unknown unicast is dropped and counted (`no-fdb-entry`) rather than flooded
 * to every peer, which also makes stale state visible.
 *
 * `mtu` is the network's overlay MTU as given (`NetworkSpec.mtu`): a vxlan
 * segment's `mtu` is the largest inner payload after the Ethernet header,
 * i.e. the largest inner IP packet — the same quantity, so no conversion.
 */
export function segmentOptions(mtu: number): AddSegmentOptions {
  return { mtu, learning: false, arpSuppression: true, floodUnknownUnicast: false };
}

/**
 * Builds the stack of a network with VNI `vni`, MTU `mtu` and, when given,
 * keys `encryption`. Throws before creating anything when the keys cannot
 * form one ring, or when their send generation is one this plane already
 * retired for the network (its sequence numbers are forgotten, so sending
 * with it again could repeat a nonce) — KeyTransitionError; the caller has
 * checked the VNI is free.
 */
export function buildStack(parts: PlaneParts, networkId: string, vni: number, mtu: number, encryption: Encryption | undefined): NetworkStack {
  if (encryption === undefined) {
    return { vtep: parts.plainVtep, segment: parts.plainVtep.addSegment(vni, segmentOptions(mtu)), sealed: undefined };
  }
  const sequenceMarks = parts.sequenceMarks(networkId, encryption.suite);
  const retired = sequenceMarks.retiredThrough;
  if (retired !== undefined && encryption.sendGeneration <= retired) {
    throw new KeyTransitionError(
      networkId,
      `send generation ${encryption.sendGeneration} is not newer than generation ${retired}, which this node retired earlier: its sequence numbers are forgotten, so sending with it could repeat a nonce`,
    );
  }
  const keys = NetworkKeys.create(networkId, encryption);
  const enc = parts.demux.attach(
    (inner) => new EncryptedUnderlay({ underlay: inner, keyRing: keys.ring, localId: parts.nodeId, localEpoch: parts.epoch, sequenceMarks }),
  );
  const vtep = new Vtep({ underlay: enc, clock: parts.clock, learning: false });
  return { vtep, segment: vtep.addSegment(vni, segmentOptions(mtu)), sealed: { keys, enc } };
}

/**
 * Releases a stack: the plain network's segment leaves the shared VTEP; an
 * encrypted network's VTEP closes (with its `EncryptedUnderlay`, which
 * records its sequence marks and releases them, and its demux port), then
 * its key ring is disposed and the secret copies are wiped — all before the
 * first await. Ports still attached are detached.
 */
export async function disposeStack(stack: NetworkStack): Promise<void> {
  if (stack.sealed === undefined) {
    if (stack.vtep.segment(stack.segment.vni) === stack.segment) stack.vtep.removeSegment(stack.segment.vni);
    return;
  }
  const closed = stack.vtep.close();
  stack.sealed.keys.wipe();
  await closed;
}

/** Where a network sends a peer's frames: its encrypted port on encrypted networks, else its VXLAN port. */
export function vtepAddressOf(stack: NetworkStack, peer: PeerNode): SocketAddress {
  return { host: peer.address, port: stack.sealed !== undefined ? peer.encryptedPort : peer.vxlanPort };
}
