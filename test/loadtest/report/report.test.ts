import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { echoBot } from '../../../src/loadtest/bots/echo-bot.js';
import { renderHtmlReport, REPORT_DATA_ELEMENT_ID, writeHtmlReport } from '../../../src/loadtest/report/html-report.js';
import { zeroResilienceCounts } from '../../../src/loadtest/harness/ipc-messages.js';
import { encodeLatency, LatencyAccumulator, newLatencyHistogram, recordLatency } from '../../../src/loadtest/harness/latency-histogram.js';
import { LiveView, type LiveViewOutput } from '../../../src/loadtest/report/live-view.js';
import { resolveLoadTestConfig } from '../../../src/loadtest/harness/load-test-config.js';
import { buildReport, writeJsonReport, type LoadTestReport } from '../../../src/loadtest/harness/load-test-report.js';
import { RunAggregator, type LoadTestPoint } from '../../../src/loadtest/harness/run-aggregator.js';
import type { LoadTestProgress } from '../../../src/loadtest/harness/run-load-test.js';
import { summaryTable } from '../../../src/loadtest/report/summary-table.js';
import { cleanupAfter } from '../../helpers/wait.js';

/** A report of a made-up 3-second run of 2 workers. */
function sampleReport(message = 'Hello World'): LoadTestReport {
  const config = resolveLoadTestConfig({ port: 7777, sessions: 4, workers: 2, message }, echoBot);
  const aggregator = new RunAggregator(2);
  try {
    for (let seq = 1; seq <= 3; seq++) {
      for (const worker of [0, 1]) {
        const histogram = newLatencyHistogram();
        for (let i = 1; i <= 100; i++) recordLatency(histogram, i * 10 * seq + worker);
        aggregator.add(worker, {
          seq,
          endMs: seq * 1000 + worker,
          durationMs: 1000,
          connects: seq === 1 ? 2 : 0,
          connectFailures: {},
          reconnects: 0,
          disconnects: seq === 3 ? { SERVICE_CLOSING: 2 } : {},
          unexpectedDisconnects: {},
          packetsSent: 100,
          packetsReceived: 100,
          bytesSent: 1600,
          bytesReceived: 1600,
          requests: 100,
          roundTrips: 100,
          unanswered: 0,
          counters: {},
          latency: encodeLatency(histogram),
          sessions: 2,
          connecting: 0,
          inFlight: 0,
          ...zeroResilienceCounts(),
        });
        histogram.destroy();
      }
    }
    aggregator.flush();
    return buildReport({
      config,
      startedAt: new Date('2026-01-01T00:00:00Z'),
      endedAt: new Date('2026-01-01T00:00:03Z'),
      totals: aggregator.totals,
      latency: aggregator.latency,
      series: [...aggregator.series],
      drained: true,
      maxDrainMs: 3,
      workerErrors: [],
    });
  } finally {
    aggregator.destroy();
  }
}

function dataBlock(html: string): unknown {
  const match = new RegExp(`<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">([^<]*)</script>`).exec(html);
  assert.ok(match, 'the page holds the data block');
  return JSON.parse(match[1] as string);
}

