import type { Random } from '@weft/interface';
import type { EndpointDnsCounters } from '../endpoint-options';
import type { EndpointUdpSocket, RemoteInfo } from '../udp-socket';
import { DNS_PORT, encodeQuery, readReply } from './dns-message';
import { DnsServerFailureError, DnsTimeoutError, DnsTruncatedError, NameNotFoundError, TooManyLookupsError } from './errors';

/** @internal What the resolver needs from its endpoint. */
export interface NameResolverHost {
  /** A fresh UDP socket on a free ephemeral port of the endpoint (the resolver closes it). */
  openSocket(): EndpointUdpSocket;
  /** The error pending lookups reject with when the resolver closes. */
  closedError(): Error;
}

/** @internal One lookup's parameters (already validated). */
export interface LookupParams {
  /** The name, sent as given. */
  name: string;
  /** Dotted quad. */
  nameserver: string;
  /** Wait per attempt, ms. */
  timeoutMs: number;
  /** Queries to send before giving up (≥ 1). */
  attempts: number;
}

interface Lookup {
  socket: EndpointUdpSocket;
  timer: ReturnType<typeof setTimeout> | undefined;
  settle(result: string[] | Error): void;
}

/**
 * @internal The stub resolver of an endpoint: one UDP socket per lookup (a
 * random ephemeral port), one query id per lookup (random, 16 bits), the same
 * query re-sent on each timeout, at most `maxLookups` lookups in flight.
 * Every outcome closes the socket and clears the timer.
 */
export class NameResolver {
  private readonly lookups = new Set<Lookup>();
  private readonly stats: EndpointDnsCounters = { queries: 0, replies: 0, timeouts: 0, mismatched: 0, malformed: 0 };
  private closed = false;

  constructor(
    private readonly s: { random: Random; maxLookups: number },
    private readonly host: NameResolverHost,
  ) {}

  /** Counters (a fresh copy). */
  get counters(): EndpointDnsCounters {
    return { ...this.stats };
  }

  /** Lookups in flight. */
  get inFlight(): number {
    return this.lookups.size;
  }

  /**
   * Sends the query and settles with the name's IPv4 addresses in answer order.
   * Rejects with NameNotFoundError, DnsServerFailureError, DnsTruncatedError,
   * DnsTimeoutError, TooManyLookupsError, the host's closed error, or what opening the socket or sending throws.
   */
  lookup(p: LookupParams): Promise<string[]> {
    if (this.closed) return Promise.reject(this.host.closedError());
    if (this.lookups.size >= this.s.maxLookups) return Promise.reject(new TooManyLookupsError(p.name, this.s.maxLookups));
    return new Promise<string[]>((resolve, reject) => {
      let socket: EndpointUdpSocket;
      try {
        socket = this.host.openSocket();
      } catch (err) {
        reject(err as Error);
        return;
      }
      const id = Math.floor(this.s.random() * 0x10000) & 0xffff;
      const query = encodeQuery(p.name, id);
      let sent = 0;
      const lookup: Lookup = {
        socket,
        timer: undefined,
        settle: (result) => {
          if (!this.lookups.delete(lookup)) return;
          if (lookup.timer !== undefined) clearTimeout(lookup.timer);
          lookup.timer = undefined;
          socket.close();
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      this.lookups.add(lookup);
      socket.on('message', (data: Uint8Array, rinfo: RemoteInfo) => this.onReply(lookup, p, id, data, rinfo));
      const send = (): void => {
        sent++;
        lookup.timer = setTimeout(() => {
          lookup.timer = undefined;
          if (sent < p.attempts) return send();
          this.stats.timeouts++;
          lookup.settle(new DnsTimeoutError(p.name, p.nameserver, sent, p.timeoutMs));
        }, p.timeoutMs);
        try {
          socket.send(query, p.nameserver, DNS_PORT);
          this.stats.queries++;
        } catch (err) {
          lookup.settle(err as Error);
        }
      };
      send();
    });
  }

  /** Rejects every pending lookup with the host's closed error (closing its socket, clearing its timer); later lookups reject too. Idempotent. */
  close(): void {
    this.closed = true;
    for (const lookup of [...this.lookups]) lookup.settle(this.host.closedError());
  }

  private onReply(lookup: Lookup, p: LookupParams, id: number, data: Uint8Array, rinfo: RemoteInfo): void {
    if (rinfo.address !== p.nameserver || rinfo.port !== DNS_PORT) {
      this.stats.mismatched++;
      return;
    }
    const v = readReply(data, id, p.name);
    switch (v.kind) {
      case 'malformed':
        this.stats.malformed++;
        return;
      case 'mismatched':
        this.stats.mismatched++;
        return;
      case 'addresses':
        this.stats.replies++;
        return lookup.settle(v.addresses);
      case 'not-found':
        this.stats.replies++;
        return lookup.settle(new NameNotFoundError(p.name, v.rcode, v.reason));
      case 'failure':
        this.stats.replies++;
        return lookup.settle(new DnsServerFailureError(p.name, p.nameserver, v.rcode, v.rcodeName));
      case 'truncated':
        this.stats.replies++;
        return lookup.settle(new DnsTruncatedError(p.name, p.nameserver));
    }
  }
}
