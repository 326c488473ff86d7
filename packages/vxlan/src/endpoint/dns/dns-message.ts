import { isValidIpv4 } from '@weft/interface';
import * as dnsPacket from 'dns-packet';
import { z } from 'zod';
import { sameName } from './dns-name';

/** UDP port of a DNS server. */
export const DNS_PORT = 53;

/** CNAME links followed inside one answer before giving up on it (a loop, or a chain no server sends). */
const MAX_CNAME_HOPS = 16;

/**
 * The bytes of a standard query (opcode QUERY, RD set) for the A records of
 * `name`, class IN, with message id `id` (0..65535). The name goes on the wire
 * as given: case is left to the server. Encoded by `dns-packet`.
 */
export function encodeQuery(name: string, id: number): Uint8Array {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name, class: 'IN' }],
    // EDNS0 (RFC 6891): answers up to EDNS_UDP_SIZE bytes come whole over UDP. The endpoint has no TCP to
    // retry a truncated answer on; a node-local DNS server's reply never crosses the wire, so its size is no concern.
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
}

/** The UDP payload size the endpoint's queries advertise (EDNS0). */
export const EDNS_UDP_SIZE = 4096;

/** What a datagram from the nameserver means for the lookup that is waiting. */
export type ReplyVerdict =
  /** Not DNS, or not decodable: ignore it and keep waiting. */
  | { readonly kind: 'malformed' }
  /** A DNS message, but not the reply to this query (id, QR, opcode or question differ): ignore it. */
  | { readonly kind: 'mismatched' }
  /** The A records of the name (after CNAMEs), in answer order; never empty. */
  | { readonly kind: 'addresses'; readonly addresses: string[] }
  /** NXDOMAIN, or NOERROR without an A record (NODATA). */
  | { readonly kind: 'not-found'; readonly rcode: number; readonly reason: 'NXDOMAIN' | 'NODATA' }
  /** Any other error RCODE. */
  | { readonly kind: 'failure'; readonly rcode: number; readonly rcodeName: string }
  /** TC set and no A record for the name. */
  | { readonly kind: 'truncated' };

const MALFORMED: ReplyVerdict = { kind: 'malformed' };
const MISMATCHED: ReplyVerdict = { kind: 'mismatched' };

/** The part of `dns-packet`'s decoded message the resolver reads (validated once, at the boundary). */
const replySchema = z.object({
  id: z.number().int(),
  type: z.enum(['query', 'response']),
  opcode: z.string(),
  flags: z.number().int(),
  rcode: z.string(),
  flag_tc: z.boolean(),
  questions: z.array(z.object({ name: z.string(), type: z.string(), class: z.string() })),
  answers: z.array(z.object({ name: z.string(), type: z.string(), data: z.unknown() })),
});
type Reply = z.infer<typeof replySchema>;

/**
 * Judges `bytes` (a UDP payload, read and not kept) as the reply to the query
 * for `name` with id `id`. A reply must have that id, QR set, opcode QUERY and
 * exactly that question (type A, class IN, name compared case-insensitively);
 * a reply with an error RCODE and no question section (as some servers send
 * FORMERR or REFUSED) is accepted on the id alone.
 */
export function readReply(bytes: Uint8Array, id: number, name: string): ReplyVerdict {
  let decoded: unknown;
  try {
    decoded = dnsPacket.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return MALFORMED;
  }
  const parsed = replySchema.safeParse(decoded);
  if (!parsed.success) return MALFORMED;
  const reply = parsed.data;
  if (reply.id !== id || reply.type !== 'response' || reply.opcode !== 'QUERY') return MISMATCHED;
  const rcode = reply.flags & 0xf;
  if (!(reply.questions.length === 0 && rcode !== 0) && !asksFor(reply, name)) return MISMATCHED;
  if (rcode === 3) return { kind: 'not-found', rcode, reason: 'NXDOMAIN' };
  if (rcode !== 0) return { kind: 'failure', rcode, rcodeName: reply.rcode };
  const addresses = addressesOf(reply, name);
  if (addresses === undefined) return MALFORMED;
  if (addresses.length > 0) return { kind: 'addresses', addresses };
  return reply.flag_tc ? { kind: 'truncated' } : { kind: 'not-found', rcode, reason: 'NODATA' };
}

function asksFor(reply: Reply, name: string): boolean {
  const q = reply.questions;
  return q.length === 1 && q[0]!.type === 'A' && q[0]!.class === 'IN' && sameName(q[0]!.name, name);
}

/**
 * The A records of `name` in answer order, following CNAMEs from `name`
 * (each link is a CNAME whose owner is the current name); undefined when an
 * A record of the chain's end is not an IPv4 address.
 */
function addressesOf(reply: Reply, name: string): string[] | undefined {
  let target = name;
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    const out: string[] = [];
    for (const a of reply.answers) {
      if (a.type !== 'A' || !sameName(a.name, target)) continue;
      if (typeof a.data !== 'string' || !isValidIpv4(a.data)) return undefined;
      out.push(a.data);
    }
    if (out.length > 0) return out;
    const link = reply.answers.find((a) => a.type === 'CNAME' && sameName(a.name, target));
    if (link === undefined || typeof link.data !== 'string') return [];
    target = link.data;
  }
  return [];
}
