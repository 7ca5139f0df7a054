import { byteSize, countsByName, latency } from './format.js';
import { resilienceLines } from './resilience-lines.js';
import type { LoadTestReport } from '../harness/load-test-report.js';

/**
 * The end-of-run summary printed on stdout: settings, counts with their per-second averages, the
 * latency percentiles, disconnects by cause and the verdict (PASS with 0 errors, FAIL otherwise).
 */
export function summaryTable(report: LoadTestReport): string {
  const { config, totals, rates, latency: rtt } = report;
  const rows: Array<readonly [string, string, string?]> = [
    ['connects', String(totals.connects)],
    ['connect failures', String(totals.connectFailures), countsByName(totals.connectFailuresByCode)],
    ['reconnects', String(totals.reconnects)],
    ['unexpected disconnects', String(totals.unexpectedDisconnects), countsByName(totals.unexpectedDisconnectsByCause)],
    ['unanswered requests', String(totals.unanswered)],
    ['peak sessions', `${totals.peakSessions} of ${config.sessions}`],
    ['packets sent', String(totals.packetsSent), `${rates.packetsSentPerSecond}/s`],
    ['packets received', String(totals.packetsReceived), `${rates.packetsReceivedPerSecond}/s`],
    ['bytes sent', byteSize(totals.bytesSent), `${byteSize(rates.bytesSentPerSecond)}/s`],
    ['bytes received', byteSize(totals.bytesReceived), `${byteSize(rates.bytesReceivedPerSecond)}/s`],
    ['round trips', String(rtt.count), `${rates.roundTripsPerSecond}/s`],
    ...resilienceLines(report),
  ];
  for (const [name, count] of Object.entries(totals.counters).sort(([a], [b]) => a.localeCompare(b))) {
    rows.push([`counter ${name}`, String(count)]);
  }
  if (rtt.count > 0) {
    rows.push(
      ['latency p50 / p90', `${latency(rtt.p50)} / ${latency(rtt.p90)}`],
      ['latency p99 / p99.9', `${latency(rtt.p99)} / ${latency(rtt.p99_9)}`],
      ['latency min / mean / max', `${latency(rtt.min)} / ${latency(rtt.mean)} / ${latency(rtt.max)}`],
    );
  }
  rows.push(
    ['disconnects by cause', countsByName(totals.disconnectsByCause)],
    ['drain', report.drain.drained ? `all answers in (${report.drain.maxDrainMs} ms)` : `timed out after ${report.drain.maxDrainMs} ms`],
  );
  if (totals.workerFailures > 0) rows.push(['worker failures', String(totals.workerFailures), report.workerErrors.join('; ')]);
  rows.push(['result', report.passed ? 'PASS (0 errors)' : `FAIL (${report.errors} errors)`]);

  const nameWidth = Math.max(...rows.map(([name]) => name.length));
  const ramp = config.rampPerSecond > 0 ? `ramp ${config.rampPerSecond}/s` : 'all at once';
  const header =
    `gamewire loadtest: bot ${config.botName}, ${config.sessions} sessions (${ramp}) on ${config.host}:${config.port}, ` +
    `${config.workers} worker${config.workers === 1 ? '' : 's'}, interval ${config.botOptions.intervalMs} ms, ran ${report.runSeconds.toFixed(1)} s`;
  const lines = rows.map(([name, value, note]) =>
    `  ${name.padEnd(nameWidth)}  ${value}${note === undefined || note === 'none' ? '' : `  (${note})`}`,
  );
  return [header, ...lines].join('\n');
}
