/**
 * What a {@link DnsServer} has done since it was created. Every message
 * received (UDP datagram, TCP frame, `handle()` call) counts once in
 * `queries` and, once it is done with, in exactly one of `answeredLocal`,
 * `upstreamAnswers`, `servfail`, `refused`, `notimp`, `badvers`, `formerr`
 * or `dropped` (a scope that throws while its answer is encoded is the one
 * exception: `answeredLocal` and `servfail`).
 */
export interface DnsServerCounters {
  /** Messages received: UDP datagrams, TCP frames and `handle()` calls. */
  queries: number;
  /** Answered from a scope (NOERROR with or without records, or a reverse NXDOMAIN); never forwarded. */
  answeredLocal: number;
  /** Of `answeredLocal`: NOERROR without records (the name exists, not with that type). */
  nodata: number;
  /** Of `answeredLocal`: NXDOMAIN (an internal address without a name). */
  nxdomain: number;
  /** Queries sent upstream (once per query, whatever the number of upstreams tried). */
  forwarded: number;
  /** Upstream answers relayed to the client. */
  upstreamAnswers: number;
  /** Upstreams that did not answer in time (one per upstream tried). */
  upstreamTimeouts: number;
  /** Upstream sends that failed, and upstream socket errors. */
  upstreamErrors: number;
  /** SERVFAIL answers: no upstream, every upstream failed, too many queries in flight, or a scope that threw. */
  servfail: number;
  /** REFUSED answers: a network this server does not serve, or a class other than IN / ANY. */
  refused: number;
  /** NOTIMP answers: an opcode other than QUERY. */
  notimp: number;
  /** BADVERS answers: an EDNS version other than 0. */
  badvers: number;
  /** Messages that are not a well-formed query (short, undecodable, absurd counts, not one question, two OPT records). */
  malformed: number;
  /** Of `malformed`: answered FORMERR (the header was readable). */
  formerr: number;
  /** Messages given no answer: unreadable ones, responses (QR set), and those received while closing. */
  dropped: number;
  /** Answers that did not fit (UDP: 512 bytes or the client's EDNS0 size up to 4096; TCP: 65 535) and went out with TC set and no records. */
  truncated: number;
  /** TCP connections accepted. */
  tcpConnections: number;
  /** TCP connections closed at once because `maxTcpConnections` were open. */
  tcpRejected: number;
  /** TCP connections closed by the idle timeout. */
  tcpIdleClosed: number;
  /** TCP connections closed for holding more than `maxTcpBufferBytes`. */
  tcpOverflow: number;
}

/** Zeroed counters. */
export function emptyDnsCounters(): DnsServerCounters {
  return {
    queries: 0,
    answeredLocal: 0,
    nodata: 0,
    nxdomain: 0,
    forwarded: 0,
    upstreamAnswers: 0,
    upstreamTimeouts: 0,
    upstreamErrors: 0,
    servfail: 0,
    refused: 0,
    notimp: 0,
    badvers: 0,
    malformed: 0,
    formerr: 0,
    dropped: 0,
    truncated: 0,
    tcpConnections: 0,
    tcpRejected: 0,
    tcpIdleClosed: 0,
    tcpOverflow: 0,
  };
}
