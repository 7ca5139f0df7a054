import { writeFile } from 'node:fs/promises';
import type { LoadTestConfig } from './load-test-config.js';
import {
  percentileSpectrum,
  summarizeLatency,
  type LatencyHistogram,
  type LatencySummary,
  type PercentilePoint,
} from './latency-histogram.js';
import { errorCount, type LoadTestPoint, type LoadTestTotals } from './run-aggregator.js';

/** Identifies the JSON format of {@link LoadTestReport}; changes when a field changes meaning. */
export const LOADTEST_REPORT_FORMAT = 'gamewire-loadtest/1';

/** Averages over the run (first connect to the last worker's final report). */
export interface LoadTestRates {
  readonly packetsSentPerSecond: number;
  readonly packetsReceivedPerSecond: number;
  readonly bytesSentPerSecond: number;
  readonly bytesReceivedPerSecond: number;
  readonly roundTripsPerSecond: number;
}

/** Round-trip latency of the whole run, µs, with its distribution. */
export interface LoadTestLatency extends LatencySummary {
  /** Always `us`: every latency figure is in microseconds. */
  readonly unit: 'us';
  /** The percentile spectrum (HdrHistogram's distribution plot). */
  readonly distribution: readonly PercentilePoint[];
}

/** Everything a load test measured: what `--json` writes and the HTML report embeds. */
export interface LoadTestReport {
  /** {@link LOADTEST_REPORT_FORMAT}. */
  readonly format: typeof LOADTEST_REPORT_FORMAT;
  /** When the sessions began to open, ISO 8601. */
  readonly startedAt: string;
  /** When the last worker exited, ISO 8601. */
  readonly endedAt: string;
  /** From the first connect to the last worker's final report, seconds. */
  readonly runSeconds: number;
  /** The settings of the run, defaults applied. */
  readonly config: LoadTestConfig;
  /** True when `errors` is 0. */
  readonly passed: boolean;
  /** Failed connects + unexpected disconnects + unanswered requests + failed workers. */
  readonly errors: number;
  readonly totals: LoadTestTotals;
  readonly rates: LoadTestRates;
  readonly latency: LoadTestLatency;
  /** How the end of the run went: whether every answer in flight came back before the drain timeout. */
  readonly drain: { readonly drained: boolean; readonly maxDrainMs: number };
  /** Messages of workers that failed. */
  readonly workerErrors: readonly string[];
  /** One point per second. */
  readonly series: readonly LoadTestPoint[];
}

/** The parts of a finished run the report is made of. */
export interface ReportInput {
  readonly config: LoadTestConfig;
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly totals: LoadTestTotals;
  readonly latency: LatencyHistogram;
  readonly series: readonly LoadTestPoint[];
  readonly drained: boolean;
  readonly maxDrainMs: number;
  readonly workerErrors: readonly string[];
}

/** Builds the {@link LoadTestReport} of a finished run. */
export function buildReport(input: ReportInput): LoadTestReport {
  const { totals } = input;
  const last = input.series[input.series.length - 1];
  const runSeconds = last === undefined ? 0 : last.t;
  const per = (count: number): number => (runSeconds > 0 ? Math.round((count / runSeconds) * 10) / 10 : 0);
  const errors = errorCount(totals);
  return {
    format: LOADTEST_REPORT_FORMAT,
    startedAt: input.startedAt.toISOString(),
    endedAt: input.endedAt.toISOString(),
    runSeconds,
    config: input.config,
    passed: errors === 0,
    errors,
    totals,
    rates: {
      packetsSentPerSecond: per(totals.packetsSent),
      packetsReceivedPerSecond: per(totals.packetsReceived),
      bytesSentPerSecond: per(totals.bytesSent),
      bytesReceivedPerSecond: per(totals.bytesReceived),
      roundTripsPerSecond: per(totals.roundTrips),
    },
    latency: { unit: 'us', ...summarizeLatency(input.latency), distribution: percentileSpectrum(input.latency) },
    drain: { drained: input.drained, maxDrainMs: input.maxDrainMs },
    workerErrors: input.workerErrors,
    series: input.series,
  };
}

/** Writes `report` as indented JSON to `path`. */
export async function writeJsonReport(path: string, report: LoadTestReport): Promise<void> {
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}
