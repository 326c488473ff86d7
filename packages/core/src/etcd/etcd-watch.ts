import { StoreClosedError, StoreUnavailableError, WatchCompactedError, type StoreWatch, type WatchEvent, type WatchListener } from '@weft/interface';
import type { Etcd3, IDuplexStream, IWatchCreateRequest, IWatchRequest, IWatchResponse } from 'etcd3';
import { EtcdRequestRefusedError } from './errors';
import { classifyFailure } from './failures';
import type { EtcdRange, KeySpace } from './key-space';
import { eventOf, int64, revisionOf } from './responses';

/** Counters a store keeps over its watches. */
export interface EtcdWatchStats {
  /** Watch streams opened (one per watch, plus one per reconnect). */
  watchStreams: number;
  /** Watches re-created on a new stream from their resume revision after the old one failed. */
  watchResumes: number;
  /** Events dropped because their revision was already delivered. */
  duplicateEvents: number;
  /** etcd progress notifications received (they move a quiet watch's resume revision on). */
  progressNotices: number;
}

/** What an {@link EtcdWatch} needs from its store. */
export interface EtcdWatchSetup {
  readonly client: Etcd3;
  readonly space: KeySpace;
  readonly range: EtcdRange;
  /** First revision to deliver. */
  readonly startRevision: number;
  readonly listener: WatchListener;
  readonly onError: ((error: unknown) => void) | undefined;
  /** How long the first creation may take (ms) before `established` rejects with StoreUnavailableError. */
  readonly establishTimeoutMs: number;
  /**
   * A read at `startRevision` already found it compacted: wait for etcd's
   * cancellation (which carries the compact revision) and reject
   * `established` with WatchCompactedError, rather than resolving on creation.
   */
  readonly expectCompaction: boolean;
  readonly stats: EtcdWatchStats;
  /** Called once when the watch ends, however it ends. */
  readonly onEnd: () => void;
}

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

/**
 * One store watch on its own etcd watch stream (etcd3's `watchClient`, so
 * connection pooling, auth and TLS are etcd3's).
 *
 * Why not etcd3's `Watcher`: after a stream failure it re-creates the watch
 * from the last response header's revision + 1, and it sets that from the
 * *creation* response too — a watch still replaying history when the
 * connection drops resumes after the current revision and loses the rest; and
 * it reports etcd's compaction cancel as a bare `Watcher canceled:` error
 * without the compact revision.
 *
 * Here the resume point is our own: `next` is the revision after the last
 * delivered event, raised to the revision of an etcd progress notification
 * (sent only to watchers that have delivered everything up to it, and used,
 * as etcd's Go client does, without the + 1). Each (re)creation asks for
 * `start_revision = next`, and events below `next` are dropped, so across
 * reconnects nothing is lost or delivered twice. A cancellation with a
 * compact revision C ends the watch with `WatchCompactedError(next, C - 1)`:
 * etcd keeps revision C itself (a watch from C is allowed).
 */
export class EtcdWatch {
  /** Resolves with the handle once etcd has created the watch; rejects if it cannot be. */
  readonly established: Promise<StoreWatch>;
  private resolveEstablished!: (w: StoreWatch) => void;
  private rejectEstablished!: (e: unknown) => void;
  private isEstablished = false;
  private live = true;
  private next: number;
  private stream: WatchStream | undefined;
  private generation = 0;
  private backoffMs = FIRST_BACKOFF_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private establishTimer: NodeJS.Timeout | undefined;
  private readonly handle: StoreWatch;

  constructor(private readonly setup: EtcdWatchSetup) {
    this.next = setup.startRevision;
    this.established = new Promise<StoreWatch>((resolve, reject) => {
      this.resolveEstablished = resolve;
      this.rejectEstablished = reject;
    });
    const self = this;
    this.handle = {
      cancel: () => this.stop(),
      get active() {
        return self.live;
      },
    };
  }

  /** Opens the stream; `established` settles within `establishTimeoutMs`. */
  start(): void {
    this.establishTimer = setTimeout(() => {
      this.fail(
        this.setup.expectCompaction
          ? // etcd refused a read at `next` as compacted, so its compact revision is above `next`: a lower bound.
            new WatchCompactedError(this.next, this.next)
          : new StoreUnavailableError(`etcd watch not established within ${this.setup.establishTimeoutMs} ms`, false),
      );
    }, this.setup.establishTimeoutMs);
    this.open();
  }

  /** Ends the watch because the store is closing: a pending `established` rejects with StoreClosedError; `onError` is not called. */
  close(): void {
    if (!this.live) return;
    this.stop();
    if (!this.isEstablished) this.rejectEstablished(new StoreClosedError('etcd store is closed'));
  }

