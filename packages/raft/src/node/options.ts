import { parseOptions, type Random, type StateMachine } from '@weft/interface';
import { z } from 'zod';
import type { RaftStores } from '../storage/stores';
import type { Transport } from '../transport/transport';

/** Timer functions the node uses; inject fakes (e.g. jest modern timers) for replayable runs. */
export interface NodeTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: NodeTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

const hasMethods = (names: string[]) => (v: unknown) =>
  typeof v === 'object' && v !== null && names.every((k) => typeof (v as Record<string, unknown>)[k] === 'function');

const ms = z.number().int().min(1);

/** Schema of {@link RaftNodeOptions}; every field error names the field. */
const raftNodeOptionsSchema = z
  .object({
    /** This node's id. */
    id: z.string().min(1, 'must be a non-empty string'),
    /** Bootstrap voters (this node included) for a brand-new cluster; ignored once storage holds state. Omit on a node that joins later. */
    peers: z.array(z.string().min(1, 'must be a non-empty string')).optional(),
    stateMachine: z.custom<StateMachine<unknown>>(hasMethods(['apply', 'snapshot', 'restore']), {
      message: 'must implement StateMachine (apply, snapshot, restore)',
    }),
    transport: z.custom<Transport>(hasMethods(['send', 'onMessage', 'close']), { message: 'must implement Transport (send, onMessage, close)' }),
    stores: z.custom<RaftStores>(
      (v) => typeof v === 'object' && v !== null && ['log', 'stable', 'snapshots'].every((k) => typeof (v as Record<string, unknown>)[k] === 'object'),
      { message: 'must be RaftStores ({ log, stable, snapshots }), e.g. memoryStores() or a LevelStorage' },
    ),
    /** Minimum election timeout (ms); the real one is random in [t, 2t). Default 1000. */
    electionTimeoutMs: ms.default(1000),
    /** Leader heartbeat interval (ms). Default 100. */
    heartbeatIntervalMs: ms.default(100),
    /** Length of one core tick (ms). Default: heartbeatIntervalMs. Both timeouts are rounded to whole ticks. */
    tickMs: ms.optional(),
    preVote: z.boolean().default(true),
    checkQuorum: z.boolean().default(true),
    /** Take a snapshot once this many entries were applied since the last one. Default 10000. */
    snapshotThreshold: z.number().int().min(1).default(10_000),
    /** Entries kept in the log behind a snapshot so slow followers catch up without one. Default 1000. */
    snapshotTrailingEntries: z.number().int().min(0).default(1000),
    /** A proposal, read or membership change not answered within this time rejects with RequestTimeoutError (ms). Default 10000. */
    requestTimeoutMs: ms.default(10_000),
    /** Maximum bytes of entries per append message. Default 1 MiB. */
    maxSizePerMsg: z.number().int().min(0).default(1024 * 1024),
    /** Maximum append messages in flight per follower. Default 256. */
    maxInflightMsgs: z.number().int().min(1).default(256),
    /** Random source in [0, 1) for election timeouts (`seededRandom` from `@weft/interface` for replayable runs). Default Math.random. */
    random: z.custom<Random>((v) => typeof v === 'function', { message: 'must be a function returning a number in [0, 1)' }).optional(),
    timers: z.custom<NodeTimers>(hasMethods(['setInterval', 'clearInterval']), { message: 'must have setInterval and clearInterval' }).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.electionTimeoutMs <= o.heartbeatIntervalMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['electionTimeoutMs'],
        message: `must be greater than heartbeatIntervalMs (${o.heartbeatIntervalMs})`,
      });
    }
    const tick = o.tickMs ?? o.heartbeatIntervalMs;
    if (tick > o.heartbeatIntervalMs) {
      ctx.addIssue({ code: 'custom', path: ['tickMs'], message: `must not exceed heartbeatIntervalMs (${o.heartbeatIntervalMs})` });
    }
  });

/** Options of `RaftNode.create`; validated once (bad ones throw `InvalidOptionsError` naming the field). */
export interface RaftNodeOptions<R = unknown> {
  /** This node's id (non-empty). */
  readonly id: string;
  /** Bootstrap voters (this node included) for a brand-new cluster; ignored once storage holds state. Omit on a node that joins later. */
  readonly peers?: readonly string[];
  /** The replicated application; the node owns it after `create` resolves. */
  readonly stateMachine: StateMachine<R>;
  /** Moves messages to the other nodes; closed by `close()`. */
  readonly transport: Transport;
  /** Durable state: `memoryStores()` or a `LevelStorage` (`@weft/raft/level`); closed by `close()`. */
  readonly stores: RaftStores;
  /** Minimum election timeout (ms); the real one is random in [t, 2t). Must exceed `heartbeatIntervalMs`. Default 1000. */
  readonly electionTimeoutMs?: number;
  /** Leader heartbeat interval (ms). Default 100. */
  readonly heartbeatIntervalMs?: number;
  /** Length of one core tick (ms), at most `heartbeatIntervalMs`. Default: heartbeatIntervalMs. Both timeouts are rounded to whole ticks. */
  readonly tickMs?: number;
  /** Run a pre-vote round before an election (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** A leader steps down without an active quorum; followers honour a leader lease. Default true. */
  readonly checkQuorum?: boolean;
  /** Take a snapshot once this many entries were applied since the last one. Default 10000. */
  readonly snapshotThreshold?: number;
  /** Entries kept in the log behind a snapshot so slow followers catch up without one. Default 1000. */
  readonly snapshotTrailingEntries?: number;
  /** A proposal, read or membership change not answered within this time rejects with RequestTimeoutError (ms). Default 10000. */
  readonly requestTimeoutMs?: number;
  /** Maximum bytes of entries per append message. Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Maximum append messages in flight per follower. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Random source in [0, 1) for election timeouts (`seededRandom` from `@weft/interface` for replayable runs). Default Math.random. */
  readonly random?: Random;
  /** Timer functions; inject fakes for replayable runs. Default: the global setInterval/clearInterval. */
  readonly timers?: NodeTimers;
}

/** Compile-time check that the public interface and the schema name the same options. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const optionsMatchSchema: SameKeys<RaftNodeOptions, z.input<typeof raftNodeOptionsSchema>> = true;
void optionsMatchSchema;

/** Options after validation and defaults, with tick counts derived. */
export interface ResolvedNodeOptions extends z.output<typeof raftNodeOptionsSchema> {
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  timers: NodeTimers;
  random: Random;
}

/**
 * Parses options.
 * @throws InvalidOptionsError (from `@weft/interface`) naming the first bad field and its value.
 */
export function resolveNodeOptions(options: unknown): ResolvedNodeOptions {
  const o = parseOptions(raftNodeOptionsSchema, options, 'RaftNode.create');
  const tickMs = o.tickMs ?? o.heartbeatIntervalMs;
  const heartbeatTick = Math.max(1, Math.round(o.heartbeatIntervalMs / tickMs));
  const electionTick = Math.max(heartbeatTick + 1, Math.round(o.electionTimeoutMs / tickMs));
  return { ...o, tickMs, heartbeatTick, electionTick, timers: o.timers ?? realTimers, random: o.random ?? Math.random };
}

