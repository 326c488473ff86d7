import { ETHERTYPE_IPV4 } from '../codec';
import { innerEtherType, l2HeaderLength } from './frame-header';

/** Lowest outer UDP source port a VTEP uses (RFC 7348 §5 recommends the dynamic range). */
export const FLOW_PORT_MIN = 49152;
/** Highest outer UDP source port. */
export const FLOW_PORT_MAX = 65535;

function mix(h: number, word: number): number {
  // murmur3's 32-bit block step: cheap and spreads every input bit.
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function word(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

/**
 * A 32-bit hash of the inner flow of an Ethernet frame: for IPv4, source and
 * destination address and protocol, plus the ports for unfragmented TCP/UDP
 * (the 5-tuple); for anything else the two MACs and the EtherType. Frames of
 * one flow always hash alike, so ECMP in the underlay keeps them in order.
 * Pure and allocation-free; never throws (short frames hash what is there).
 */
export function innerFlowHash(frame: Uint8Array): number {
  const hl = l2HeaderLength(frame);
  if (hl < 0) {
    let h = 0x9747b28c;
    for (let i = 0; i < frame.length; i++) h = mix(h, frame[i]!);
    return finish(h);
  }
  const type = innerEtherType(frame, hl);
  if (type === ETHERTYPE_IPV4 && frame.length >= hl + 20 && frame[hl]! >> 4 === 4) {
    const ihl = (frame[hl]! & 0x0f) * 4;
    const proto = frame[hl + 9]!;
    let h = mix(0x9747b28c, proto);
    h = mix(h, word(frame, hl + 12));
    h = mix(h, word(frame, hl + 16));
    const fragmented = ((frame[hl + 6]! & 0x3f) | frame[hl + 7]!) !== 0; // MF flag (0x20) or a fragment offset
    if ((proto === 6 || proto === 17) && !fragmented && ihl >= 20 && frame.length >= hl + ihl + 4) {
      h = mix(h, word(frame, hl + ihl));
    }
    return finish(h);
  }
  let h = mix(0x9747b28c, type);
  h = mix(h, word(frame, 0));
  h = mix(h, word(frame, 4));
  h = mix(h, word(frame, 8));
  return finish(h);
}

/**
 * The outer UDP source port for a frame (RFC 7348 §5): the inner flow hash
 * mapped into 49152–65535. Pure and allocation-free.
 */
export function flowSourcePort(frame: Uint8Array): number {
  return FLOW_PORT_MIN + (innerFlowHash(frame) % (FLOW_PORT_MAX - FLOW_PORT_MIN + 1));
}