  private stop(): void {
    if (!this.live) return;
    this.live = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.establishTimer);
    this.dropStream();
    this.setup.onEnd();
  }

  /** Ends the watch with an error: rejects `established`, or calls `onError` once. */
  private fail(error: unknown): void {
    if (!this.live) return;
    this.stop();
    if (!this.isEstablished) this.rejectEstablished(error);
    else this.setup.onError?.(error);
  }

  private createRequest(): IWatchCreateRequest {
    const { key, rangeEnd } = this.setup.range;
    return {
      key,
      ...(rangeEnd !== undefined ? { range_end: rangeEnd } : {}),
      start_revision: String(this.next),
      prev_kv: true,
      progress_notify: true,
    };
  }

  private open(): void {
    const generation = ++this.generation;
    this.setup.client.watchClient.watch().then(
      (stream) => {
        if (!this.live || generation !== this.generation) {
          cancelStream(stream);
          return;
        }
        this.stream = stream;
        this.setup.stats.watchStreams += 1;
        stream.on('data', (res: IWatchResponse) => {
          if (this.stream === stream) this.onResponse(res);
        });
        stream.on('error', (err: Error) => {
          if (this.stream === stream) this.onDown(err);
        });
        stream.on('end', () => {
          if (this.stream === stream) this.onDown(new Error('etcd ended the watch stream'));
        });
        stream.write({ create_request: this.createRequest() });
      },
      (err: unknown) => {
        if (this.live && generation === this.generation) this.onDown(err);
      },
    );
  }

  private dropStream(): void {
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined) cancelStream(s);
  }

  /** The stream failed: reconnect with back-off, unless the client is closed or etcd refuses the stream itself. */
  private onDown(err: unknown): void {
    this.dropStream();
    if (!this.live) return;
    const failure = classifyFailure(err);
    if (failure.kind === 'closed') {
      this.fail(new StoreClosedError('etcd store: the etcd client was closed', { cause: err }));
      return;
    }
    if (failure.kind === 'refused') {
      this.fail(new EtcdRequestRefusedError('watch', failure.reason, failure.grpcCode, { cause: err }));
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.live) this.open();
    }, delay);
    this.reconnectTimer.unref();
  }

  private onResponse(res: IWatchResponse): void {
    try {
      if (res.canceled) this.onCanceled(res);
      else if (res.created) this.onCreated();
      else this.onEvents(res);
    } catch (err) {
      // An answer we cannot map (a revision beyond 2^53): end the watch rather than deliver something wrong.
      this.fail(err);
    }
  }

  private onCreated(): void {
    this.backoffMs = FIRST_BACKOFF_MS;
    if (this.isEstablished) this.setup.stats.watchResumes += 1;
    else if (!this.setup.expectCompaction) this.markEstablished();
  }

  private markEstablished(): void {
    clearTimeout(this.establishTimer);
    this.isEstablished = true;
    this.resolveEstablished(this.handle);
  }

  private onCanceled(res: IWatchResponse): void {
    const compactRevision = int64('compact_revision', res.compact_revision);
    this.fail(
      compactRevision > 0
        ? new WatchCompactedError(this.next, compactRevision - 1)
        : new EtcdRequestRefusedError('watch', res.cancel_reason || 'etcd cancelled the watch', undefined),
    );
  }

  private onEvents(res: IWatchResponse): void {
    // Only expected when a compaction was expected and did not come: the watch works after all.
    if (!this.isEstablished) this.markEstablished();
    const raw = res.events ?? [];
    if (raw.length === 0) {
      // A progress notification: every event up to header.revision has been sent.
      this.setup.stats.progressNotices += 1;
      const progress = revisionOf(res.header);
      if (progress > this.next) this.next = progress;
      return;
    }
    const events: WatchEvent[] = [];
    for (const e of raw) {
      const event = eventOf(this.setup.space, e);
      if (event.revision < this.next) this.setup.stats.duplicateEvents += 1;
      else events.push(event);
    }
    if (events.length === 0) return;
    this.next = events[events.length - 1]!.revision + 1;
    try {
      this.setup.listener(events);
    } catch (err) {
      this.fail(err);
    }
  }
}

/**
 * Half-closes, then cancels a watch stream. Ending the writable side first
 * keeps etcd3 from treating our own cancellation as a host failure (it marks
 * the host failed on stream errors only while the stream is writable).
 */
function cancelStream(stream: WatchStream): void {
  try {
    if ((stream as { writable?: boolean }).writable !== false) stream.end();
  } catch {
    // already destroyed
  }
  stream.cancel();
}
