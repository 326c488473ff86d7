import { z } from 'zod';
import type { StateMachine } from '../state-machine';
import type { RaftStores } from '../storage/stores';
import type { Transport } from '../transport/transport';
import { RaftOptionsError } from './errors';

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
export const raftNodeOptionsSchema = z
  .object({
    /** This node's id. */
    id: z.string().min(1),
    /** Bootstrap voters (this node included) for a brand-new cluster; ignored once storage holds state. Omit on a node that joins later. */
    peers: z.array(z.string().min(1)).optional(),
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
    /** Random source in [0, 1) for election timeouts. Default Math.random. */
    random: z.custom<() => number>((v) => typeof v === 'function', { message: 'must be a function returning a number in [0, 1)' }).optional(),
    timers: z.custom<NodeTimers>(hasMethods(['setInterval', 'clearInterval']), { message: 'must have setInterval and clearInterval' }).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.electionTimeoutMs <= o.heartbeatIntervalMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['electionTimeoutMs'],
        message: `electionTimeoutMs (${o.electionTimeoutMs}) must be greater than heartbeatIntervalMs (${o.heartbeatIntervalMs})`,
      });
    }
    const tick = o.tickMs ?? o.heartbeatIntervalMs;
    if (tick > o.heartbeatIntervalMs) {
      ctx.addIssue({ code: 'custom', path: ['tickMs'], message: `tickMs (${tick}) must not exceed heartbeatIntervalMs (${o.heartbeatIntervalMs})` });
    }
  });

/** Options of `RaftNode.create`. */
export type RaftNodeOptions<R = unknown> = Omit<z.input<typeof raftNodeOptionsSchema>, 'stateMachine'> & { stateMachine: StateMachine<R> };

/** Options after validation and defaults, with tick counts derived. */
export interface ResolvedNodeOptions extends z.output<typeof raftNodeOptionsSchema> {
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  timers: NodeTimers;
  random: () => number;
}

/** Parses options; throws RaftOptionsError naming the first bad field and its value. */
export function resolveNodeOptions(options: unknown): ResolvedNodeOptions {
  const r = raftNodeOptionsSchema.safeParse(options);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    let got: unknown = options;
    for (const k of issue?.path ?? []) got = (got as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey];
    const shown = typeof got === 'function' ? 'a function' : typeof got === 'object' && got !== null ? 'an object' : JSON.stringify(got);
    throw new RaftOptionsError(`RaftNode option ${path}: ${issue?.message ?? 'invalid'} (got ${shown})`, path, { cause: r.error });
  }
  const o = r.data;
  const tickMs = o.tickMs ?? o.heartbeatIntervalMs;
  const heartbeatTick = Math.max(1, Math.round(o.heartbeatIntervalMs / tickMs));
  const electionTick = Math.max(heartbeatTick + 1, Math.round(o.electionTimeoutMs / tickMs));
  return { ...o, tickMs, heartbeatTick, electionTick, timers: o.timers ?? realTimers, random: o.random ?? Math.random };
}