describe('the report', () => {
  it('buildReport: totals, rates over the run, percentiles and the distribution', () => {
    const report = sampleReport();
    assert.equal(report.format, 'gamewire-loadtest/1');
    assert.equal(report.passed, true);
    assert.equal(report.totals.packetsSent, 600);
    assert.equal(report.runSeconds, 3.001);
    assert.equal(report.rates.packetsSentPerSecond, 199.9);
    assert.equal(report.latency.count, 600);
    assert.equal(report.latency.unit, 'us');
    assert.ok(report.latency.distribution.length > 10);
    assert.deepEqual(report.series.map((p) => p.sessions), [4, 4, 4]);
  });

  it('the HTML page is self-contained and embeds the report as JSON, even with markup in the message', async () => {
    const report = sampleReport('</script><script>alert(1)</script>');
    const html = await renderHtmlReport(report);
    assert.deepEqual(dataBlock(html), JSON.parse(JSON.stringify(report)));
    assert.doesNotMatch(html, /<script[^>]+src=/i, 'no external script');
    assert.doesNotMatch(html, /<link\b/i, 'no external style sheet');
    assert.doesNotMatch(html, /@import|url\(\s*['"]?https?:/i, 'no remote CSS');
    assert.doesNotMatch(html, /<(img|iframe)\b/i);
    assert.match(html, /var uPlot=/, 'uPlot is inlined');
    assert.match(html, /\.uplot/, "uPlot's style is inlined");
    for (const id of ['chart-throughput', 'chart-latency', 'chart-distribution']) assert.match(html, new RegExp(`id="${id}"`));
    assert.doesNotMatch(html, /<script>alert/, 'the message is escaped everywhere');
  });

  it('writes the JSON and HTML files', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-report-'));
    cleanupAfter(t).add(() => rmSync(dir, { recursive: true, force: true }));
    const report = sampleReport();
    await writeJsonReport(join(dir, 'r.json'), report);
    await writeHtmlReport(join(dir, 'r.html'), report);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')), JSON.parse(JSON.stringify(report)));
    assert.deepEqual(dataBlock(readFileSync(join(dir, 'r.html'), 'utf8')), JSON.parse(JSON.stringify(report)));
  });

  it('the summary table shows the counts, the percentiles and the verdict', () => {
    const text = summaryTable(sampleReport());
    assert.match(text, /bot echo, 4 sessions \(all at once\) on 127\.0\.0\.1:7777, 2 workers/);
    assert.match(text, /packets sent\s+600/);
    assert.match(text, /latency p99 \/ p99\.9/);
    assert.match(text, /disconnects by cause\s+SERVICE_CLOSING=4/);
    assert.match(text, /result\s+PASS \(0 errors\)/);
    assert.match(text, /messages lost \/ dup \/ out of order\s+0 \/ 0 \/ 0/, 'always shown');
    assert.doesNotMatch(text, /chaos cuts|connections lost|resumes/, 'only with resume, chaos or a lost connection');
  });

  it('with resume and chaos: cuts, lost connections, resumes, and the bad messages count as errors', async () => {
    const clean = sampleReport();
    const totals = { ...clean.totals, cutsRst: 3, cutsSilent: 2, connectionsLost: 5, reconnectAttempts: 6, resumes: 5, messagesDuplicated: 1 };
    const latency = new LatencyAccumulator();
    const report = buildReport({
      config: { ...clean.config, resume: true, chaosCutPercent: 2.5, chaosMethod: 'mixed' },
      startedAt: new Date(clean.startedAt),
      endedAt: new Date(clean.endedAt),
      totals,
      latency,
      series: clean.series,
      drained: true,
      maxDrainMs: 0,
      workerErrors: [],
    });
    latency.destroy();
    assert.equal(report.errors, 1, 'a duplicate is an error; cuts and resumes are not');
    const text = summaryTable(report);
    assert.match(text, /chaos cuts\s+5\s+\(3 rst, 2 silent; 2\.5 % per second\)/);
    assert.match(text, /connections lost\s+5/);
    assert.match(text, /reconnect attempts\s+6/);
    assert.match(text, /resumes\s+5\s+\(0 expired, 0 refused\)/);
    assert.match(text, /messages lost \/ dup \/ out of order\s+0 \/ 1 \/ 0/);
    assert.match(text, /result\s+FAIL \(1 errors\)/);
    const html = await renderHtmlReport(report);
    assert.match(html, /<th>chaos cuts<\/th><td class="num">5 \(3 rst, 2 silent; 2\.5 % per second\)<\/td>/);
    assert.match(html, /id="chart-resume"/);
    assert.doesNotMatch(await renderHtmlReport(clean), /id="chart-resume"/);
  });
});

class Capture implements LiveViewOutput {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('LiveView', () => {
  const report = sampleReport();
  const progress: LoadTestProgress = { config: report.config, totals: report.totals, errors: 0, stopping: false };
  const points = report.series as LoadTestPoint[];

  it('not on a TTY: one plain line per second', () => {
    const out = new Capture();
    const view = new LiveView(out, false);
    for (const point of points) view.update(point, progress);
    view.finish();
    const lines = out.text.split('\n');
    assert.equal(lines.length, 4, out.text);
    assert.match(lines[0] as string, /^\[\s+1s\] sessions 4\/4 \| out 200 pkt\/s .* \| rtt p50 .* \| errors 0$/);
    assert.doesNotMatch(out.text, /\r/);
  });

  it('on a TTY: one line rewritten in place, at most once a second, closed by finish()', () => {
    const out = new Capture();
    const view = new LiveView(out, true);
    view.update(points[0] as LoadTestPoint, progress);
    view.update(points[1] as LoadTestPoint, progress); // too soon: held back
    assert.equal(out.text.split('\r').length - 1, 1);
    assert.doesNotMatch(out.text, /\n/);
    view.finish();
    assert.equal(out.text.split('\r').length - 1, 2);
    assert.match(out.text, /^\r\[\s+1s\].*\x1b\[K\r\[\s+2s\].*\x1b\[K\n$/);
  });
});
