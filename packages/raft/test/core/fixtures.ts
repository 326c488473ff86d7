/**
 * Builders for single RawNodes with a prepared log, for tests that step
 * messages by hand.
 */
import { MemoryStorage, RawNode } from '../../src/core';
import type { Entry, Message, NodeId } from '../../src/core/types';
import { seeded } from './network';

/**
 * A storage whose log holds a snapshot at index 1 (term 1, membership
 * `voters`) followed by one entry per element of `terms` (indexes 2, 3, ...).
 */
export function storageWith(voters: NodeId[], terms: number[], hard?: { term: number; vote?: NodeId | null; commit?: number }): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({
    meta: { index: 1, term: 1, confState: { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
    data: new Uint8Array(0),
  });
  const ents: Entry[] = terms.map((t, i) => ({ term: t, index: i + 2, type: 'normal', data: new Uint8Array([i]) }));
  s.append(ents);
  const lastTerm = terms.length > 0 ? (terms[terms.length - 1] as number) : 1;
  s.setHardState({ term: hard?.term ?? lastTerm, vote: hard?.vote ?? null, commit: hard?.commit ?? 1 });
  return s;
}

export function nodeWith(
  id: NodeId,
  storage: MemoryStorage,
  opts: { preVote?: boolean; checkQuorum?: boolean; electionTick?: number; maxInflightMsgs?: number; seed?: number } = {},
): RawNode {
  const { seed, ...rest } = opts;
  return new RawNode({ id, storage, applied: 1, random: seeded(seed ?? 7), preVote: false, checkQuorum: false, ...rest });
}

/** Drains a node's Ready into its storage; returns the messages (and the Ready). */
export function drain(node: RawNode, storage: MemoryStorage): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < 100 && node.hasReady(); i++) {
    const rd = node.ready();
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    out.push(...rd.messages);
    node.advance();
  }
  return out;
}

export function entriesOf(storage: MemoryStorage): { index: number; term: number }[] {
  if (storage.lastIndex() < storage.firstIndex()) return [];
  return storage.entries(storage.firstIndex(), storage.lastIndex() + 1).map((e) => ({ index: e.index, term: e.term }));
}
