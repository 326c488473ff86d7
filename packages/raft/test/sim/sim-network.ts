import type { Message, NodeId } from '../../src/core/types';
import type { Prng } from '../../src/testing';

/** Per-seed message fault rates; delays in virtual ms. */
export interface NetworkFaults {
  /** Probability a message is lost. */
  readonly drop: number;
  /** Probability a message is delivered twice (the copy with its own delay). */
  readonly duplicate: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Probability of an extra long delay (reorders the message behind later ones). */
  readonly longDelay: number;
  readonly longDelayMaxMs: number;
}

export interface NetworkStats {
  sent: number;
  dropped: number;
  duplicated: number;
  cut: number;
}

/**
 * The simulated network between Raft nodes: every message gets a random
 * delay; some are dropped, duplicated or held back (reordered). Links can be
 * cut one way (`from` cannot reach `to`), so partitions and asymmetric
 * partitions are sets of cut links. A cut is checked at send time and again
 * at delivery (a message in flight when a link is cut is lost).
 */
export class SimNetwork {
  private readonly cuts = new Set<string>();
  readonly stats: NetworkStats = { sent: 0, dropped: 0, duplicated: 0, cut: 0 };

  constructor(
    private readonly prng: Prng,
    private readonly faults: NetworkFaults,
    private readonly schedule: (delayMs: number, run: () => void) => void,
    private readonly deliver: (msg: Message) => void,
  ) {}

  private delay(): number {
    const f = this.faults;
    let d = f.minDelayMs + this.prng.next() * (f.maxDelayMs - f.minDelayMs);
    if (this.prng.chance(f.longDelay)) d += this.prng.next() * f.longDelayMaxMs;
    return d;
  }

  send(msg: Message): void {
    this.stats.sent++;
    if (this.isCut(msg.from, msg.to)) {
      this.stats.cut++;
      return;
    }
    if (this.prng.chance(this.faults.drop)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.prng.chance(this.faults.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      this.schedule(this.delay(), () => {
        if (this.isCut(msg.from, msg.to)) this.stats.cut++;
        else this.deliver(msg);
      });
    }
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.has(`${from}>${to}`);
  }

  /** `from` can no longer reach `to` (the other direction is unchanged). */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  /** No traffic between the two groups, either way. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cutOneWay(x, y);
        this.cutOneWay(y, x);
      }
    }
  }

  heal(): void {
    this.cuts.clear();
  }

  /** A short description of the current cuts, for traces. */
  describe(): string {
    return this.cuts.size === 0 ? 'healed' : [...this.cuts].sort().join(' ');
  }
}
