import type { Socket } from 'node:net';
import type { DnsServerCounters } from './dns-counters';
import type { DnsTimers } from './dns-server-options';

const EMPTY = Buffer.alloc(0);

/**
 * Splits a DNS-over-TCP byte stream into messages (RFC 1035 §4.2.2: each
 * message after a 2-byte big-endian length). Push chunks as they arrive,
 * then call {@link DnsFrameDecoder.next} until it returns undefined.
 *
 * Memory is linear in what was pushed: a frame within one chunk is returned
 * as a view of that chunk (valid until the chunk is reused — callers read it
 * at once); a frame spread over chunks is copied once into a buffer of the
 * announced length, however small the chunks (no re-concatenation).
 */
export class DnsFrameDecoder {
  private readonly queue: Buffer[] = [];
  /** Read position in `queue[0]`. */
  private offset = 0;
  /** Unread bytes in `queue`. */
  private queued = 0;
  /** The first byte of a length prefix whose second byte has not come; -1 when none. */
  private high = -1;
  /** Length of the message being read; -1 while reading its prefix. */
  private want = -1;
  private frame: Buffer | undefined;
  private filled = 0;

  /** Adds received bytes (kept by reference until consumed). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
  }

  /** Bytes held: pushed but not yet returned as part of a message. */
  get buffered(): number {
    return this.queued + this.filled + (this.high >= 0 ? 1 : 0);
  }

  /** True when part of a message (or of its length prefix) has arrived but not all of it. */
  get partial(): boolean {
    return this.want >= 0 || this.high >= 0;
  }

  /** The next whole message (without its prefix; possibly empty), or undefined until more bytes come. */
  next(): Buffer | undefined {
    for (;;) {
      if (this.queued === 0) return undefined;
      const head = this.queue[0] as Buffer;
      if (this.want < 0) {
        const b = head[this.offset] as number;
        this.advance(1);
        if (this.high < 0) {
          this.high = b;
          continue;
        }
        this.want = (this.high << 8) | b;
        this.high = -1;
        if (this.want === 0) {
          this.want = -1;
          return EMPTY;
        }
        continue;
      }
      const avail = head.length - this.offset;
      if (this.frame === undefined && avail >= this.want) {
        const out = head.subarray(this.offset, this.offset + this.want);
        this.advance(this.want);
        this.want = -1;
        return out;
      }
      if (this.frame === undefined) this.frame = Buffer.allocUnsafe(this.want);
      const n = Math.min(this.want - this.filled, avail);
      head.copy(this.frame, this.filled, this.offset, this.offset + n);
      this.filled += n;
      this.advance(n);
      if (this.filled === this.want) {
        const out = this.frame;
        this.frame = undefined;
        this.filled = 0;
        this.want = -1;
        return out;
      }
    }
  }

  private advance(n: number): void {
    this.offset += n;
    this.queued -= n;
    if (this.offset === (this.queue[0] as Buffer).length) {
      this.queue.shift();
      this.offset = 0;
    }
  }
}

/** Queries one TCP connection may have in flight (forwarded, awaiting an upstream) before the server stops reading from it. */
export const MAX_TCP_IN_FLIGHT = 32;

/** What a {@link DnsTcpSession} needs from its server. */
export interface DnsTcpContext {
  /** Answers one message: the answer with its 2-byte length prefix, undefined for none, or a promise of either (never rejecting). */
  respond(message: Buffer): Buffer | undefined | Promise<Buffer | undefined>;
  readonly timers: DnsTimers;
  /** Idle timeout in ms. */
  readonly idleTimeoutMs: number;
  /** Bytes held (unanswered input plus unsent output) beyond which the connection is closed. */
  readonly maxBufferBytes: number;
  readonly counters: DnsServerCounters;
}

/**
 * One DNS-over-TCP connection (RFC 7766): any number of queries, pipelined;
 * answers are written as they are ready (local ones in order, forwarded ones
 * when their upstream answers — clients match them by id, §6.2.1.1). Up to
 * {@link MAX_TCP_IN_FLIGHT} forwarded queries in flight; beyond that the
 * socket is paused. Closed on: the idle timeout (no whole frame received and
 * nothing in flight for `idleTimeoutMs`), holding more than
 * `maxBufferBytes`, a socket error, or the client's end of stream once every
 * answer is written. Never throws out of a socket event.
 */
export class DnsTcpSession {
  private readonly decoder = new DnsFrameDecoder();
  private inFlight = 0;
  private paused = false;
  private ended = false;
  /** No more reading or writing (ended, overflowed, idle, destroyed). */
  private closed = false;
  /** `onClose` was called. */
  private released = false;
  private timer: unknown;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: DnsTcpContext,
    private readonly onClose: (session: DnsTcpSession) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.ended = true;
      this.maybeEnd();
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.cleanup());
    this.arm();
  }

  /** Closes the connection at once (answers in flight are dropped). */
  destroy(): void {
    this.socket.destroy();
    this.cleanup();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.push(chunk);
    if (this.decoder.buffered + this.socket.writableLength > this.ctx.maxBufferBytes) return this.overflow();
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < MAX_TCP_IN_FLIGHT) {
      const frame = this.decoder.next();
      if (frame === undefined) break;
      this.arm();
      const r = this.ctx.respond(frame);
      if (r === undefined) continue;
      if (r instanceof Uint8Array) {
        this.write(r);
        continue;
      }
      this.inFlight++;
      void r.then((answer) => {
        this.inFlight--;
        if (answer !== undefined) this.write(answer);
        this.pump();
        this.maybeEnd();
      });
    }
    if (this.closed) return;
    const full = this.inFlight >= MAX_TCP_IN_FLIGHT;
    if (full && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private write(answer: Buffer): void {
    if (this.closed) return;
    this.socket.write(answer);
    this.arm();
    if (this.decoder.buffered + this.socket.writableLength > this.ctx.maxBufferBytes) this.overflow();
  }

  private maybeEnd(): void {
    if (this.ended && this.inFlight === 0 && !this.closed) {
      // The client is done sending and has every answer: close our half too ('close' follows).
      this.closed = true;
      if (this.timer !== undefined) this.ctx.timers.clearTimeout(this.timer);
      this.timer = undefined;
      this.socket.end();
    }
  }

  private overflow(): void {
    this.ctx.counters.tcpOverflow++;
    this.destroy();
  }

  private arm(): void {
    if (this.closed) return;
    const { timers } = this.ctx;
    if (this.timer !== undefined) timers.clearTimeout(this.timer);
    this.timer = timers.setTimeout(() => this.idle(), this.ctx.idleTimeoutMs);
  }

  private idle(): void {
    this.timer = undefined;
    if (this.closed) return;
    if (this.inFlight > 0) return this.arm();
    this.ctx.counters.tcpIdleClosed++;
    this.destroy();
  }

  private cleanup(): void {
    if (this.released) return;
    this.released = true;
    this.closed = true;
    if (this.timer !== undefined) this.ctx.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.onClose(this);
  }
}
