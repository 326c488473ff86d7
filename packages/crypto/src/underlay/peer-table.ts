import { canonicalIp, type SocketAddress } from '@weft/interface';

/** How many host spellings a table remembers before it starts over. */
const MAX_SPELLINGS = 1024;
const NONE: readonly never[] = [];

/**
 * Peers by id and by socket address, where addresses compare as
 * `sameSocketAddress` does: the port, and the host in canonical form (so
 * `2001:db8::1` and `2001:DB8:0:0::1` are one peer). Lookups by address are on
 * every packet's path and allocate nothing: hosts are indexed in canonical
 * form, a canonical spelling is found directly, and any other spelling is
 * canonicalised once and remembered (at most 1024 spellings).
 * @internal
 */
export class PeerTable<P extends { readonly id: string; readonly address: SocketAddress }> {
  private readonly byId = new Map<string, P>();
  /** canonical host → its peers, by port and as a list */
  private readonly byHost = new Map<string, { readonly ports: Map<number, P>; list: P[] }>();
  /** host text → canonical host text (`''` for text that is not an IP literal) */
  private readonly spellings = new Map<string, string>();

  /** Registered ids, in registration order. */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Every registered peer. */
  values(): IterableIterator<P> {
    return this.byId.values();
  }

  /** The peer registered under `id`. */
  get(id: string): P | undefined {
    return this.byId.get(id);
  }

  /** The peer registered at `address` (any spelling of its host). */
  at(address: SocketAddress): P | undefined {
    return this.host(address.host)?.ports.get(address.port);
  }

  /** The peers registered at any port of `host` (any spelling); empty when none. Do not modify. */
  atHost(host: string): readonly P[] {
    return this.host(host)?.list ?? NONE;
  }

  /** Registers `peer`; the caller has made sure neither its id nor its address is taken. */
  add(peer: P): void {
    const host = this.canonical(peer.address.host);
    let entry = this.byHost.get(host);
    if (entry === undefined) {
      entry = { ports: new Map(), list: [] };
      this.byHost.set(host, entry);
    }
    entry.ports.set(peer.address.port, peer);
    entry.list = [...entry.list, peer];
    this.byId.set(peer.id, peer);
  }

  /** Forgets the peer registered under `id`; returns it, or undefined when there was none. */
  delete(id: string): P | undefined {
    const peer = this.byId.get(id);
    if (peer === undefined) return undefined;
    this.byId.delete(id);
    const host = this.canonical(peer.address.host);
    const entry = this.byHost.get(host);
    if (entry !== undefined) {
      entry.ports.delete(peer.address.port);
      entry.list = entry.list.filter((p) => p !== peer);
      if (entry.list.length === 0) this.byHost.delete(host);
    }
    return peer;
  }

  /** Forgets every peer. */
  clear(): void {
    this.byId.clear();
    this.byHost.clear();
    this.spellings.clear();
  }

  private host(text: string): { readonly ports: Map<number, P>; readonly list: readonly P[] } | undefined {
    const direct = this.byHost.get(text);
    if (direct !== undefined) return direct;
    const host = this.canonical(text);
    return host === '' ? undefined : this.byHost.get(host);
  }

  private canonical(text: string): string {
    let host = this.spellings.get(text);
    if (host === undefined) {
      try {
        host = canonicalIp(text);
      } catch {
        host = '';
      }
      if (this.spellings.size >= MAX_SPELLINGS) this.spellings.clear();
      this.spellings.set(text, host);
    }
    return host;
  }
}
