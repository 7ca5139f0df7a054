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

/**
 * A histogram as it crosses the IPC channel: HdrHistogram's compressed base64 form, plus the exact
 * smallest and largest values (the encoding keeps those only to bucket precision).
 */
export interface EncodedLatency {
  /** `encodeIntoCompressedBase64` of the histogram. */
  readonly histogram: string;
  /** Exact smallest value, µs; 0 when empty. */
  readonly min: number;
  /** Exact largest value, µs; 0 when empty. */
  readonly max: number;
}

/** Encodes a histogram for the IPC channel. */
export function encodeLatency(histogram: LatencyHistogram): EncodedLatency {
  const empty = histogram.totalCount === 0;
  return {
    histogram: hdr.encodeIntoCompressedBase64(histogram),
    min: empty ? 0 : histogram.minNonZeroValue,
    max: empty ? 0 : histogram.maxValue,
  };
}

/**
 * Adds up encoded histograms (from {@link encodeLatency}) exactly: counts per bucket add up, and the
 * exact min and max are kept, so the summary equals that of one histogram that recorded every value.
 */
export class LatencyAccumulator {
  /** The merged histogram. */
  readonly histogram: LatencyHistogram = newLatencyHistogram();
  #min = 0;
  #max = 0;

  /** Adds one encoded histogram. */
  add(encoded: EncodedLatency): void {
    const decoded = hdr.decodeFromCompressedBase64(encoded.histogram);
    try {
      if (decoded.totalCount === 0) return;
      this.histogram.add(decoded);
    } finally {
      decoded.destroy();
    }
    this.#min = this.#min === 0 ? encoded.min : Math.min(this.#min, encoded.min);
    this.#max = Math.max(this.#max, encoded.max);
  }

  /** The summary of everything added. */
  summary(): LatencySummary {
    return summarizeLatency(this.histogram, { min: this.#min, max: this.#max });
  }

  /** The percentile spectrum of everything added. */
  spectrum(): PercentilePoint[] {
    return percentileSpectrum(this.histogram, this.#max);
  }

  /** Frees the histogram. */
  destroy(): void {
    this.histogram.destroy();
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

/**
 * The {@link LatencySummary} of `histogram`. A percentile is the highest value of its bucket, capped at
 * the largest value recorded. `exact` gives the true min and max when the histogram was decoded (see
 * {@link LatencyAccumulator}); a histogram that recorded the values itself knows them.
 */
export function summarizeLatency(
  histogram: LatencyHistogram,
  exact: { readonly min: number; readonly max: number } = { min: histogram.minNonZeroValue, max: histogram.maxValue },
): LatencySummary {
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 };
  const at = (percentile: number): number => Math.min(exact.max, histogram.getValueAtPercentile(percentile));
  return {
    count,
    min: exact.min,
    mean: Math.round(histogram.mean * 10) / 10,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p99_9: at(99.9),
    max: exact.max,
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
 * spaced evenly on a 1/(1-p) scale, so the tail gets as many points as the body; values capped at
 * `max`, the largest value recorded. Empty when the histogram is.
 */
export function percentileSpectrum(histogram: LatencyHistogram, max: number = histogram.maxValue): PercentilePoint[] {
  if (histogram.totalCount === 0) return [];
  const points: PercentilePoint[] = [];
  // 8 steps per factor of 10 in 1/(1-p), from 0 % to 99.999 %.
  for (let step = 0; step <= 40; step++) {
    const percentile = 100 * (1 - Math.pow(10, -step / 8));
    const micros = Math.min(max, histogram.getValueAtPercentile(percentile));
    points.push({ percentile: Math.round(percentile * 1e6) / 1e6, micros });
  }
  points.push({ percentile: 100, micros: max });
  return points;
}
