/**
 * A small synchronous test network for RawNodes: each node persists its Ready
 * into a MemoryStorage (before its messages are queued), applies committed
 * entries to a trivial state machine (the list of applied commands), and
 * messages move between nodes unless the link between them is cut.
 */
import { decodeConfChange, MemoryStorage, RawNode, type RawNodeConfig } from '../../src/core';
import type { ConfState, Entry, Message, NodeId, ReadState } from '../../src/core/types';
import { seededRandom } from '@weft/interface';

/** Deterministic random source for election timeouts. */
export const seeded = seededRandom;

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface Peer {
  node: RawNode;
  storage: MemoryStorage;
  /** Applied normal commands, as strings (the "state machine"). */
  applied: string[];
  /** Index of each applied entry (normal and conf-change). */
  appliedIndexes: number[];
  confState: ConfState | undefined;
  /** Every configuration this node applied, in order. */
  confHistory: ConfState[];
  readStates: ReadState[];
  /** Every message this node sent, in order. */
  sent: Message[];
}

export type NodeOptions = Partial<Omit<RawNodeConfig, 'id' | 'storage' | 'random'>>;

export class Network {
  readonly peers = new Map<NodeId, Peer>();
  private readonly cuts = new Set<string>();
  private readonly down = new Set<NodeId>();
  /** Messages dropped because of cuts (type counts). */
  dropped: Message[] = [];
  /** Filter applied to every message in flight: return false to drop it. */
  filter: ((m: Message) => boolean) | undefined;
  private seed: number;

  constructor(
    ids: NodeId[],
    private readonly opts: NodeOptions = {},
    seed = 1,
  ) {
    this.seed = seed;
    for (const id of ids) this.add(id, { peers: ids });
  }

  /** Adds a node (bootstrapped with `peers`, or empty when joining later). */
  add(id: NodeId, extra: NodeOptions = {}): Peer {
    const storage = new MemoryStorage();
    const node = new RawNode({ electionTick: 10, heartbeatTick: 1, ...this.opts, ...extra, id, storage, random: seeded(this.seed++) });
    const p: Peer = { node, storage, applied: [], appliedIndexes: [], confState: undefined, confHistory: [], readStates: [], sent: [] };
    this.peers.set(id, p);
    return p;
  }

  /** Restarts `id` from its storage (volatile state lost). */
  restart(id: NodeId, extra: NodeOptions = {}): Peer {
    const old = this.peer(id);
    const node = new RawNode({ electionTick: 10, heartbeatTick: 1, ...this.opts, ...extra, id, storage: old.storage, random: seeded(this.seed++) });
    const p: Peer = { ...old, node, applied: [], appliedIndexes: [], readStates: [] };
    this.peers.set(id, p);
    return p;
  }

  peer(id: NodeId): Peer {
    const p = this.peers.get(id);
    if (!p) throw new Error(`no node ${id}`);
    return p;
  }

  node(id: NodeId): RawNode {
    return this.peer(id).node;
  }

  /** Cuts both directions between a and b. */
  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}>${b}`);
    this.cuts.add(`${b}>${a}`);
  }

  /** Cuts one direction only. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  heal(): void {
    this.cuts.clear();
  }

  /** A stopped node neither ticks nor receives. */
  stop(id: NodeId): void {
    this.down.add(id);
  }

  start(id: NodeId): void {
    this.down.delete(id);
  }

  /** Handles one Ready of `id` if any; returns its outgoing messages. */
  private handleReady(id: NodeId): Message[] {
    const p = this.peer(id);
    if (!p.node.hasReady()) return [];
    const rd = p.node.ready();
    // 1. persist
    if (rd.snapshot) p.storage.applySnapshot(rd.snapshot);
    p.storage.append(rd.entries);
    if (rd.hardState) p.storage.setHardState(rd.hardState);
    // 3. apply (a snapshot's data is the JSON list of applied commands)
    if (rd.snapshot) {
      p.applied = JSON.parse(dec(rd.snapshot.data)) as string[];
      p.confState = rd.snapshot.meta.confState;
    }
    for (const e of rd.committedEntries) this.apply(p, e);
    p.readStates.push(...rd.readStates);
    p.sent.push(...rd.messages);
    p.node.advance();
    // 2. messages are sent after persisting (queued here, delivered by the caller)
    return [...rd.messages];
  }

  private apply(p: Peer, e: Entry): void {
    p.appliedIndexes.push(e.index);
    if (e.type === 'conf-change') {
      p.confState = p.node.applyConfChange(decodeConfChange(e.data));
      p.confHistory.push(p.confState);
    } else if (e.data.length > 0) {
      p.applied.push(dec(e.data));
    }
  }

  /** Takes a snapshot of `id`'s applied state at its applied index and compacts its log up to it. */
  compact(id: NodeId): number {
    const p = this.peer(id);
    const st = p.node.status();
    const cs = p.confState ?? st.confState;
    p.storage.createSnapshot(st.applied, cs, enc(JSON.stringify(p.applied)));
    p.storage.compact(st.applied);
    return st.applied;
  }

  /** Delivers one message (unless cut/down/filtered). Snapshots are reported as finished. */
  deliver(m: Message): void {
    if (this.down.has(m.to) || this.down.has(m.from) || this.cuts.has(`${m.from}>${m.to}`) || (this.filter && !this.filter(m))) {
      this.dropped.push(m);
      return;
    }
    const to = this.peers.get(m.to);
    if (!to) return;
    to.node.step(m);
    if (m.type === 'MsgSnap') this.peers.get(m.from)?.node.reportSnapshot(m.to, 'finish');
  }

  /** Processes Readies and delivers messages until the network is quiet. */
  flush(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const msgs: Message[] = [];
      for (const id of this.peers.keys()) {
        if (this.down.has(id)) continue;
        msgs.push(...this.handleReady(id));
      }
      if (msgs.length === 0) return;
      for (const m of msgs) this.deliver(m);
    }
    throw new Error(`network did not settle within ${maxRounds} rounds`);
  }

  /** Ticks every live node `n` times, flushing after each tick. */
  tick(n = 1, ids?: NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids ?? [...this.peers.keys()]) if (!this.down.has(id)) this.node(id).tick();
      this.flush();
    }
  }

  /** Campaigns `id` and lets the election finish. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.flush();
  }

  /** Ids of nodes that currently think they are leader. */
  leaders(): NodeId[] {
    return [...this.peers.entries()].filter(([id, p]) => !this.down.has(id) && p.node.status().role === 'leader').map(([id]) => id);
  }

  /** Proposes on `id` and flushes. */
  propose(id: NodeId, cmd: string): void {
    this.node(id).propose(enc(cmd));
    this.flush();
  }
}
