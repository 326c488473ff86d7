/**
 * The examples' printed report: numbered steps, each with its duration in
 * ms, followed by what it found. Printing only — no Weft API in here.
 */

/** One finished step. */
export interface StepResult {
  readonly title: string;
  readonly ms: number;
  readonly ok: boolean;
}

/** Collects (and prints, through `print`) a step-by-step report. */
export class Report {
  /** Every printed line, in order. */
  readonly lines: string[] = [];
  readonly steps: StepResult[] = [];
  private readonly started = performance.now();

  constructor(private readonly print: (line: string) => void) {}

  /** Prints one line. */
  say(line: string): void {
    this.lines.push(line);
    this.print(line);
  }

  /**
   * Runs one step: prints `N. title ... ms` when it ends (`FAILED after` when
   * it throws, rethrowing), then the lines it noted, indented.
   */
  async step<T>(title: string, run: (note: (line: string) => void) => Promise<T>): Promise<T> {
    const notes: string[] = [];
    const t0 = performance.now();
    let ok = false;
    try {
      const out = await run((line) => notes.push(line));
      ok = true;
      return out;
    } finally {
      const ms = Math.round(performance.now() - t0);
      this.steps.push({ title, ms, ok });
      const n = `${this.steps.length}.`.padEnd(4);
      this.say(`${n}${title.padEnd(62, ' ')} ${ok ? `${String(ms).padStart(5)} ms` : `FAILED after ${ms} ms`}`);
      for (const line of notes) this.say(`      ${line}`);
    }
  }

  /** ms since the report began. */
  elapsedMs(): number {
    return Math.round(performance.now() - this.started);
  }
}
