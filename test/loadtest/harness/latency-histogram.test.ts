import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeLatency,
  LatencyAccumulator,
  newLatencyHistogram,
  percentileSpectrum,
  recordLatency,
  summarizeLatency,
  type EncodedLatency,
  type LatencyHistogram,
} from '../../../src/loadtest/harness/latency-histogram.js';
import { mulberry32 } from '../../helpers/packets.js';

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100];

/** Latencies spread over 1 µs .. 30 s, heavy in the body and with a long tail. */
function latencies(seed: number, count: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const r = random();
    if (r < 0.9) return 50 + Math.floor(random() * 2_000);
    if (r < 0.999) return 2_000 + Math.floor(random() * 200_000);
    return 1 + Math.floor(random() * 30_000_000);
  });
}

function filled(values: readonly number[]): LatencyHistogram {
  const histogram = newLatencyHistogram();
  for (const value of values) recordLatency(histogram, value);
  return histogram;
}

/** The merge equals the reference: count, mean, every percentile, and the exact min and max. */
function assertSame(merged: LatencyAccumulator, expected: LatencyHistogram): void {
  const actual = merged.histogram;
  assert.equal(actual.totalCount, expected.totalCount);
  assert.equal(actual.mean, expected.mean);
  for (const p of PERCENTILES) {
    assert.equal(actual.getValueAtPercentile(p), expected.getValueAtPercentile(p), `p${p}`);
  }
  const summary = merged.summary();
  assert.deepEqual(summary, summarizeLatency(expected));
  assert.equal(summary.max, expected.maxValue, 'the exact largest value, not its bucket');
  assert.equal(summary.min, expected.minNonZeroValue);
  assert.deepEqual(merged.spectrum(), percentileSpectrum(expected));
}

describe('latency histograms across workers', () => {
  it('merging two encoded worker histograms is exact: the same as one histogram of every value', () => {
    const a = latencies(1, 40_000);
    const b = latencies(2, 25_000);
    const workerA = filled(a);
    const workerB = filled(b);
    const reference = filled([...a, ...b]);
    const merged = new LatencyAccumulator();
    // What the parent does with each worker's IPC tick (through JSON, as over the channel).
    merged.add(JSON.parse(JSON.stringify(encodeLatency(workerA))) as EncodedLatency);
    merged.add(JSON.parse(JSON.stringify(encodeLatency(workerB))) as EncodedLatency);
    try {
      assert.equal(merged.histogram.totalCount, 65_000);
      assertSame(merged, reference);
    } finally {
      for (const h of [workerA, workerB, reference, merged]) h.destroy();
    }
  });

  it('merging many one-second intervals equals the whole run, and an empty interval adds nothing', () => {
    const all = latencies(3, 30_000);
    const reference = filled(all);
    const merged = new LatencyAccumulator();
    const interval = newLatencyHistogram();
    try {
      for (let i = 0; i < all.length; i++) {
        recordLatency(interval, all[i] as number);
        if (i % 997 === 996 || i === all.length - 1) {
          merged.add(encodeLatency(interval));
          interval.reset();
          merged.add(encodeLatency(interval)); // empty
        }
      }
      assertSame(merged, reference);
    } finally {
      for (const h of [reference, merged, interval]) h.destroy();
    }
  });

  it('known values give known percentiles, below 1 µs counts as 1, and an empty histogram summarizes to zeros', () => {
    const histogram = filled([0.2, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    try {
      const summary = summarizeLatency(histogram);
      assert.equal(summary.count, 10);
      assert.equal(summary.min, 1);
      assert.equal(summary.p50, 400, 'the 5th of 10 values');
      assert.equal(summary.p90, 800, 'the 9th of 10 values');
      assert.equal(summary.max, 900);
      const spectrum = percentileSpectrum(histogram);
      assert.equal(spectrum[0]?.percentile, 0);
      assert.deepEqual(spectrum.at(-1), { percentile: 100, micros: 900 });
      for (let i = 1; i < spectrum.length; i++) {
        assert.ok((spectrum[i]?.micros ?? 0) >= (spectrum[i - 1]?.micros ?? 0), 'the spectrum never goes down');
        assert.ok((spectrum[i]?.percentile ?? 0) > (spectrum[i - 1]?.percentile ?? 0), 'percentiles increase');
      }
    } finally {
      histogram.destroy();
    }
    const empty = newLatencyHistogram();
    assert.deepEqual(summarizeLatency(empty), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 });
    assert.deepEqual(percentileSpectrum(empty), []);
    empty.destroy();
  });
});
