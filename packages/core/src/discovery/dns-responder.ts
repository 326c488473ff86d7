import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import type { DnsServerCounters } from './dns-counters';
import { reverseNameToIp } from './dns-reverse';
import type { DnsNameRecords, DnsScopeOf } from './dns-scope';

/** How a query arrived, which decides the largest answer (UDP: 512 bytes or the client's EDNS0 size; TCP: 65 535). */
export type DnsTransport = 'udp' | 'tcp';

/** Where external names go. */
export interface DnsUpstream {
  /**
   * Forwards `message` (a query in wire format; only read during the call)
   * and resolves with the upstream's answer, the client's query id written
   * back in it (owned by the caller), or undefined when no upstream answered
   * or the forwarder closed. Never rejects.
   */
  forward(message: Buffer, transport: DnsTransport): Promise<Buffer | undefined>;
}

/** Classic DNS-over-UDP limit (RFC 1035 §4.2.1), in bytes. */
export const DNS_UDP_LIMIT = 512;
/** The largest EDNS0 UDP payload size a client's OPT record is honoured up to, in bytes. */
export const DNS_MAX_EDNS_UDP = 4096;
/** The largest DNS message (TCP's 16-bit length prefix), in bytes. */
export const DNS_MAX_MESSAGE = 65535;
/** The UDP payload size this server advertises in its own OPT record (the DNS flag day 2020 value). */
const ADVERTISED_UDP = 1232;

const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
const RA = 1 << 7;
const NOERROR = 0;
const FORMERR = 1;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const NOTIMP = 4;
const REFUSED = 5;

