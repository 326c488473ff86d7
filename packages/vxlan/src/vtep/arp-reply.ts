import { formatMac } from '@weft/interface';
import { arp, ethernet, ETHERTYPE_ARP } from '../codec';
import type { Neighbour } from './neighbour-table';

/**
 * Builds the ARP reply a segment sends back to a port on behalf of
 * `neighbour` (ARP suppression), for the request `request` whose Ethernet
 * header is `hl` bytes long. The reply is untagged and addressed to the
 * requester. Returns a new buffer.
 * @throws MalformedPacketError when `request` is not a well-formed ARP packet.
 */
export function buildArpReply(request: Uint8Array, hl: number, neighbour: Neighbour): Uint8Array {
  const req = arp.decode(request, hl).value;
  const payload = arp.encode({
    op: 'reply',
    senderMac: neighbour.mac,
    senderIp: neighbour.ip,
    targetMac: req.senderMac,
    targetIp: req.senderIp,
  });
  return ethernet.encode({ dst: formatMac(request, 6), src: neighbour.mac, etherType: ETHERTYPE_ARP, payload });
}
