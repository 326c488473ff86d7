import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { parseNodeCertificate } from '../pki/node-certificate';
import { CERT_BACKDATE_MS } from '../pki/profile';
import type { NodeCredentials } from '../pki/tls';

/** Options of {@link CertificateRenewer}. */
export interface CertificateRenewerOptions {
  /** The node's current credentials, or a getter of them (when something else may also replace them). */
  readonly credentials: NodeCredentials | (() => NodeCredentials);
  /** Gets new credentials for the current ones, e.g. `(c) => renewCertificate({ managers, credentials: c })` (a `JoinResult` or bare credentials). */
  readonly renew: (current: NodeCredentials) => Promise<NodeCredentials | { readonly credentials: NodeCredentials }>;
  /** Called with each new set of credentials, before the next renewal is scheduled: swap them into the TLS users there (`RemoteStore.setTls`, `StoreServer.setTls`…). Errors it throws are passed to `onError`. */
  readonly onRenewed: (credentials: NodeCredentials) => void;
  /** Called when a renewal attempt failed (`willRetry` true) or when retries are exhausted (false: the renewer stops). */
  readonly onError?: (error: unknown, willRetry: boolean) => void;
  /** Renew when this fraction of the certificate's lifetime remains (default 1/3; 0 < f < 1). */
  readonly renewWhenRemaining?: number;
  /** Renew up to this fraction of that remaining window earlier, at random, so nodes do not all renew at once (default 0.1; 0 ≤ j < 1). */
  readonly jitter?: number;
  /** First pause after a failed attempt (ms, default 1000), doubled each time up to `retryMaxMs`. */
  readonly retryInitialMs?: number;
  /** Longest pause between attempts (ms, default 60000). */
  readonly retryMaxMs?: number;
  /** Attempts per renewal before giving up (default 8). */
  readonly maxAttempts?: number;
  /** Wall clock (ms since the Unix epoch; default `Date.now`). */
  readonly now?: () => number;
  /** Uniform random number in [0, 1) for the jitter (default `Math.random`). */
  readonly random?: () => number;
}

const fn = <T>(message: string) => z.custom<T>((v) => typeof v === 'function', { message });
const optionsSchema = z
  .object({
    credentials: z.union([z.object({ caPem: z.string().min(1), certPem: z.string().min(1), keyPem: z.string().min(1) }).passthrough(), fn<() => NodeCredentials>('must be credentials or a function returning them')]),
    renew: fn<(c: NodeCredentials) => Promise<NodeCredentials | { readonly credentials: NodeCredentials }>>('must be a function returning a promise of credentials'),
    onRenewed: fn<(c: NodeCredentials) => void>('must be a function'),
    onError: fn<(e: unknown, willRetry: boolean) => void>('must be a function').optional(),
    renewWhenRemaining: z.number().gt(0).lt(1).default(1 / 3),
    jitter: z.number().min(0).lt(1).default(0.1),
    retryInitialMs: z.number().int().min(1).default(1000),
    retryMaxMs: z.number().int().min(1).default(60_000),
    maxAttempts: z.number().int().min(1).max(1000).default(8),
    now: fn<() => number>('must be a function returning ms since the Unix epoch').optional(),
    random: fn<() => number>('must be a function returning a number in [0, 1)').optional(),
  })
  .strict();

/** Longest delay `setTimeout` takes (longer ones fire at once): longer waits are made of several. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Renews a node's certificate before it expires (Swarm renews at a random
 * point of the second half of the lifetime; here when `renewWhenRemaining` of
 * it remains, minus jitter): calls `renew`, hands the result to `onRenewed`,
 * then schedules the next renewal from the new certificate. A failed attempt
 * is retried with exponential back-off, at most `maxAttempts` times.
 *
 * The lifetime is measured from the issue time (`notBefore` + the 5-minute
 * backdating every certificate gets), so short test lifetimes work.
 * Owns one timer at most; {@link CertificateRenewer.stop} clears it.
 */
export class CertificateRenewer {
  private current: NodeCredentials;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight = false;
  /** Renewals that succeeded. */
  renewals = 0;
  /** Attempts that failed. */
  failures = 0;

