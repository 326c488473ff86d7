/** @internal Rows as left-aligned columns separated by three spaces (as the docker CLI prints), with a header row. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** @internal "500ms", "30s", "2h", "90d" (or a plain number of ms) → ms; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) return undefined;
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms']!;
  return Number.isFinite(ms) && ms >= 1 && ms <= 100 * 365 * 86_400_000 ? Math.round(ms) : undefined;
}

/** @internal A round-trip time for people: "0.42 ms", "12.3 ms". */
export function formatDuration(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}
