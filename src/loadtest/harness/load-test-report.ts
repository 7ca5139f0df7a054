import { writeFile } from 'node:fs/promises';
import type { LoadTestConfig } from './load-test-config.js';
import type { LatencyAccumulator, LatencySummary, PercentilePoint } from './latency-histogram.js';
import { errorCount, type LoadTestPoint, type LoadTestTotals } from './run-aggregator.js';

/** Identifies the JSON format of {@link LoadTestReport}; changes when a field changes meaning. */
export const LOADTEST_REPORT_FORMAT = 'gamewire-loadtest/1';

/** Averages over the run (first connect to the last worker's final report). */
export interface LoadTestRates {
  /** Packets sent per second. */
  readonly packetsSentPerSecond: number;
  /** Packets received per second. */
  readonly packetsReceivedPerSecond: number;
  /** Bytes sent per second. */
  readonly bytesSentPerSecond: number;
  /** Bytes received per second. */
  readonly bytesReceivedPerSecond: number;
  /** Round trips per second. */
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
  /** Everything counted, all workers added up. */
  readonly totals: LoadTestTotals;
  /** Averages per second over the run. */
  readonly rates: LoadTestRates;
  /** Round-trip latency of the whole run. */
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
  /** The settings of the run. */
  readonly config: LoadTestConfig;
  /** When the sessions began to open. */
  readonly startedAt: Date;
  /** When the last worker exited. */
  readonly endedAt: Date;
  /** Everything counted. */
  readonly totals: LoadTestTotals;
  /** Every round trip of the run. */
  readonly latency: LatencyAccumulator;
  /** One point per second. */
  readonly series: readonly LoadTestPoint[];
  /** True when every worker's drain ended with no request in flight. */
  readonly drained: boolean;
  /** The longest drain of a worker, ms. */
  readonly maxDrainMs: number;
  /** Messages of failed workers. */
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
    latency: { unit: 'us', ...input.latency.summary(), distribution: input.latency.spectrum() },
    drain: { drained: input.drained, maxDrainMs: input.maxDrainMs },
    workerErrors: input.workerErrors,
    series: input.series,
  };
}

/** Writes `report` as indented JSON to `path`. */
export async function writeJsonReport(path: string, report: LoadTestReport): Promise<void> {
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}
