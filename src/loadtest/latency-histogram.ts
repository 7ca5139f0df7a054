import hdr from 'hdr-histogram-js';

/** An HDR histogram of latencies in microseconds. */
export type LatencyHistogram = hdr.Histogram;

/** Largest latency tracked exactly, µs (one hour); larger values widen the histogram. */
export const LATENCY_HIGHEST_US = 3_600_000_000;
/** Significant decimal digits kept: 3, so every value is within 0.1 %. */
export const LATENCY_SIGNIFICANT_DIGITS = 3;

/**
 * A new, empty latency histogram (1 µs to one hour, 3 significant digits). Every histogram of a run
 * has this layout, so adding one to another is exact.
 */
export function newLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_HIGHEST_US,
    numberOfSignificantValueDigits: LATENCY_SIGNIFICANT_DIGITS,
  });
}

/** Records one latency, rounded to whole microseconds; values below 1 µs count as 1. */
export function recordLatency(histogram: LatencyHistogram, micros: number): void {
  histogram.recordValue(Number.isFinite(micros) ? Math.max(1, Math.round(micros)) : 1);
}

/** Encodes a histogram for the IPC channel: HdrHistogram's compressed base64 form. */
export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/**
 * Adds an encoded histogram (from {@link encodeHistogram}) into `into`. Exact: counts per bucket add
 * up, so percentiles, count, min and max equal those of one histogram that recorded every value.
 */
export function addEncodedHistogram(into: LatencyHistogram, encoded: string): void {
  const decoded = hdr.decodeFromCompressedBase64(encoded);
  try {
    into.add(decoded);
  } finally {
    decoded.destroy();
  }
}

/** Percentiles of a latency histogram, µs; all 0 when it is empty. */
export interface LatencySummary {
  /** Round trips recorded. */
  readonly count: number;
  /** Smallest value, µs. */
  readonly min: number;
  /** Mean, µs. */
  readonly mean: number;
  /** Median, µs. */
  readonly p50: number;
  /** 90th percentile, µs. */
  readonly p90: number;
  /** 99th percentile, µs. */
  readonly p99: number;
  /** 99.9th percentile, µs. */
  readonly p99_9: number;
  /** Largest value, µs. */
  readonly max: number;
}

/** The {@link LatencySummary} of `histogram`. */
export function summarizeLatency(histogram: LatencyHistogram): LatencySummary {
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 };
  return {
    count,
    min: histogram.minNonZeroValue,
    mean: Math.round(histogram.mean * 10) / 10,
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p99_9: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
  };
}

/** One point of the latency distribution: `percentile` % of round trips took at most `micros`. */
export interface PercentilePoint {
  /** 0..100. */
  readonly percentile: number;
  /** µs. */
  readonly micros: number;
}

/**
 * The percentile spectrum of `histogram` (HdrHistogram's distribution plot): the value at percentiles
 * spaced evenly on a 1/(1-p) scale, so the tail gets as many points as the body. Empty when the
 * histogram is.
 */
export function percentileSpectrum(histogram: LatencyHistogram): PercentilePoint[] {
  if (histogram.totalCount === 0) return [];
  const points: PercentilePoint[] = [];
  // 8 steps per factor of 10 in 1/(1-p), from 0 % to 99.999 %.
  for (let step = 0; step <= 40; step++) {
    const percentile = 100 * (1 - Math.pow(10, -step / 8));
    points.push({ percentile: Math.round(percentile * 1e6) / 1e6, micros: histogram.getValueAtPercentile(percentile) });
  }
  points.push({ percentile: 100, micros: histogram.maxValue });
  return points;
}
