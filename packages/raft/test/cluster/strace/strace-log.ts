/**
 * Reads the output of `strace -f -o FILE -xx -yy -s N -e trace=write,writev,
 * pwrite64,fsync,fdatasync` into events in the order strace reported them.
 *
 * Order is causal across threads: a thread stopped at a syscall exit does not
 * run on until strace has printed that exit, so anything another thread does
 * because of it (e.g. the main thread acknowledging a put once the libuv
 * worker's fdatasync returned) appears on a later line. A call interrupted by
 * another thread's line is printed as `<unfinished ...>` and completed by a
 * `<... name resumed>` line; an event keeps both positions.
 */

/** One traced syscall. */
export interface SyscallEvent {
  readonly name: 'write' | 'writev' | 'pwrite64' | 'fsync' | 'fdatasync';
  readonly pid: number;
  /** What `-yy` printed for the fd: a file path, or `TCP:[a:p->b:q]` for a socket. */
  readonly target: string;
  /** Bytes written (the first `return value` bytes of the buffers); empty for syncs. */
  readonly data: Buffer;
  /** The syscall's return value (-1 on error). */
  readonly ret: number;
  /** Line index where the call started (entry). */
  readonly start: number;
  /** Line index where it returned. */
  readonly end: number;
}

/** A line this parser does not understand (strace changed its format, or -xx/-yy are missing). */
export class StraceFormatError extends Error {
  override name = 'StraceFormatError';
}

const NAMES = new Set(['write', 'writev', 'pwrite64', 'fsync', 'fdatasync']);
const CALL = /^(\w+)\((\d+)<(.+?)>(?:, |\))/;
const HEX_STRING = /"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?/g;
const RET = /\)\s+=\s+(-?\d+)(?:\s+[A-Z]\w*\s+\(.*\))?\s*$/;

function hexString(s: string): Buffer {
  return Buffer.from(s.replace(/\\x/g, ''), 'hex');
}

function parseCall(text: string, pid: number, start: number, end: number): SyscallEvent | undefined {
  const m = CALL.exec(text);
  if (!m) return undefined;
  const name = m[1]!;
  if (!NAMES.has(name)) return undefined;
  const retMatch = RET.exec(text);
  if (!retMatch) throw new StraceFormatError(`strace line without a return value: ${text.slice(0, 200)}`);
  const ret = Number(retMatch[1]);
  let data = Buffer.alloc(0);
  if (name === 'write' || name === 'writev' || name === 'pwrite64') {
    const parts: Buffer[] = [];
    for (const s of text.matchAll(HEX_STRING)) {
      if (s[2] !== undefined) throw new StraceFormatError(`strace truncated a buffer (raise -s): ${text.slice(0, 200)}`);
      parts.push(hexString(s[1]!));
    }
    data = Buffer.concat(parts).subarray(0, Math.max(0, ret));
  }
  // -xx escapes file paths too; socket descriptions stay plain.
  const target = m[3]!.includes('\\x') ? hexString(m[3]!).toString('utf8') : m[3]!;
  return { name: name as SyscallEvent['name'], pid, target, data, ret, start, end };
}

/** Parses a whole `strace -f -o` file. */
export function parseStrace(text: string): SyscallEvent[] {
  const events: SyscallEvent[] = [];
  const pending = new Map<number, { text: string; start: number }>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\d+)\s+(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const pid = Number(m[1]);
    const rest = m[2]!;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const p = pending.get(pid);
      pending.delete(pid);
      if (!p) continue; // the call started before strace attached
      const e = parseCall(p.text + resumed[2]!, pid, p.start, i);
      if (e) events.push(e);
      continue;
    }
    // strace let go of the process in the middle of this call (it was killed as the trace ended): no result, nothing to judge.
    if (rest.endsWith(' <detached ...>')) continue;
    const unfinished = rest.indexOf(' <unfinished ...>');
    if (unfinished >= 0) {
      pending.set(pid, { text: rest.slice(0, unfinished), start: i });
      continue;
    }
    const e = parseCall(rest, pid, i, i);
    if (e) events.push(e);
  }
  return events;
}

/** Local and remote port of a `TCP:[a:p->b:q]` target, or undefined for anything else. */
export function tcpPorts(target: string): { local: number; remote: number } | undefined {
  const m = /^TCP:\[[^\]]*?:(\d+)->[^\]]*?:(\d+)\]$/.exec(target);
  return m ? { local: Number(m[1]), remote: Number(m[2]) } : undefined;
}
