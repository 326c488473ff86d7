import { InvalidOptionsError } from '@weft/interface';

/** Log levels, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured logging: one JSON object per line (`ts`, `level`, `msg`, then fields). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function plain(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, ...('code' in v ? { code: (v as { code: unknown }).code } : {}) };
  return v;
}

/**
 * A {@link Logger} writing JSON lines to `write` (default: standard error),
 * dropping entries below `level`.
 * @throws InvalidOptionsError naming `level` or `write` when they are not a level name and a function.
 */
export function jsonLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = LOG_LEVELS.indexOf(level);
  if (min < 0) throw new InvalidOptionsError('level', `jsonLogger: option "level" must be one of ${LOG_LEVELS.join(', ')}`);
  if (typeof write !== 'function') throw new InvalidOptionsError('write', 'jsonLogger: option "write" must be a function');
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      if (LOG_LEVELS.indexOf(lvl) < min) return;
      const entry: Record<string, unknown> = { ts: new Date().toISOString(), level: lvl, msg };
      for (const [k, v] of Object.entries(fields)) entry[k] = plain(v);
      let line: string;
      try {
        line = JSON.stringify(entry);
      } catch {
        line = JSON.stringify({ ts: entry.ts, level: lvl, msg, note: 'fields not serializable' });
      }
      write(line + '\n');
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
