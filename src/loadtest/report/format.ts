/** Number formatting shared by the live view, the summary table and the report. */

/** A count with a k/M/G suffix past 10 000: `9876`, `12.3k`, `4.56M`. */
export function compactCount(value: number): string {
  const abs = Math.abs(value);
  if (abs < 10_000) return String(Math.round(value));
  if (abs < 1e6) return `${(value / 1e3).toFixed(abs < 1e5 ? 1 : 0)}k`;
  if (abs < 1e9) return `${(value / 1e6).toFixed(abs < 1e7 ? 2 : 1)}M`;
  return `${(value / 1e9).toFixed(2)}G`;
}

/** Bytes with a binary unit: `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function byteSize(value: number): string {
  if (value < 1024) return `${Math.round(value)} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  if (value < 1024 ** 3) return `${(value / 1024 / 1024).toFixed(1)} MiB`;
  return `${(value / 1024 ** 3).toFixed(2)} GiB`;
}

/** A latency given in µs, in the unit that suits it: `850us`, `1.25ms`, `2.10s`. */
export function latency(micros: number): string {
  if (micros < 1000) return `${Math.round(micros)}us`;
  if (micros < 1_000_000) return `${(micros / 1000).toFixed(micros < 10_000 ? 2 : 1)}ms`;
  return `${(micros / 1_000_000).toFixed(2)}s`;
}

/** `name=count` pairs of a record, sorted by name, or `none`. */
export function countsByName(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'none' : entries.map(([name, count]) => `${name}=${count}`).join(' ');
}
