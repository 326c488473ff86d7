/**
 * Durability checks over strace traces of the three node processes:
 *
 * - leader: every put the client saw acknowledged was, before the
 *   acknowledgement left (its write on the client socket), written to the
 *   LevelDB log file (`*.log` in the node's data directory) and that same file
 *   fsynced/fdatasynced afterwards;
 * - followers: before a follower's MsgAppResp (success, index X) left, every
 *   traced entry up to X had been written to its log file and that file synced.
 *
 * Entries are recognised by a marker string in the put value; the leader's
 * MsgApp messages (decoded from its raft sockets with our wire codec) give
 * each marker's log index.
 */
import type { Message } from '../../../src/core/types';
import { decodeMessage } from '../../../src/transport/codec';
import { tcpPorts, type SyscallEvent } from './strace-log';

/** One node's trace and where it keeps things. */
export interface NodeTrace {
  readonly id: string;
  readonly events: readonly SyscallEvent[];
  readonly dataDir: string;
  readonly clientPort: number;
}

/** A put the client saw acknowledged: its request id and the marker in its value. */
export interface AckedPut {
  readonly requestId: number;
  readonly marker: string;
}

/** What a check looked at and what it found wrong. */
export interface CheckResult {
  /** Acknowledgements (leader) or (follower, entry) pairs checked. */
  checked: number;
  violations: string[];
}

const isLog = (t: NodeTrace, e: SyscallEvent): boolean => e.target.startsWith(`${t.dataDir}/`) && e.target.endsWith('.log');
const isWrite = (e: SyscallEvent): boolean => e.name === 'write' || e.name === 'writev' || e.name === 'pwrite64';
const isSync = (e: SyscallEvent): boolean => e.name === 'fsync' || e.name === 'fdatasync';

/**
 * Whether `marker` was written to the node's log and that file synced, both
 * finished before line `before`; a violation message otherwise.
 */
function durableBefore(t: NodeTrace, marker: string, before: number, what: string): string | undefined {
  const needle = Buffer.from(marker);
  const w = t.events.find((e) => isWrite(e) && isLog(t, e) && e.end < before && e.data.includes(needle));
  if (!w) return `${t.id}: ${what} (line ${before}) but ${marker} was not written to its LevelDB log before it`;
  const s = t.events.find((e) => isSync(e) && e.target === w.target && e.ret === 0 && e.start > w.end && e.end < before);
  if (!s) return `${t.id}: ${what} (line ${before}) but its log write of ${marker} (line ${w.end}, ${w.target}) was not fsynced in between`;
  return undefined;
}

/** Checks every acknowledged put against the leader's trace. `clientLocalPort`: the client's end of the connection. */
export function checkLeaderAcks(leader: NodeTrace, clientLocalPort: number, acked: readonly AckedPut[]): CheckResult {
  const violations: string[] = [];
  const replies = leader.events.filter((e) => {
    const p = isWrite(e) ? tcpPorts(e.target) : undefined;
    return p !== undefined && p.local === leader.clientPort && p.remote === clientLocalPort;
  });
  for (const put of acked) {
    const needle = Buffer.from(`{"id":${put.requestId},"ok":true,"revision"`);
    const ack = replies.find((e) => e.data.includes(needle));
    if (!ack) {
      violations.push(`${leader.id}: no acknowledgement of request ${put.requestId} found in the trace`);
      continue;
    }
    const v = durableBefore(leader, put.marker, ack.start, `acknowledged ${put.marker} to the client`);
    if (v) violations.push(v);
  }
  return { checked: acked.length, violations };
}

/** A raft message a node wrote, and the trace line of the write holding its first byte. */
export interface SentMessage {
  readonly message: Message;
  readonly line: number;
}

/** Decodes what `t` wrote on its raft connections (TCP sockets to any port in `raftPorts`), frame by frame. */
export function sentRaftMessages(t: NodeTrace, raftPorts: ReadonlySet<number>): SentMessage[] {
  const byConnection = new Map<string, SyscallEvent[]>();
  for (const e of t.events) {
    const p = isWrite(e) ? tcpPorts(e.target) : undefined;
    if (p === undefined || !raftPorts.has(p.remote) || e.data.length === 0) continue;
    const list = byConnection.get(e.target) ?? [];
    list.push(e);
    byConnection.set(e.target, list);
  }
  const out: SentMessage[] = [];
  for (const writes of byConnection.values()) {
    const stream = Buffer.concat(writes.map((w) => w.data));
    const lineAt: number[] = [];
    for (const w of writes) for (let i = 0; i < w.data.length; i++) lineAt.push(w.start);
    let off = 0;
    while (off + 4 <= stream.length) {
      const len = stream.readUInt32BE(off);
      if (off + 4 + len > stream.length) break; // a frame cut off by the end of the trace
      out.push({ message: decodeMessage(stream, off + 4, off + 4 + len), line: lineAt[off]! });
      off += 4 + len;
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Log index of each marker, from the entries the leader sent. */
export function markerIndexes(leaderSent: readonly SentMessage[], markers: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { message } of leaderSent) {
    for (const e of message.entries ?? []) {
      const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
      for (const m of markers) if (!out.has(m) && data.includes(Buffer.from(m))) out.set(m, e.index);
    }
  }
  return out;
}

/** Checks that `follower` synced every marked entry before any append response covering it left. */
export function checkFollowerAppends(follower: NodeTrace, sent: readonly SentMessage[], indexOf: ReadonlyMap<string, number>): CheckResult & { covered: Set<string> } {
  const violations: string[] = [];
  const covered = new Set<string>();
  for (const { message, line } of sent) {
    if (message.type !== 'MsgAppResp' || message.reject === true || message.index === undefined) continue;
    for (const [marker, index] of indexOf) {
      if (index > message.index || covered.has(marker)) continue;
      covered.add(marker);
      const v = durableBefore(follower, marker, line, `sent MsgAppResp index ${message.index} covering entry ${index}`);
      if (v) violations.push(v);
    }
  }
  return { checked: covered.size, violations, covered };
}
