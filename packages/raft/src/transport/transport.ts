import type { SocketAddress } from '@weft/interface';
import type { Message, NodeId } from '../core/types';

/** Receives messages addressed to the local node, already decoded and validated. */
export type MessageHandler = (message: Message) => void;

/**
 * Moves Raft messages between nodes (hashicorp/raft's Transport, reduced to
 * what an etcd-style core needs). Delivery is best effort: messages may be
 * lost, duplicated or reordered, and Raft tolerates all three. `send` never
 * throws for an unreachable peer; it drops and counts.
 */
export interface Transport {
  /** The id of the node this transport sends from and receives for. */
  readonly localId: NodeId;
  /**
   * Queues `messages` for delivery to their `to` ids. The transport does not
   * mutate the messages; in-memory transports may hand the same objects to the
   * receiver, so neither side may mutate them afterwards.
   */
  send(messages: readonly Message[]): void;
  /** Sets the single handler for incoming messages (replaces any previous one). */
  onMessage(handler: MessageHandler): void;
  /** Optional: called with a peer id when sending to it failed (the driver reports it to the core). */
  onUnreachable?(handler: (peer: NodeId) => void): void;
  /** Optional: the address a client should use for `peer` (a hint for `NotLeaderError.leaderAddress`). */
  addressOf?(peer: NodeId): SocketAddress | undefined;
  /** Stops sending and receiving and releases sockets and timers. Idempotent. */
  close(): Promise<void>;
}
