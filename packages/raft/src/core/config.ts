/**
 * Options of {@link RawNode}, validated once at construction with zod.
 */
import { parseOptions, type Random } from '@weft/interface';
import { z } from 'zod';
import type { NodeId, RaftStorage } from './types';

/** Options of a {@link RawNode}. All tick counts are in ticks (the driver decides how long a tick is). */
export interface RawNodeConfig {
  /** This node's id (non-empty). */
  id: NodeId;
  /** The core's read view of persisted state; the driver appends to it before calling `advance()`. */
  storage: RaftStorage;
  /** Bootstrap voters, used only when storage is empty (last index 0 and hard state term 0). */
  peers?: NodeId[];
  /** Ticks without hearing from a leader before campaigning; the actual timeout is random in [electionTick, 2*electionTick). Default 10. */
  electionTick?: number;
  /** Ticks between leader heartbeats; must be < electionTick. Default 1. */
  heartbeatTick?: number;
  /** Run a pre-vote round before a real election (thesis §9.6). Default true. */
  preVote?: boolean;
  /** A leader steps down without a quorum active within an election timeout; followers honour a leader lease. Default true. */
  checkQuorum?: boolean;
  /** Maximum bytes of entries in one MsgApp (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Maximum MsgApp messages in flight per follower in replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Maximum bytes of entries in flight per follower; 0 = unlimited. Default 0. */
  maxInflightBytes?: number;
  /** Index the state machine has already applied (after a restart from a snapshot). Default 0. */
  applied?: number;
  /** Random source in [0, 1); inject a seeded one (`seededRandom` from `@weft/interface`) for replayable runs. */
  random: Random;
  /** Maximum bytes of committed entries in one Ready (at least one entry). Default unlimited. */
  maxCommittedSizePerReady?: number;
}

const positiveInt = z.number().int().min(1);
const nonNegInt = z.number().int().min(0);

const schema = z
  .object({
    id: z.string().min(1, 'must be a non-empty string'),
    storage: z.custom<RaftStorage>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        ['initialState', 'entries', 'term', 'firstIndex', 'lastIndex', 'snapshot'].every(
          (k) => typeof (v as Record<string, unknown>)[k] === 'function',
        ),
      { message: 'must implement RaftStorage (initialState, entries, term, firstIndex, lastIndex, snapshot)' },
    ),
    peers: z.array(z.string().min(1, 'must be a non-empty string')).optional(),
    electionTick: positiveInt.default(10),
    heartbeatTick: positiveInt.default(1),
    preVote: z.boolean().default(true),
    checkQuorum: z.boolean().default(true),
    maxSizePerMsg: nonNegInt.default(1024 * 1024),
    maxInflightMsgs: positiveInt.default(256),
    maxInflightBytes: nonNegInt.default(0),
    applied: nonNegInt.default(0),
    random: z.custom<Random>((v) => typeof v === 'function', { message: 'must be a function returning a number in [0, 1)' }),
    maxCommittedSizePerReady: nonNegInt.optional(),
  })
  .refine((c) => c.heartbeatTick < c.electionTick, {
    path: ['electionTick'],
    message: 'must be greater than heartbeatTick',
  });

export type ResolvedConfig = z.output<typeof schema>;

/**
 * Validates `config`.
 * @throws InvalidOptionsError (from `@weft/interface`) naming the first bad field and its value.
 */
export function resolveConfig(config: RawNodeConfig): ResolvedConfig {
  return parseOptions(schema, config, 'RawNode');
}