  /** @throws InvalidOptionsError naming a bad option; MalformedCertificateError when `credentials.certPem` is not a node certificate. */
  constructor(options: CertificateRenewerOptions) {
    this.o = parseOptions(optionsSchema, options, 'CertificateRenewer');
    const c = this.o.credentials;
    this.getter = typeof c === 'function' ? (c as () => NodeCredentials) : undefined;
    this.current = typeof c === 'function' ? (c as () => NodeCredentials)() : (c as NodeCredentials);
    parseNodeCertificate(this.current.certPem);
  }
  private readonly getter: (() => NodeCredentials) | undefined;

  /**
   * Makes a renewer and starts it.
   * @throws what the constructor throws.
   */
  static start(options: CertificateRenewerOptions): CertificateRenewer {
    const r = new CertificateRenewer(options);
    r.start();
    return r;
  }
  private readonly o: z.output<typeof optionsSchema>;

  /** The latest credentials (the initial ones until the first renewal). */
  get credentials(): NodeCredentials {
    if (this.getter !== undefined) {
      try {
        this.current = this.getter();
      } catch {
        // keep the last ones
      }
    }
    return this.current;
  }

  /** When the next renewal is due for the current certificate (ms since the Unix epoch), jitter excluded. */
  dueAt(): number {
    const id = parseNodeCertificate(this.credentials.certPem);
    const notAfter = id.notAfter.getTime();
    const issuedAt = Math.min(id.notBefore.getTime() + CERT_BACKDATE_MS, notAfter);
    return notAfter - (notAfter - issuedAt) * this.o.renewWhenRemaining;
  }

  /** Starts the schedule (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleNext();
  }

  /** Stops: clears the timer; a renewal in flight completes but is neither handed on nor followed by another. Idempotent. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Renews now (outside the schedule), with the same retries; resolves once handed to `onRenewed`, or rejects with the last error. */
  async renewNow(): Promise<NodeCredentials> {
    return this.attempt(1, true);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private scheduleNext(): void {
    if (!this.running) return;
    const id = parseNodeCertificate(this.credentials.certPem);
    const notAfter = id.notAfter.getTime();
    const issuedAt = Math.min(id.notBefore.getTime() + CERT_BACKDATE_MS, notAfter);
    const window = (notAfter - issuedAt) * this.o.renewWhenRemaining;
    const at = notAfter - window - window * this.o.jitter * (this.o.random ?? Math.random)();
    this.wait(at, () => void this.attempt(1, false).catch(() => undefined));
  }

  /** Runs `f` at wall-clock time `at`, in timer steps no longer than setTimeout allows. */
  private wait(at: number, f: () => void): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    const delay = Math.max(0, at - this.now());
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (!this.running) return;
        if (delay > MAX_TIMER_MS) this.wait(at, f);
        else f();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    this.timer.unref?.();
  }

  private async attempt(n: number, manual: boolean): Promise<NodeCredentials> {
    if (this.inFlight && !manual) return this.credentials;
    this.inFlight = true;
    let next: NodeCredentials;
    try {
      const got = await this.o.renew(this.credentials);
      next = 'certPem' in got ? got : got.credentials;
      parseNodeCertificate(next.certPem);
    } catch (err) {
      this.inFlight = false;
      this.failures += 1;
      const retry = n < this.o.maxAttempts && (manual || this.running);
      this.o.onError?.(err, retry);
      if (!retry) throw err;
      const pause = Math.min(this.o.retryMaxMs, this.o.retryInitialMs * 2 ** (n - 1));
      if (manual) {
        await new Promise((r) => setTimeout(r, pause).unref?.());
        return this.attempt(n + 1, true);
      }
      this.wait(this.now() + pause, () => void this.attempt(n + 1, false).catch(() => undefined));
      return this.credentials;
    }
    this.inFlight = false;
    if (!manual && !this.running) return next;
    this.current = next;
    this.renewals += 1;
    try {
      this.o.onRenewed(next);
    } catch (err) {
      this.o.onError?.(err, false);
    }
    this.scheduleNext();
    return next;
  }
}
