import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { byteSize, countsByName, latency } from './format.js';
import { resilienceLines } from './resilience-lines.js';
import type { LoadTestReport } from '../harness/load-test-report.js';
import { REPORT_PAGE_SCRIPT } from './report-page-script.js';

/** Id of the `<script type="application/json">` block holding the report data in the page. */
export const REPORT_DATA_ELEMENT_ID = 'gamewire-data';

/** The chart library's files, read from node_modules at report time and inlined. */
interface ChartAssets {
  readonly script: string;
  readonly style: string;
  readonly license: string;
  readonly version: string;
}

async function readChartAssets(): Promise<ChartAssets> {
  const require = createRequire(import.meta.url);
  const packageJsonPath = require.resolve('uplot/package.json');
  const packageJson: unknown = JSON.parse(await readFile(packageJsonPath, 'utf8'));
  const version =
    typeof packageJson === 'object' && packageJson !== null && 'version' in packageJson
      ? String(packageJson.version)
      : 'unknown';
  const [script, style, license] = await Promise.all([
    readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    readFile(join(dirname(packageJsonPath), 'LICENSE'), 'utf8').catch(() => 'MIT License, (c) Leon Sorokin'),
  ]);
  return { script, style, license, version };
}

/**
 * The HTML report of a run: one self-contained page (no network: uPlot's script and style are inlined)
 * with the summary tables and charts of throughput, bandwidth, latency percentiles over time, the
 * latency distribution and connection events. The whole report is embedded as JSON in
 * `<script type="application/json" id="gamewire-data">`.
 */
export async function renderHtmlReport(report: LoadTestReport): Promise<string> {
  const assets = await readChartAssets();
  const { config } = report;
  const title = `gamewire loadtest: ${config.botName} bot, ${config.sessions} sessions: ${report.passed ? 'PASS' : 'FAIL'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${safeInline(assets.style, 'style')}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Started ${escapeHtml(report.startedAt)}, ran ${report.runSeconds.toFixed(1)} s against
${escapeHtml(`${config.host}:${config.port}`)}. <span class="${report.passed ? 'pass' : 'fail'}">${
    report.passed ? 'PASS: 0 errors' : `FAIL: ${report.errors} errors`
  }</span></p>
<div class="tables">
${table('Settings', settingsRows(report))}
${table('Results', resultRows(report))}
${table('Round-trip latency', latencyRows(report))}
${table('Connections and message order', resilienceRows(report))}
</div>
<h2>Charts</h2>
<div id="chart-throughput" class="chart"></div>
<div id="chart-latency" class="chart"></div>
<div id="chart-distribution" class="chart"></div>
<div id="chart-bandwidth" class="chart"></div>
<div id="chart-errors" class="chart"></div>
${config.resume || config.chaosCutPercent > 0 ? '<div id="chart-resume" class="chart"></div>\n' : ''}<p class="meta">Charts drawn by uPlot ${escapeHtml(assets.version)} (MIT License), inlined in this page.
The data of every chart is the JSON in the element <code>#${REPORT_DATA_ELEMENT_ID}</code>.</p>
<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">${jsonForScript(report)}</script>
<script>/*! uPlot license:\n${safeComment(assets.license)}\n*/
${safeInline(assets.script, 'script')}</script>
<script>${safeInline(REPORT_PAGE_SCRIPT, 'script')}</script>
</body>
</html>
`;
}

/** Writes the HTML report of `report` to `path`. */
export async function writeHtmlReport(path: string, report: LoadTestReport): Promise<void> {
  await writeFile(path, await renderHtmlReport(report));
}

const PAGE_STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 18px; margin: 24px 0 8px; }
.meta { color: #555; font-size: 14px; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #c62828; font-weight: 600; }
.tables { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 16px 0 28px; }
`;

type Row = readonly [string, string];

function settingsRows(report: LoadTestReport): Row[] {
  const { config } = report;
  const options = config.botOptions;
  return [
    ['bot', `${config.botName} (${config.bot})`],
    ['target', `${config.host}:${config.port}`],
    ['sessions', String(config.sessions)],
    ['ramp', config.rampPerSecond > 0 ? `${config.rampPerSecond} sessions/s` : 'all at once'],
    ['workers', String(config.workers)],
    ['duration', config.durationMs > 0 ? `${config.durationMs / 1000} s` : 'until stopped'],
    ['interval', `${options.intervalMs} ms`],
    ['message', JSON.stringify(options.message)],
    ['size', options.size === undefined ? 'bot default' : `${options.size} bytes`],
    ['reconnect', config.reconnect ? `on (from ${config.reconnectDelayMs} ms)` : 'off'],
    ['resume', config.resume ? 'on' : 'off'],
    ['chaos', config.chaosCutPercent > 0 ? `${config.chaosCutPercent} % of connections cut per second (${config.chaosMethod})` : 'off'],
    ['drain timeout', `${config.drainTimeoutMs} ms`],
  ];
}

function resultRows(report: LoadTestReport): Row[] {
  const { totals, rates } = report;
  const rows: Row[] = [
    ['connects', String(totals.connects)],
    ['connect failures', `${totals.connectFailures} (${countsByName(totals.connectFailuresByCode)})`],
    ['reconnects', String(totals.reconnects)],
    ['unexpected disconnects', `${totals.unexpectedDisconnects} (${countsByName(totals.unexpectedDisconnectsByCause)})`],
    ['unanswered requests', String(totals.unanswered)],
    ['disconnects by cause', countsByName(totals.disconnectsByCause)],
    ['peak sessions', String(totals.peakSessions)],
    ['packets sent', `${totals.packetsSent} (${rates.packetsSentPerSecond}/s)`],
    ['packets received', `${totals.packetsReceived} (${rates.packetsReceivedPerSecond}/s)`],
    ['bytes sent', `${byteSize(totals.bytesSent)} (${byteSize(rates.bytesSentPerSecond)}/s)`],
    ['bytes received', `${byteSize(totals.bytesReceived)} (${byteSize(rates.bytesReceivedPerSecond)}/s)`],
  ];
  for (const [name, count] of Object.entries(totals.counters)) rows.push([`counter ${name}`, String(count)]);
  rows.push(['drain', report.drain.drained ? `all answers in (${report.drain.maxDrainMs} ms)` : 'timed out']);
  if (report.workerErrors.length > 0) rows.push(['worker errors', report.workerErrors.join('; ')]);
  return rows;
}

function resilienceRows(report: LoadTestReport): Row[] {
  return resilienceLines(report).map(([name, value, note]) => [name, note === undefined ? value : `${value} (${note})`]);
}

function latencyRows(report: LoadTestReport): Row[] {
  const rtt = report.latency;
  if (rtt.count === 0) return [['round trips', '0']];
  return [
    ['round trips', String(rtt.count)],
    ['min', latency(rtt.min)],
    ['mean', latency(rtt.mean)],
    ['p50', latency(rtt.p50)],
    ['p90', latency(rtt.p90)],
    ['p99', latency(rtt.p99)],
    ['p99.9', latency(rtt.p99_9)],
    ['max', latency(rtt.max)],
  ];
}

function table(caption: string, rows: readonly Row[]): string {
  const body = rows
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td class="num">${escapeHtml(value)}</td></tr>`)
    .join('\n');
  return `<table><caption>${escapeHtml(caption)}</caption>\n${body}\n</table>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that can sit inside a `<script>` element: `<` is escaped, so no `</script>` can end it early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Inlined code cannot contain the tag that would close its element. */
function safeInline(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);
}

function safeComment(text: string): string {
  return safeInline(text.replace(/\*\//g, '* /'), 'script');
}
