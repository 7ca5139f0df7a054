import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BotLoadError } from '../../../src/loadtest/bots/bot-loader.js';
import type { LoadTestReport } from '../../../src/loadtest/harness/load-test-report.js';
import type { LoadTestPoint } from '../../../src/loadtest/harness/run-aggregator.js';
import { runLoadTest } from '../../../src/loadtest/harness/run-load-test.js';
import { EchoSession } from '../../../src/samples/echo-session.js';
import { PacketRecorder } from '../../helpers/packet-recorder.js';
import { startServer } from '../../helpers/services.js';
import { cleanupAfter } from '../../helpers/wait.js';

const COUNTING_BOT = fileURLToPath(new URL('./fixtures/counting-bot.js', import.meta.url));
const NOT_A_BOT = fileURLToPath(new URL('./fixtures/not-a-bot.js', import.meta.url));

function sumOf(series: readonly LoadTestPoint[], key: 'packetsSent' | 'packetsReceived' | 'roundTrips' | 'connects'): number {
  return series.reduce((sum, point) => sum + point[key], 0);
}

/** What every finished run must satisfy, passed or not. */
function assertConsistent(report: LoadTestReport): void {
  const { totals } = report;
  assert.equal(sumOf(report.series, 'packetsSent'), totals.packetsSent, 'the seconds add up to the totals');
  assert.equal(sumOf(report.series, 'packetsReceived'), totals.packetsReceived);
  assert.equal(sumOf(report.series, 'connects'), totals.connects);
  assert.equal(report.latency.count, totals.roundTrips);
  assert.equal(
    report.errors,
    totals.connectFailures + totals.unexpectedDisconnects + totals.unanswered + totals.workerFailures +
      totals.messagesLost + totals.messagesDuplicated + totals.messagesOutOfOrder,
  );
  assert.equal(report.passed, report.errors === 0);
  for (let i = 1; i < report.series.length; i++) {
    assert.ok((report.series[i]?.t ?? 0) >= (report.series[i - 1]?.t ?? 0), 'time goes forward');
  }
}

describe('runLoadTest with worker processes', { timeout: 20_000 }, () => {
  it('echo bot, 2 workers, 2 s: every request is answered, counts add up, sessions close at the end only', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession(), { maxSessionCount: 100 });
    const points: LoadTestPoint[] = [];
    const report = await runLoadTest(
      { port: service.port, sessions: 20, workers: 2, durationMs: 2_000, intervalMs: 5 },
      { onPoint: (point) => points.push(point) },
    );
    assertConsistent(report);
    const { totals } = report;
    assert.equal(report.passed, true, JSON.stringify(totals));
    assert.equal(report.config.workers, 2);
    assert.equal(totals.connects, 20);
    assert.equal(totals.peakSessions, 20);
    assert.equal(service.acceptedCount, 20);
    assert.ok(totals.packetsSent > 200, `sent ${totals.packetsSent}`);
    assert.equal(totals.packetsReceived, totals.packetsSent, 'the drain waited for every echo');
    assert.equal(totals.requests, totals.packetsSent);
    assert.equal(totals.roundTrips, totals.packetsSent);
    assert.equal(totals.bytesReceived, totals.bytesSent);
    assert.equal(totals.unanswered, 0);
    assert.deepEqual(totals.disconnectsByCause, { SERVICE_CLOSING: 20 });
    assert.equal(report.drain.drained, true);
    assert.ok(report.series.length >= 2, `${report.series.length} seconds`);
    assert.deepEqual(points, report.series, 'onPoint saw every second, in order');
    assert.ok(report.latency.p50 > 0 && report.latency.p50 <= report.latency.p99 && report.latency.p99 <= report.latency.max);
  });

  it('the end of a run waits for answers in flight: a server that answers after 300 ms loses none', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(
      cleanup,
      () =>
        new PacketRecorder((session, id, body) => {
          const copy = Buffer.from(body);
          setTimeout(() => session.sendPacket(id, copy), 300);
        }),
      { maxSessionCount: 100 },
    );
    const report = await runLoadTest({ port: service.port, sessions: 6, workers: 2, durationMs: 1_000, intervalMs: 0 });
    assertConsistent(report);
    assert.equal(report.passed, true, JSON.stringify(report.totals));
    assert.equal(report.totals.packetsReceived, report.totals.packetsSent);
    assert.equal(report.totals.unanswered, 0);
    assert.equal(report.drain.drained, true);
    assert.ok(report.drain.maxDrainMs > 0, 'there was something to wait for');
  });

  it('answers that never come are unanswered after the drain timeout, and fail the run', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(
      cleanup,
      () =>
        new PacketRecorder((session, id, body) => {
          if (session.packets.length <= 2) session.sendPacket(id, body);
        }),
      { maxSessionCount: 100 },
    );
    const report = await runLoadTest({
      port: service.port,
      sessions: 4,
      workers: 2,
      durationMs: 600,
      intervalMs: 0,
      drainTimeoutMs: 200,
    });
    assertConsistent(report);
    const { totals } = report;
    assert.equal(report.drain.drained, false);
    assert.equal(totals.unanswered, 4, 'one request per session was never answered');
    assert.equal(totals.packetsSent, 12);
    assert.equal(totals.packetsReceived, 8);
    assert.equal(totals.unexpectedDisconnects, 0);
    assert.equal(report.errors, 4);
    assert.equal(report.passed, false);
  });

  it('loads a user bot module by a path relative to the cwd, with its options and custom counters', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession(), { maxSessionCount: 100 });
    const report = await runLoadTest({
      bot: relative(process.cwd(), COUNTING_BOT),
      port: service.port,
      sessions: 6,
      workers: 2,
      durationMs: 500,
      botExtra: { count: '5', tag: 'x' },
    });
    assertConsistent(report);
    assert.equal(report.passed, true, JSON.stringify(report.totals));
    assert.equal(report.config.botName, 'counting');
    assert.equal(report.config.botOptions.intervalMs, 0, "the bot's own default");
    assert.deepEqual(report.totals.counters, { 'echo-x': 30 });
    assert.equal(report.totals.roundTrips, 30);
  });

  it('rejects a module that exports no bot, and a missing one, before forking anything', async () => {
    await assert.rejects(runLoadTest({ bot: NOT_A_BOT, port: 1 }), BotLoadError);
    await assert.rejects(runLoadTest({ bot: './no/such/bot.js', port: 1 }), /cannot load bot module/);
  });
});