const NO_RECORDS: Answer[] = [];
const RESPONSE_OPT: OptAnswer = { name: '.', type: 'OPT', udpPayloadSize: ADVERTISED_UDP, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
/** Extended RCODE 16, BADVERS (RFC 6891 §6.1.3): 1 in the OPT's upper 8 bits, 0 in the header. */
const BADVERS_OPT: OptAnswer = { ...RESPONSE_OPT, extendedRcode: 1 };
/** Names dns-packet would not encode back to the bytes asked (non-printable or non-ASCII bytes, dots inside a label): never internal, and not echoed. */
const UNECHOABLE = /[^\x21-\x7e]|\.\.|^\.|\.$/;
/** Round-robin positions kept per network before the table is reset (names come and go). */
const MAX_ROTATION_NAMES = 10_000;

/**
 * The pure part of the DNS server: one query in wire format in, one answer in
 * wire format out — decode (dns-packet), ask the scope, encode (dns-packet).
 * Only external names leave it, through the injected {@link DnsUpstream}.
 *
 * What it answers, for a query on network `networkId`:
 * - not a well-formed query (shorter than the 12-byte header, longer than
 *   65 535, section counts the bytes cannot hold, not exactly one question,
 *   undecodable, two OPT records): FORMERR with the query's id and no
 *   question when the header is readable, nothing when it is not (shorter
 *   than 12 bytes or longer than 65 535); counted `malformed`. A message with
 *   QR set (a response) is dropped (`dropped`), so two servers never loop;
 * - EDNS version other than 0: BADVERS; opcode other than QUERY: NOTIMP;
 * - `scopeOf(networkId)` undefined, or a class other than IN / ANY: REFUSED;
 * - a reverse name (`…in-addr.arpa`, `…ip6.arpa`) of an address the scope
 *   knows (`reverse` not undefined): PTR records, NODATA for other types,
 *   NXDOMAIN when it has no name — all authoritative (AA), never forwarded;
 * - a name `lookup` knows (lowercased, trailing dot stripped): A → `ipv4`,
 *   AAAA → `ipv6`, ANY → both (RFC 8482 allows a subset; this is it), every
 *   other type NODATA; an empty family is NODATA, never NXDOMAIN. AA set.
 *   Records are rotated one step per answer when `rotate` is true;
 * - anything else: forwarded (the upstream's answer relayed as it came, with
 *   the client's id), or SERVFAIL when there is no upstream or none answered.
 *
 * Answers echo the question as asked (0x20 case kept), copy RD, set RA when
 * upstreams are configured, and carry an OPT record when the query did.
 * An answer larger than the transport allows goes out with TC set and no
 * records (question and OPT kept). Names are not compressed (dns-packet does
 * not compress), so an A record costs `name length + 16` bytes.
 */
export class DnsResponder {
  /** Set by the server on close: every later query, and every forward still in flight, gets no answer. */
  closed = false;
  private readonly rotation = new Map<string, Map<string, number>>();
  private readonly ra: number;

  constructor(
    private readonly scopeOf: DnsScopeOf,
    private readonly ttl: number,
    /** Undefined when no upstream is configured: external names are SERVFAIL at once. */
    private readonly upstream: DnsUpstream | undefined,
    private readonly counters: DnsServerCounters,
  ) {
    this.ra = upstream === undefined ? 0 : RA;
  }

  /**
   * Answers one query. `framed`: prefix the answer with its 2-byte length
   * (DNS over TCP). Returns the answer (owned by the caller), undefined for
   * no answer, or a promise of either when the name went upstream. Never
   * throws; the promise never rejects. `message` is only read during the call.
   */
  respond(message: Buffer, networkId: string, transport: DnsTransport, framed: boolean): Buffer | undefined | Promise<Buffer | undefined> {
    const c = this.counters;
    c.queries++;
    if (this.closed) {
      c.dropped++;
      return undefined;
    }
    const length = message.length;
    if (length < 12 || length > DNS_MAX_MESSAGE) {
      c.malformed++;
      c.dropped++;
      return undefined;
    }
    if ((message[2] as number) & 0x80) {
      c.dropped++; // QR: a response, not a query
      return undefined;
    }
    const qd = message.readUInt16BE(4);
    const rr = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10);
    // A question takes at least 5 bytes, a record 11: reject absurd counts before dns-packet sizes arrays by them.
    if (qd !== 1 || 17 + rr * 11 > length) return this.formerr(message, framed);
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return this.formerr(message, framed);
    }
    try {
      return this.answer(query, message, networkId, transport, framed);
    } catch {
      // A scope that threw, or records dns-packet cannot encode: the client still gets an answer.
      c.servfail++;
      try {
        const name = query.questions?.[0]?.name ?? '';
        return this.encode(query, SERVFAIL, NO_RECORDS, undefined, DNS_MAX_MESSAGE, framed, name === '.' || !UNECHOABLE.test(name));
      } catch {
        return undefined;
      }
    }
  }

  private answer(query: DecodedPacket, message: Buffer, networkId: string, transport: DnsTransport, framed: boolean): Buffer | Promise<Buffer | undefined> {
    const c = this.counters;
    const q = query.questions![0]!;
    let opt: OptAnswer | undefined;
    const additionals = query.additionals!;
    for (let i = 0; i < additionals.length; i++) {
      const a = additionals[i]!;
      if (a.type !== 'OPT') continue;
      if (opt !== undefined) return this.formerr(message, framed);
      opt = a;
    }
    const limit = transport === 'tcp' ? DNS_MAX_MESSAGE : opt === undefined ? DNS_UDP_LIMIT : Math.min(Math.max(opt.udpPayloadSize, DNS_UDP_LIMIT), DNS_MAX_EDNS_UDP);
    const respOpt = opt === undefined ? undefined : RESPONSE_OPT;
    const echo = q.name === '.' || !UNECHOABLE.test(q.name);
    if (opt !== undefined && opt.ednsVersion !== 0) {
      c.badvers++;
      return this.encode(query, NOERROR, NO_RECORDS, BADVERS_OPT, limit, framed, echo);
    }
    if (((query.flags ?? 0) >> 11) & 0xf) {
      c.notimp++;
      return this.encode(query, NOTIMP, NO_RECORDS, respOpt, limit, framed, echo);
    }
    const scope = this.scopeOf(networkId);
    if (scope === undefined || (q.class !== 'IN' && q.class !== 'ANY')) {
      c.refused++;
      return this.encode(query, REFUSED, NO_RECORDS, respOpt, limit, framed, echo);
    }
    if (echo) {
      let name = q.name.toLowerCase();
      if (name.endsWith('.')) name = name.slice(0, -1);
      const type: string = q.type; // dns-packet also decodes ANY and UNKNOWN_<n>, which its types omit
      if (name.endsWith('.arpa')) {
        const ip = reverseNameToIp(name);
        const targets = ip === undefined ? undefined : scope.reverse(ip);
        if (targets !== undefined) {
          c.answeredLocal++;
          if (targets.length === 0) {
            c.nxdomain++;
            return this.encode(query, AA | NXDOMAIN, NO_RECORDS, respOpt, limit, framed, true);
          }
          const answers: Answer[] = [];
          if (type === 'PTR' || type === 'ANY') for (const t of targets) answers.push({ name: q.name, type: 'PTR', ttl: this.ttl, data: t });
          else c.nodata++;
          return this.encode(query, AA | NOERROR, answers, respOpt, limit, framed, true);
        }
      }
      const records = scope.lookup(name);
      if (records !== undefined) {
        c.answeredLocal++;
        const answers: Answer[] = [];
        const wantA = type === 'A' || type === 'ANY';
        const wantAaaa = type === 'AAAA' || type === 'ANY';
        if ((wantA && records.ipv4.length > 0) || (wantAaaa && records.ipv6.length > 0)) {
          const turn = records.rotate ? this.turn(networkId, name) : 0;
          if (wantA) this.push(answers, q.name, 'A', records.ipv4, turn);
          if (wantAaaa) this.push(answers, q.name, 'AAAA', records.ipv6, turn);
        } else c.nodata++;
        return this.encode(query, AA | NOERROR, answers, respOpt, limit, framed, true);
      }
    }
    if (this.upstream === undefined) {
      c.servfail++;
      return this.encode(query, SERVFAIL, NO_RECORDS, respOpt, limit, framed, echo);
    }
    c.forwarded++;
    return this.upstream.forward(message, transport).then((reply) => {
      try {
        return this.relay(query, reply, respOpt, limit, framed, echo);
      } catch {
        return undefined;
      }
    });
  }

  private relay(query: DecodedPacket, reply: Buffer | undefined, respOpt: OptAnswer | undefined, limit: number, framed: boolean, echo: boolean): Buffer | undefined {
    const c = this.counters;
    if (this.closed) {
      c.dropped++;
      return undefined;
    }
    if (reply === undefined) {
      c.servfail++;
      return this.encode(query, SERVFAIL, NO_RECORDS, respOpt, limit, framed, echo);
    }
    c.upstreamAnswers++;
    if (!framed) return reply;
    const out = Buffer.allocUnsafe(reply.length + 2);
    out.writeUInt16BE(reply.length, 0);
    reply.copy(out, 2);
    return out;
  }

  /** Appends one record per address, starting at `turn` (mod the count). */
  private push(answers: Answer[], name: string, type: 'A' | 'AAAA', list: DnsNameRecords['ipv4'], turn: number): void {
    const n = list.length;
    const start = n === 0 ? 0 : turn % n;
    for (let i = 0; i < n; i++) answers.push({ name, type, ttl: this.ttl, data: list[(start + i) % n] as string });
  }

  /** This answer's round-robin position for `name` on `networkId` (0, 1, 2, … per answer). */
  private turn(networkId: string, name: string): number {
    let names = this.rotation.get(networkId);
    if (names === undefined) this.rotation.set(networkId, (names = new Map()));
    else if (names.size >= MAX_ROTATION_NAMES && !names.has(name)) names.clear();
    const t = names.get(name) ?? 0;
    names.set(name, (t + 1) & 0x3fffffff);
    return t;
  }

  /** The answer to `query`: header flags `flagsAndRcode` plus QR, opcode, RD (copied) and RA. */
  private encode(query: DecodedPacket, flagsAndRcode: number, answers: Answer[], opt: OptAnswer | undefined, limit: number, framed: boolean, echo: boolean): Buffer {
    const flags = (query.flags ?? 0) & (0x7800 | RD);
    const packet: Packet = {
      id: query.id,
      type: 'response',
      flags: flags | flagsAndRcode | this.ra,
      questions: echo ? query.questions : [],
      answers,
      authorities: NO_RECORDS,
      additionals: opt === undefined ? NO_RECORDS : [opt],
    };
    let length = dnsPacket.encodingLength(packet);
    if (length > limit) {
      this.counters.truncated++;
      packet.flags = (packet.flags as number) | TC;
      packet.answers = NO_RECORDS;
      length = dnsPacket.encodingLength(packet);
    }
    return write(packet, length, framed);
  }

  private formerr(message: Buffer, framed: boolean): Buffer {
    this.counters.malformed++;
    this.counters.formerr++;
    const flags = message.readUInt16BE(2) & (0x7800 | RD);
    const packet: Packet = { id: message.readUInt16BE(0), type: 'response', flags: flags | FORMERR | this.ra, questions: [], answers: NO_RECORDS, authorities: NO_RECORDS, additionals: NO_RECORDS };
    return write(packet, 12, framed);
  }
}

/** Encodes `packet` (`length` bytes) into a new buffer, after a 2-byte length prefix when `framed`. */
function write(packet: Packet, length: number, framed: boolean): Buffer {
  const offset = framed ? 2 : 0;
  const out = Buffer.allocUnsafe(length + offset);
  dnsPacket.encode(packet, out, offset);
  // allocUnsafe may hold old bytes: every one must have been written.
  if (dnsPacket.encode.bytes !== length) throw new Error(`dns: encoded ${dnsPacket.encode.bytes} bytes, expected ${length}`);
  if (framed) out.writeUInt16BE(length, 0);
  return out;
}
